/**
 * The look at start for endpoints with refused settings, when the database cannot be reached: a
 * real PostgreSQL stopped under the store. It logged the driver's error with its stack, the one
 * outage line in a process that did (a re-tester's outage, stopped just after the start); now one
 * warn line without a stack, as every loop says an outage. Any other failure keeps its stack.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditEndpointSettingsAtStart } from '../../src/operator/endpoint-settings-audit.ts';
import { openStore } from '../../src/store/open-store.ts';
import { startPostgres } from '../support/postgres.ts';

function capture() {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const log = {
    warn: (fields: object, message: string) => lines.push({ fields: { ...fields }, message }),
  };
  return { lines, log };
}

test('PostgreSQL down during the look at start: one warn line, no error object, no stack', async () => {
  const local = await startPostgres();
  const store = await openStore(await local.createDatabase());
  try {
    await store.createProject({ name: 'a' }, Date.now());
    await local.down();
    const { lines, log } = capture();
    await auditEndpointSettingsAtStart(store, log);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.match(lines[0]!.message, /the database cannot be reached; the look runs again at the next start$/);
    assert.equal(lines[0]!.fields.err, undefined, 'no error object, so no stack');
  } finally {
    await store.close().catch(() => undefined);
    await local.stop();
  }
});

test('any other failure of the look is logged with its error', async () => {
  const store = await openStore('sqlite::memory:');
  await store.close();
  const { lines, log } = capture();
  await auditEndpointSettingsAtStart(store, log);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!.message, 'could not look through the endpoints for refused settings');
  assert.ok(lines[0]!.fields.err instanceof Error);
});
