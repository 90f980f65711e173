/**
 * An endpoint's delete and an accept of its project in flight, on a real PostgreSQL, the accept in
 * another process's transaction held open at the racy point. The accept reads the project's
 * endpoints without locking them (accept-batch.ts: a 10,000-endpoint project is read on every
 * accept). Before, the delete neither waited for an accept that had read the endpoint nor made one
 * that read it before the delete's commit read it again: either stored a delivery for the endpoint
 * after its DELETE answered 204, which the dispatcher then closed with an "endpoint deleted"
 * attempt in the project's history.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { acceptBatchPostgres } from '../../src/store/postgres/accept-batch.ts';
import { deleteEndpointPostgres, fenceAcceptsPostgres } from '../../src/store/postgres/endpoint-writes.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';
import { lockWaitOn, withLockSessions } from '../support/postgres-lock-wait.ts';
import { endpointInput, eventInput, T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

const withClients = (fn: Parameters<typeof withLockSessions>[1]) => withLockSessions(server, fn);

test("an endpoint's delete waits for an accept in flight that fanned out to it, then closes what it made", () =>
  withClients(async (store, other, watch) => {
    const project = await store.createProject({ name: 'p' }, T0);
    const ep = await store.createEndpoint(endpointInput(project.id), 'whsec_a', T0);
    // Another process's accept batch, written but not committed (write-batch.ts commits it).
    await other.query('BEGIN');
    const [accepted] = await acceptBatchPostgres(other, [
      { projectId: project.id, events: [eventInput('a')], now: T0 },
    ]);
    const delivery = (accepted as { deliveries: { id: string }[] }[])[0]!.deliveries[0]!;
    const deleted = store.deleteEndpoint(project.id, ep.id, T0);
    const waited = await lockWaitOn(watch, 'projects');
    await other.query('COMMIT');
    assert.equal(await deleted, true);
    assert.deepEqual(
      { waited, status: (await store.getDelivery(project.id, delivery.id))?.status },
      { waited: true, status: 'failed' },
      'closed by the delete, before its 204',
    );
  }));

test("an accept that read the project's endpoints before an endpoint's delete committed reads them again", () =>
  withClients(async (store, other, watch) => {
    const project = await store.createProject({ name: 'p' }, T0);
    const gone = await store.createEndpoint(endpointInput(project.id), 'whsec_a', T0);
    const kept = await store.createEndpoint(
      endpointInput(project.id, { url: 'http://127.0.0.1:9/kept' }),
      'whsec_b',
      T0,
    );
    // The delete's writes, and the project row it then locks and writes (postgres-store.ts
    // deleteEndpoint), in another process's transaction not yet committed: the store's own
    // statements, so that a fence that only locked the row (no new version for the accept to see
    // as changed) fails here too.
    await other.query('BEGIN');
    assert.equal((await deleteEndpointPostgres(other, project.id, gone.id, 1000, T0)).deleted, true);
    await fenceAcceptsPostgres(other, project.id);
    // The accept's statement begins before that commit, so its snapshot still holds the endpoint.
    const accept = store.acceptEvents(project.id, [eventInput('a')], T0 + 1);
    const waited = await lockWaitOn(watch, 'projects');
    await other.query('COMMIT');
    const [result] = await accept;
    assert.deepEqual(
      { waited, endpoints: result!.deliveries.map((d) => d.endpointId) },
      { waited: true, endpoints: [kept.id] },
    );
  }));

test("an endpoint's delete whose wait for the accepts in flight runs past lock_timeout is done all the same (204, not 503 for an endpoint already gone)", async () => {
  const url = await server.createDatabase();
  const bounds = { idleInTransactionMs: 60_000, lockMs: 500, queryMs: 6_000, statementMs: 8_000 };
  const store = new PostgresStore(url, { bounds });
  await store.migrate();
  const other = new pg.Client(url);
  await other.connect();
  try {
    const project = await store.createProject({ name: 'p' }, T0);
    const ep = await store.createEndpoint(endpointInput(project.id), 'whsec_a', T0);
    // An accept batch holding the project's row (accept-batch.ts) longer than the store's lock_timeout:
    // steady accepts of other processes, one after another, do the same.
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM projects WHERE id = $1 FOR KEY SHARE', [project.id]);
    // Before, the fence's 55P03 failed the delete (answered 503) after its first transaction had
    // removed the endpoint.
    assert.equal(await store.deleteEndpoint(project.id, ep.id, T0), true);
    assert.equal(await store.getEndpoint(project.id, ep.id), null);
    await other.query('COMMIT');
  } finally {
    await other.end();
    await store.close();
  }
});
