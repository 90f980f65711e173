/**
 * The operator webhook's forwarder while its database is down: a real PostgreSQL stopped under it.
 * The loop polls every second (here every 5 ms); it logged an error with its stack at every round
 * (a re-tester's outage: one a second). Now it logs as the dispatcher and the retention purger do:
 * one warn line without a stack, then at most one per 10 s, and forwards what waited once the
 * database is back (the outbox keeps it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createForwarder } from '../../src/operator/forwarder.ts';
import { ensureOperatorEndpoint } from '../../src/operator/operator-project.ts';
import { openStore } from '../../src/store/open-store.ts';
import { projectWithEndpoints } from '../store/helpers.ts';
import { startPostgres } from '../support/postgres.ts';

test('a database outage under the operator webhook forwarder: one warn line per 10 s, no stack; forwarded once it is back', async () => {
  const local = await startPostgres();
  const store = await openStore(await local.createDatabase());
  try {
    let now = Date.now();
    const target = await ensureOperatorEndpoint(
      store,
      { url: 'http://127.0.0.1:9/ops', secret: null },
      { timeoutMs: 5_000, now },
    );
    const { project, endpoints } = await projectWithEndpoints(store, 1, now);
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const line = (level: string) => (fields: object, message: string) =>
      lines.push({ level, fields: { ...fields }, message });
    const forwarder = createForwarder({
      store,
      operatorProjectId: target.projectId,
      intervalMs: 5,
      clock: () => now,
      log: { warn: line('warn'), error: line('error') },
    });
    await local.down();
    forwarder.start();
    try {
      // Rounds fail for a while: every one of them once logged an error with its stack.
      await new Promise((r) => setTimeout(r, 1_500));
      assert.deepEqual(
        lines.map((l) => l.level),
        ['warn'],
        JSON.stringify(lines.map((l) => l.message)),
      );
      assert.match(lines[0]!.message, /^operator webhook: the database cannot be reached/);
      assert.equal(lines[0]!.fields.err, undefined, 'no error object, so no stack');
      assert.doesNotMatch(JSON.stringify(lines), /\n\s+at /, 'no stack anywhere');

      now += 10_000;
      for (let i = 0; i < 300 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(lines.length, 2, 'the next line after 10 s');
      assert.ok(Number(lines[1]!.fields.failedSinceLastLine) >= 2, JSON.stringify(lines[1]));

      // Back: an operational event written now reaches the operator project.
      await local.up();
      let disabled = false;
      for (let i = 0; i < 100 && !disabled; i++) {
        disabled = await store.updateEndpoint(project.id, endpoints[0]!.id, { active: false }, now).then(
          () => true,
          () => false,
        );
        if (!disabled) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(disabled, 'the store answers again');
      let types: string[] = [];
      for (let i = 0; i < 100 && types.length === 0; i++) {
        forwarder.wake();
        await new Promise((r) => setTimeout(r, 50));
        types = (await store.listEvents(target.projectId, { limit: 10 })).data.map((e) => e.type);
      }
      assert.deepEqual(types, ['endpoint.disabled']);
      assert.equal(
        lines.filter((l) => l.level === 'error').length,
        0,
        JSON.stringify(lines.filter((l) => l.level === 'error')),
      );
    } finally {
      await forwarder.stop();
    }
  } finally {
    await store.close().catch(() => undefined);
    await local.stop();
  }
});
