/**
 * The operator webhook's forwarder (src/operator/forwarder.ts) on PostgreSQL passes over operational
 * events older than 23 h (STALE_MS, under the 24 h idempotency window). Their created_at is in the
 * database's time; until 2026-12-08 the forwarder compared it with its process's own clock, so a
 * process S ahead passed over events S short of 23 h old (never sent), and one S behind sent events
 * up to S past it (a replay may then store them twice). Each case: a store in step writes an
 * operational event just inside the 23 h and two just past it; a forwarder on a store S off (store
 * option `clock`, as a process whose clock is wrong) that has read the database's clock, as the
 * clock check does at start (databaseNow), sends the first alone.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createForwarder, STALE_MS } from '../../src/operator/forwarder.ts';
import { ensureOperatorEndpoint } from '../../src/operator/operator-project.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';
import { projectWithEndpoints } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

for (const shiftMs of [20_000, -20_000, 2 * 3_600_000, -2 * 3_600_000]) {
  test(`a forwarder ${shiftMs / 1000} s off sends what is under 23 h old by the database's clock, and only that`, async () => {
    const url = await server.createDatabase();
    const inStep = new PostgresStore(url);
    await inStep.migrate();
    const clock = () => Date.now() + shiftMs;
    const off = new PostgresStore(url, { clock });
    try {
      await off.databaseNow(); // the clock check's reading at start
      const now = Date.now();
      const target = await ensureOperatorEndpoint(
        inStep,
        { url: 'http://127.0.0.1:9/ops', secret: null },
        { timeoutMs: 5_000, now },
      );
      const { project, endpoints } = await projectWithEndpoints(inStep, 1, now - STALE_MS - 3_600_000);
      const ep = endpoints[0]!;
      // Half the shift past 23 h old (two), and half the shift short of it (one).
      const margin = Math.abs(shiftMs) / 2;
      await inStep.updateEndpoint(project.id, ep.id, { active: false }, now - STALE_MS - margin);
      await inStep.enableEndpoint(project.id, ep.id, now - STALE_MS - margin + 1);
      await inStep.updateEndpoint(project.id, ep.id, { active: false }, now - STALE_MS + margin);
      const ops = await inStep.listUnforwardedOperationalEvents(10);
      assert.equal(ops.length, 3);

      const stale: number[] = [];
      const forwarder = createForwarder({
        store: off,
        operatorProjectId: target.projectId,
        clock,
        log: {
          warn: (fields) => stale.push((fields as { count: number }).count),
          error: (f) => assert.fail(JSON.stringify(f)),
        },
      });
      assert.equal(await forwarder.runOnce(), 3);
      const sent = (await inStep.listEvents(target.projectId, { limit: 10 })).data;
      assert.deepEqual(
        sent.map((e) => (e.payload as { operationalEventId: string }).operationalEventId),
        [ops[2]!.id],
        'the one under 23 h old is sent, the two past it are not',
      );
      assert.deepEqual(stale, [2]);
    } finally {
      await off.close();
      await inStep.close();
    }
  });
}
