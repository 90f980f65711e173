/**
 * A record write that disabled its endpoint, whose COMMIT's answer was lost (the connection cut
 * while PostgreSQL committed), written again and answered by the look-up of what it stored
 * (stored-records.ts): the deliveries its disable left for later batches (park-batch.ts) are
 * parked as after any disable, not left pending until a worker claims each (a retry hours away).
 * A real PostgreSQL behind a loopback proxy that cuts that COMMIT's answer. And such a write by a
 * worker whose clock is off finds its disable, stored in the database's time, when it tries again.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createRecordQueue } from '../../src/delivery/record-queue.ts';
import { parkBatch } from '../../src/store/park-batch.ts';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.ts';
import type { RecordOptions } from '../../src/store/store.ts';
import { commitAnswerCuttingProxy } from '../e2e/commit-answer-cutting-proxy.ts';
import { withPostgres } from '../support/postgres.ts';
import { attemptRecord, eventInput, projectWithEndpoints, T0, withRows } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

/**
 * A new database: a store on it directly (migrated), and `store` (with `options`) behind a proxy
 * that cuts the answer of the next record write's COMMIT once told to (proxy.state.cutNextCommit).
 */
async function behindCuttingProxy(options: PostgresStoreOptions = {}) {
  const url = new URL(await server.createDatabase());
  const direct = new PostgresStore(url.toString());
  await direct.migrate();
  const proxy = await commitAnswerCuttingProxy(Number(url.port), 'INSERT INTO attempts (');
  const proxied = new URL(url);
  proxied.port = String(proxy.port);
  return { url, direct, proxy, store: new PostgresStore(proxied.toString(), options) };
}

test('postgres: a disable answered by the look-up of a write whose commit answer was lost parks all its deliveries', async () => {
  const { url, direct, proxy, store } = await behindCuttingProxy();
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

/**
 * The record queue of a worker whose clock is off stores its disable in the database's time
 * (RecordOptions.disabledAt, its `now` moved by the offset it last proved), worked out once before
 * the first try: a try again after the commit's answer was lost still finds its disable by it when
 * the worker has proved another offset in between (a clock check, a claim), and reports it once.
 */
test('postgres: a worker ahead whose offset is proved anew between a lost commit and its try again finds its disable', async () => {
  let shiftMs = 20_000;
  const clock = () => Date.now() + shiftMs;
  const { direct, proxy, store } = await behindCuttingProxy({ clock });
  try {
    await store.databaseNow(); // the clock check's reading at start: 20 s ahead
    const { project, endpoints } = await projectWithEndpoints(direct, 1, Date.now() - 2_000);
    const endpointId = endpoints[0]!.id;
    await direct.acceptEvents(project.id, [eventInput('a'), eventInput('a')], Date.now() - 1_000);
    const [claimed] = await store.claimDueDeliveries({
      limit: 1,
      leaseMs: 60_000,
      now: clock(),
      workerId: 'w1',
    });
    assert.ok(claimed);
    const tries: RecordOptions[] = [];
    const disabled: string[] = [];
    const errors: unknown[] = [];
    const queue = createRecordQueue({
      // The real store; before its try again, the worker's clock moves 5 s more and its clock
      // check proves the new offset.
      store: {
        recordAttempts: async (records, options) => {
          tries.push(options);
          if (tries.length === 2) {
            shiftMs = 25_000;
            await store.databaseNow();
          }
          return store.recordAttempts(records, options);
        },
        databaseTime: (at) => store.databaseTime(at),
      },
      failureThreshold: 1,
      clock,
      onWritten: () => {},
      onEndpointDisabled: (d) => disabled.push(d.endpointId),
      onError: (error) => errors.push(error),
    });
    proxy.state.cutNextCommit = true;
    queue.add(attemptRecord(claimed.delivery, claimed.event, { outcome: 'failed', startedAt: clock() }));
    await queue.flush();
    assert.deepEqual(errors, []);
    assert.equal(proxy.state.cut, 1, "the first try's answer was lost");
    assert.deepEqual(
      tries.map((t) => t.retried ?? false),
      [false, true],
    );
    const [first, again] = tries;
    assert.ok(
      Math.abs(store.databaseTime(first!.now) - first!.disabledAt! - -5_000) < 1_000,
      'the offset proved anew in between is 5 s more',
    );
    assert.equal(again!.disabledAt, first!.disabledAt, 'every try stores its disable at one time');
    assert.deepEqual(disabled, [endpointId], 'the disable found by the try again, reported once');
    const endpoint = await direct.getEndpoint(project.id, endpointId);
    assert.equal(endpoint?.disabledAt, first!.disabledAt);
    assert.ok(Math.abs(endpoint!.disabledAt! - Date.now()) < 5_000, "in the database's time");
    const events = (await direct.listOperationalEvents(project.id, { limit: 10 })).data;
    assert.equal(events.filter((e) => e.type === 'endpoint.disabled').length, 1);
  } finally {
    await store.close();
    await direct.close();
    await proxy.close();
  }
});
