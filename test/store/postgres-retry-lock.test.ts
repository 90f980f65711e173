/**
 * A delivery's retry and a delete (or disable) of its endpoint or its project at the same time, on a
 * real PostgreSQL, other processes' transactions held open at the racy point. The retry reads the
 * endpoint and the project under locks those writes conflict with (due-deliveries.ts
 * retryDeliveryPostgres), so each comes wholly before or after it. Read without them, the retry
 * found the endpoint as it was before a delete that was about to commit, then waited for the
 * delivery the delete was closing and made it pending again: reopened after the delete answered 204.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { withPostgres } from '../support/postgres.ts';
import { lockWaitOn, withLockSessions } from '../support/postgres-lock-wait.ts';
import { eventInput, projectWithEndpoints, T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

const withClients = (fn: Parameters<typeof withLockSessions>[1]) => withLockSessions(server, fn);

test("a retry waits for a delete of the delivery's endpoint in flight, then is refused and leaves the delivery closed", () =>
  withClients(async (store, other, watch) => {
    const { project, endpoints } = await projectWithEndpoints(store, 1);
    const ep = endpoints[0]!;
    const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
    const delivery = accepted!.deliveries[0]!;
    // Another process's endpoint delete, between its writes and its commit (endpoint-writes.ts).
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 FOR UPDATE', [
      project.id,
      ep.id,
    ]);
    await other.query(
      `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL WHERE project_id = $1 AND endpoint_id = $2`,
      [project.id, ep.id],
    );
    await other.query('DELETE FROM endpoints WHERE project_id = $1 AND id = $2', [project.id, ep.id]);
    const retry = store.retryDelivery(project.id, delivery.id, T0 + 1);
    const waited = await lockWaitOn(watch, 'endpoints');
    await other.query('COMMIT');
    assert.deepEqual(
      { waited, retry: await retry, status: (await store.getDelivery(project.id, delivery.id))?.status },
      { waited: true, retry: 'endpoint-deleted', status: 'failed' },
    );
  }));

test("a retry waits for a disable of the delivery's endpoint in flight, then is refused and leaves it parked", () =>
  withClients(async (store, other, watch) => {
    const { project, endpoints } = await projectWithEndpoints(store, 1);
    const ep = endpoints[0]!;
    const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
    const delivery = accepted!.deliveries[0]!;
    // An attempt record disabling the endpoint (attempt-records.ts), before its commit.
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 FOR NO KEY UPDATE', [
      project.id,
      ep.id,
    ]);
    await other.query(`UPDATE endpoints SET status = 'disabled' WHERE project_id = $1 AND id = $2`, [
      project.id,
      ep.id,
    ]);
    await other.query(`UPDATE deliveries SET status = 'parked' WHERE project_id = $1 AND endpoint_id = $2`, [
      project.id,
      ep.id,
    ]);
    const retry = store.retryDelivery(project.id, delivery.id, T0 + 1);
    const waited = await lockWaitOn(watch, 'endpoints');
    await other.query('COMMIT');
    assert.deepEqual(
      { waited, retry: await retry, status: (await store.getDelivery(project.id, delivery.id))?.status },
      { waited: true, retry: 'endpoint-disabled', status: 'parked' },
    );
  }));

test("a callback's retry waits for its project's delete in flight, then is refused (the delete closes the project's callbacks next)", () =>
  withClients(async (store, other, watch) => {
    const project = await store.createProject({ name: 'p' }, T0);
    const [accepted] = await store.acceptEvents(
      project.id,
      [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' })],
      T0,
    );
    const callback = accepted!.deliveries[0]!;
    // The delete's first step (project-delete.ts), before its commit.
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [project.id]);
    await other.query('UPDATE projects SET deleting = true WHERE id = $1', [project.id]);
    const retry = store.retryDelivery(project.id, callback.id, T0 + 1);
    const waited = await lockWaitOn(watch, 'projects');
    await other.query('COMMIT');
    assert.deepEqual({ waited, retry: await retry }, { waited: true, retry: null });
  }));
