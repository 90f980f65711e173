/**
 * A record write that disabled its endpoint, whose COMMIT's answer was lost (the connection cut
 * while PostgreSQL committed), written again and answered by the look-up of what it stored
 * (stored-records.ts): the deliveries its disable left for later batches (park-batch.ts) are
 * parked as after any disable, not left pending until a worker claims each (a retry hours away).
 * A real PostgreSQL behind a loopback proxy that cuts that COMMIT's answer.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { parkBatch } from '../../src/store/park-batch.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { commitAnswerCuttingProxy } from '../e2e/commit-answer-cutting-proxy.ts';
import { withPostgres } from '../support/postgres.ts';
import { attemptRecord, eventInput, projectWithEndpoints, T0, withRows } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

test('postgres: a disable answered by the look-up of a write whose commit answer was lost parks all its deliveries', async () => {
  const url = new URL(await server.createDatabase());
  const direct = new PostgresStore(url.toString());
  await direct.migrate();
  const proxy = await commitAnswerCuttingProxy(Number(url.port), 'INSERT INTO attempts (');
  const proxied = new URL(url);
  proxied.port = String(proxy.port);
  const store = new PostgresStore(proxied.toString());
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { project, endpoints } = await projectWithEndpoints(direct, 1);
    const endpointId = endpoints[0]!.id;
    await direct.acceptEvents(
      project.id,
      Array.from({ length: 12 }, () => eventInput('a')),
      T0,
    );
    const [claimed] = await store.claimDueDeliveries({ limit: 1, leaseMs: 60_000, now: T0, workerId: 'w1' });
    const records = [
      attemptRecord(claimed!.delivery, claimed!.event, { outcome: 'failed', startedAt: T0 + 1 }),
    ];
    const options = { now: T0 + 10, failureThreshold: 1 };
    const result = await withRows(parkBatch, 4, async () => {
      proxy.state.cutNextCommit = true;
      await assert.rejects(store.recordAttempts(records, options), 'the answer was lost');
      assert.equal(proxy.state.cut, 1);
      return store.recordAttempts(records, { ...options, retried: true });
    });
    assert.deepEqual(result.disabledEndpoints, [
      { projectId: project.id, endpointId, reason: 'consecutive_failures' },
    ]);
    assert.deepEqual(result.statuses, ['parked']);
    const pending = async () =>
      Number(
        (
          await client.query(
            "SELECT count(*) AS n FROM deliveries WHERE endpoint_id = $1 AND status = 'pending'",
            [endpointId],
          )
        ).rows[0].n,
      );
    for (let i = 0; (await pending()) > 0 && i < 50; i++) await sleep(100);
    assert.equal(await pending(), 0, 'none left pending: the endpoint lists them all parked');
    const parked = (await direct.listOperationalEvents(project.id, { limit: 10 })).data.find(
      (e) => e.type === 'endpoint.disabled',
    );
    assert.equal(
      (parked?.data as { parked?: number } | undefined)?.parked,
      12,
      'as endpoint.disabled counts',
    );
  } finally {
    await client.end();
    await store.close();
    await direct.close();
    await proxy.close();
  }
});
