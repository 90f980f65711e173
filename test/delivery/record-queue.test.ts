/**
 * The dispatcher's record queue on a real SQLite store: batches, order, and the unrecorded bounds
 * (records, and bytes); on a real PostgreSQL: a write that deadlocked, or that found the database
 * out of reach, is written again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createRecordQueue } from '../../src/delivery/record-queue.ts';
import { openStore } from '../../src/store/open-store.ts';
import { QueryTimeoutError } from '../../src/store/postgres/pool.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { AttemptRecord, Store } from '../../src/store/store.ts';
import { allPages, attemptRecord, eventInput, projectWithEndpoints, SECOND, T0 } from '../store/helpers.ts';
import { filePostgres, startPostgres } from '../support/postgres.ts';

async function withStore(fn: (store: Store) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-records-'));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  await store.migrate();
  try {
    await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One event to one endpoint, its delivery claimed by worker w1. */
async function claimOne(store: Store) {
  const { project, endpoints } = await projectWithEndpoints(store, 1);
  const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
  const [claim] = await store.claimDueDeliveries({ limit: 1, leaseMs: 60 * SECOND, now: T0, workerId: 'w1' });
  assert.ok(claim);
  return { project, endpoints, accepted, claim };
}

/**
 * A queue on `store` whose failures (onError), writes tried again (onBusy), records reported
 * written (onRecorded) and endpoints disabled (onEndpointDisabled) are kept.
 */
function watchedQueue(store: Store, now: number, failureThreshold = 10) {
  const errors: unknown[] = [];
  const busy: unknown[] = [];
  /** The records whose write finished, written or given up (onSettled). */
  const settled: AttemptRecord[] = [];
  const recorded: [AttemptRecord, string | null][] = [];
  const disabled: { projectId: string; endpointId: string; reason: string }[] = [];
  const queue = createRecordQueue({
    store,
    failureThreshold,
    clock: () => now,
    onWritten: () => {},
    onEndpointDisabled: (d) => disabled.push(d),
    onRecorded: (record, status) => recorded.push([record, status]),
    onSettled: (record) => settled.push(record),
    onError: (error) => errors.push(error),
    onBusy: (error) => busy.push(error),
  });
  return { queue, errors, busy, settled, recorded, disabled };
}

test('256 attempts waiting for their write make the queue full until a write finishes; every record is written', async () => {
  await withStore(async (store) => {
    const { project } = await projectWithEndpoints(store, 1);
    const accepted = await store.acceptEvents(
      project.id,
      Array.from({ length: 300 }, () => eventInput('a')),
      T0,
    );
    const records = accepted.map((a) => attemptRecord(a.deliveries[0]!, a.event));
    const written: boolean[] = [];
    const queue = createRecordQueue({
      store,
      failureThreshold: 10,
      clock: () => T0,
      onWritten: (wasFull) => written.push(wasFull),
      onEndpointDisabled: () => assert.fail('nothing fails here'),
      onError: (error) => assert.fail(String(error)),
    });
    for (const r of records.slice(0, 255)) queue.add(r);
    assert.equal(queue.full, false, '255 waiting');
    queue.add(records[255]!);
    assert.equal(queue.full, true, '256 waiting: the dispatcher starts nothing more');
    for (const r of records.slice(256)) queue.add(r);
    await queue.flush();
    assert.equal(queue.full, false);
    // Written in batches of 100 as they filled, then the rest on flush: the first write found it full.
    assert.deepEqual(written, [true, false, false]);
    const attempts = await allPages((cursor) => store.listAttempts(project.id, { limit: 100, cursor }));
    assert.equal(attempts.flat().length, 300);
    const delivery = await store.getDelivery(project.id, accepted[299]!.deliveries[0]!.id);
    assert.equal(delivery?.status, 'succeeded');
  });
});

test('records holding maxBytes of URLs and bodies make the queue full until a write finishes; every record is written', async () => {
  await withStore(async (store) => {
    const { project } = await projectWithEndpoints(store, 1);
    const accepted = await store.acceptEvents(
      project.id,
      Array.from({ length: 5 }, () => eventInput('a')),
      T0,
    );
    // A form body of a 1 MiB event (hmac-sha1-url) is ~3 MiB; 1 MiB each here, against 4 MiB.
    const records = accepted.map((a) => {
      const record = attemptRecord(a.deliveries[0]!, a.event);
      record.attempt.request.body = 'b'.repeat(1024 * 1024);
      return record;
    });
    const written: boolean[] = [];
    const queue = createRecordQueue({
      store,
      maxBytes: 4 * 1024 * 1024,
      failureThreshold: 10,
      clock: () => T0,
      onWritten: (wasFull) => written.push(wasFull),
      onEndpointDisabled: () => assert.fail('nothing fails here'),
      onError: (error) => assert.fail(String(error)),
    });
    for (const r of records.slice(0, 3)) queue.add(r);
    assert.equal(queue.full, false, '3 MiB waiting');
    queue.add(records[3]!);
    assert.equal(queue.full, true, '4 MiB waiting: the dispatcher starts nothing more');
    queue.add(records[4]!);
    await queue.flush();
    assert.equal(queue.full, false);
    assert.deepEqual(written, [true]);
    const attempts = await allPages((cursor) => store.listAttempts(project.id, { limit: 100, cursor }));
    assert.equal(attempts.flat().length, 5);
  });
});

test('a single record is written within a few milliseconds without a flush', async () => {
  await withStore(async (store) => {
    const { project } = await projectWithEndpoints(store, 1);
    const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
    let resolveWritten: () => void;
    const writtenOnce = new Promise<void>((r) => (resolveWritten = r));
    const queue = createRecordQueue({
      store,
      failureThreshold: 10,
      clock: () => T0,
      onWritten: () => resolveWritten(),
      onEndpointDisabled: () => {},
      onError: (error) => assert.fail(String(error)),
    });
    queue.add(attemptRecord(accepted!.deliveries[0]!, accepted!.event));
    await writtenOnce;
    const delivery = await store.getDelivery(project.id, accepted!.deliveries[0]!.id);
    assert.equal(delivery?.attempts, 1);
  });
});

/** The file's PostgreSQL, for the tests that need no server of their own. */
const postgres = filePostgres();

// Each test on a server of its own (those that stop, restart or reconfigure it) or on a database
// of the file's: at once, since most of each is waiting (a cluster's start, lock and deadlock
// timeouts, an outage's retries), not work.
describe('the record queue on PostgreSQL', { concurrency: true }, () => {
  test('a write the database aborted as a deadlock is written again: the attempt is stored, nothing reported', async () => {
    const server = await postgres();
    const url = await server.createDatabase();
    const store = new PostgresStore(url);
    await store.migrate();
    const other = new pg.Client(url);
    await other.connect();
    try {
      const { project, endpoints, accepted, claim } = await claimOne(store);
      const { queue, errors, busy, settled } = watchedQueue(store, T0 + 1);
      // Another transaction holds the delivery; the record's write locks the endpoint, then waits
      // for the delivery; that transaction then asks for the endpoint: a deadlock, and the write is
      // the one PostgreSQL aborts: its deadlock_timeout (1 s) runs out first. The other's is made
      // long, so that it does not run out first on a loaded machine (it began to wait only ~10 ms
      // after the write, and in one CI run PostgreSQL aborted it instead).
      await other.query("SET deadlock_timeout = '60s'");
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM deliveries WHERE project_id = $1 AND id = $2 FOR UPDATE', [
        project.id,
        claim.delivery.id,
      ]);
      const record = attemptRecord(claim.delivery, claim.event);
      queue.add(record);
      const flushed = queue.flush();
      for (let i = 0; ; i++) {
        const waiting = await other.query(
          `SELECT 1 FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        if (waiting.rowCount) break;
        assert.ok(i < 500, 'the write waits for the delivery');
        await new Promise((r) => setTimeout(r, 10));
      }
      // Granted once the write's transaction is rolled back, so it had locked the endpoint.
      await other.query('SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 FOR UPDATE', [
        project.id,
        endpoints[0]!.id,
      ]);
      assert.equal(queue.unrecorded, 1, 'not written yet');
      assert.deepEqual(settled, [], 'not settled while it is written again');
      await other.query('COMMIT');
      await flushed;
      assert.deepEqual(errors, []);
      assert.deepEqual(settled, [record], 'settled once, written');
      assert.deepEqual(
        busy.map((e) => (e as { code?: string }).code),
        ['40P01'],
        'the retry is reported as busy (counted, logged throttled)',
      );
      assert.equal(queue.unrecorded, 0);
      const delivery = await store.getDelivery(project.id, accepted!.deliveries[0]!.id);
      assert.deepEqual([delivery?.status, delivery?.attempts], ['succeeded', 1]);
      const attempts = await store.listAttempts(project.id, { limit: 10 });
      assert.equal(attempts.data.length, 1);
    } finally {
      await other.end();
      await store.close();
    }
  });

  test('a write tried again once the database is back, that finds its attempt stored (the cut write had committed), is done: no error, the attempt stored once, and what the first write did reported', async () => {
    const server = await startPostgres();
    const store = new PostgresStore(await server.createDatabase());
    await store.migrate();
    try {
      const { project, endpoints, accepted, claim } = await claimOne(store);
      // A failure at a threshold of 1: the write disables the endpoint and parks the delivery.
      const record = attemptRecord(claim.delivery, claim.event, { outcome: 'failed' });
      // Committed, but the connection was cut before its answer came: the queue still holds it (its
      // first try ran at the queue's clock, T0 + 2, as every try of it does).
      await store.recordAttempts([record], { now: T0 + 2, failureThreshold: 1 });
      await server.down('fast');
      const { queue, errors, busy, recorded, disabled } = watchedQueue(store, T0 + 2, 1);
      queue.add(record);
      const flushed = queue.flush();
      for (let i = 0; busy.length === 0; i++) {
        assert.ok(i < 200, 'the write finds the database out of reach');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(queue.unrecorded, 1, 'kept to be written again');
      await server.up();
      await flushed;
      assert.deepEqual(errors, []);
      assert.equal(queue.unrecorded, 0);
      // Counted as the first write left it (herald_deliveries_total), its disable reported (the
      // count and the warning line).
      assert.deepEqual(recorded, [[record, 'parked']]);
      assert.deepEqual(disabled, [
        { projectId: project.id, endpointId: endpoints[0]!.id, reason: 'consecutive_failures' },
      ]);
      const delivery = await store.getDelivery(project.id, accepted!.deliveries[0]!.id);
      assert.deepEqual([delivery?.status, delivery?.attempts], ['parked', 1]);
      assert.equal((await store.listAttempts(project.id, { limit: 10 })).data.length, 1);
    } finally {
      await store.close();
      await server.stop();
    }
  });

  test('a write whose COMMIT timed out (a synchronous standby that does not answer) is written again until it is known stored, and counted', async () => {
    // Every commit waits for a standby that never answers. The record write's COMMIT passes the
    // client's query bound (QueryTimeoutError: it may have committed); the write tried again looks
    // for its attempt (not visible while that commit waits) and waits for the delivery's lock, which
    // the stalled transaction holds, until lock_timeout (55P03). Before, after 3 such waits the
    // write was given up, and its attempts, stored once the standby came back, were never counted.
    const server = await startPostgres({ settings: { synchronous_commit: 'on' } });
    const url = await server.createDatabase();
    const bounds = { idleInTransactionMs: 500, lockMs: 600, queryMs: 800, statementMs: 1_000 };
    const store = new PostgresStore(url, { bounds });
    await store.migrate();
    const admin = new pg.Client(server.url);
    await admin.connect();
    const standby = async (names: string) => {
      await admin.query(`ALTER SYSTEM SET synchronous_standby_names = '${names}'`);
      await admin.query('SELECT pg_reload_conf()');
      // Applied by every backend at its next command; a new session shows it once it is read.
      for (let i = 0; ; i++) {
        const probe = new pg.Client(url);
        await probe.connect();
        const { rows } = await probe.query('SHOW synchronous_standby_names');
        await probe.end();
        if (rows[0].synchronous_standby_names === names) break;
        assert.ok(i < 100, 'the setting is applied');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      const { project, endpoints, accepted, claim } = await claimOne(store);
      const record = attemptRecord(claim.delivery, claim.event, { outcome: 'failed' });
      const { queue, errors, busy, recorded, disabled } = watchedQueue(store, T0 + 2, 1);
      await admin.query('SET synchronous_commit = local'); // the admin's own commands do not wait
      await standby('ghost');
      queue.add(record);
      const flushed = queue.flush();
      // Past the client's bound, then lock waits (0.6 s each): the 4th was given up before.
      const lockWaits = () => busy.filter((e) => (e as { code?: string }).code === '55P03').length;
      for (let i = 0; lockWaits() < 4 && errors.length === 0; i++) {
        assert.ok(i < 1_000, 'the write tried again waits for the stalled commit');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(
        busy.some((e) => e instanceof QueryTimeoutError),
        'the COMMIT passed the bound',
      );
      assert.deepEqual(errors, [], 'not given up while it may be stored');
      assert.equal(queue.unrecorded, 1, 'kept to be written again');
      await standby('');
      await flushed;
      assert.deepEqual(errors, []);
      assert.deepEqual(recorded, [[record, 'parked']], 'counted as the first write left it');
      assert.deepEqual(disabled, [
        { projectId: project.id, endpointId: endpoints[0]!.id, reason: 'consecutive_failures' },
      ]);
      const delivery = await store.getDelivery(project.id, accepted!.deliveries[0]!.id);
      assert.deepEqual([delivery?.status, delivery?.attempts], ['parked', 1]);
      assert.equal((await store.listAttempts(project.id, { limit: 10 })).data.length, 1, 'stored once');
    } finally {
      await admin.query('ALTER SYSTEM RESET synchronous_standby_names').catch(() => {});
      await admin.query('SELECT pg_reload_conf()').catch(() => {});
      await admin.end();
      await store.close();
      await server.stop();
    }
  });

  test('a write whose only tries out of reach could not connect (nothing stored) is given up after 3 busy tries, as any write that cannot be stored', async () => {
    // The first try is refused at log-in (the role may not log in yet: a connect failure, nothing
    // sent, as a refused or timed-out connect, or a wait for a free connection past its bound), so
    // nothing of it can be stored. The next tries wait for the delivery's lock, which another
    // transaction holds, until lock_timeout (55P03). Since the write was marked `retried` by any
    // out-of-reach failure, it was waited out as an outage (the queue full: the worker claiming and
    // starting nothing) for as long as that lock was held, instead of given up after BUSY_RETRY_MS.
    const server = await postgres();
    const url = await server.createDatabase();
    const owner = new PostgresStore(url);
    await owner.migrate();
    const admin = new pg.Client(url);
    await admin.connect();
    const role = `rec_${Math.random().toString(36).slice(2, 10)}`;
    await admin.query(`CREATE ROLE ${role} NOLOGIN`);
    await admin.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`);
    const asRole = new URL(url);
    asRole.username = role;
    asRole.password = '';
    const bounds = { idleInTransactionMs: 500, lockMs: 300, queryMs: 2_000, statementMs: 2_500 };
    const store = new PostgresStore(asRole.toString(), { bounds });
    const locker = new pg.Client(url);
    await locker.connect();
    try {
      const { project, claim } = await claimOne(owner);
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM deliveries WHERE project_id = $1 AND id = $2 FOR UPDATE', [
        project.id,
        claim.delivery.id,
      ]);
      const { queue, errors, busy, settled } = watchedQueue(store, T0 + 2);
      const record = attemptRecord(claim.delivery, claim.event);
      queue.add(record);
      const flushed = queue.flush();
      for (let i = 0; busy.length === 0; i++) {
        assert.ok(i < 500, 'the first try is refused at log-in');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal((busy[0] as { code?: string }).code, '28000', 'refused at log-in: nothing was sent');
      await admin.query(`ALTER ROLE ${role} LOGIN`);
      const lockWaits = () => busy.filter((e) => (e as { code?: string }).code === '55P03').length;
      for (let i = 0; errors.length === 0 && lockWaits() < 6; i++) {
        assert.ok(i < 2_000, 'the write waits for the lock');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(lockWaits(), 3, 'tried again after 3 lock waits, no more');
      assert.deepEqual(
        errors.map((e) => (e as { code?: string }).code),
        ['55P03'],
        'given up: it cannot have been stored',
      );
      assert.deepEqual(settled, [record]);
      assert.equal(queue.full, false, 'not waited out as an outage');
      await flushed;
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      await store.close();
      await owner.close();
      await admin.query(`DROP OWNED BY ${role}`).catch(() => {});
      await admin.query(`DROP ROLE ${role}`).catch(() => {});
      await admin.end();
    }
  });

  test('a write that finds the database out of reach makes the queue full until it is written; a stop gives it up after giveUpAfter, not before', async () => {
    const server = await startPostgres();
    const store = new PostgresStore(await server.createDatabase());
    await store.migrate();
    try {
      const { project, accepted, claim } = await claimOne(store);
      await server.down('fast');
      const { queue, errors, busy, settled } = watchedQueue(store, T0 + 1);
      const record = attemptRecord(claim.delivery, claim.event);
      queue.add(record);
      assert.equal(queue.full, false, 'one record waiting');
      const flushed = queue.flush();
      for (let i = 0; busy.length === 0; i++) {
        assert.ok(i < 200, 'the write finds the database out of reach');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(queue.full, true, 'the dispatcher starts nothing more while its records wait');
      // Tried again and again (0.25, 0.5, 1, 2, 2… s apart, ±50 %), nothing given up.
      await new Promise((r) => setTimeout(r, 4_000));
      assert.ok(busy.length >= 3, `tried ${busy.length} times`);
      assert.deepEqual(errors, []);
      assert.equal(queue.full, true);
      assert.deepEqual(settled, [], 'its attempt is still unsettled (the dispatcher claims it not again)');
      // A stop: given up 1 s later, with the wait under way ended then.
      const stopAt = Date.now();
      queue.giveUpAfter(1_000);
      await flushed;
      const took = Date.now() - stopAt;
      assert.ok(took >= 1_000 && took < 2_500, `given up after ${took} ms`);
      assert.equal(errors.length, 1, 'reported once, as given up');
      assert.deepEqual(settled, [record], 'settled, given up: its lease brings the delivery back');
      assert.equal(queue.full, false);
      assert.equal(queue.unrecorded, 0);
      await server.up();
      const delivery = await store.getDelivery(project.id, accepted!.deliveries[0]!.id);
      assert.deepEqual([delivery?.status, delivery?.attempts], ['pending', 0], 'left to its lease');
    } finally {
      await store.close();
      await server.stop();
    }
  });
});
