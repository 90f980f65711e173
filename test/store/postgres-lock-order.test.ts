/**
 * Two workers' attempt records that share deliveries, on a real PostgreSQL: a lease ran out, the
 * first worker's records come late while the second, which claimed the deliveries again, records
 * them too; or the first disables the endpoint and parks the deliveries the second records late; or
 * the second gives back those of its claim its byte budget left out while the first records them.
 * Every write of several deliveries locks them in key order, whatever the order the attempts
 * finished in or the index a plan walks, so the two wait for each other at most, never deadlock.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';
import { attemptRecord, eventInput, projectWithEndpoints, SECOND, T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

test('two workers recording the same deliveries in opposite orders at once: no deadlock, both batches written', async () => {
  const url = await server.createDatabase();
  const [a, b] = [new PostgresStore(url), new PostgresStore(url)];
  await a.migrate();
  const stats = new pg.Client(url);
  await stats.connect();
  try {
    const { project } = await projectWithEndpoints(a, 4);
    const outcomes: string[] = [];
    let now = T0;
    // Before the rows were sorted most rounds deadlocked (8 of 10 in a scratch run).
    for (let round = 0; round < 5; round++) {
      now += 100 * SECOND;
      await a.acceptEvents(
        project.id,
        Array.from({ length: 50 }, () => eventInput('a')),
        now,
      );
      const byA = await a.claimDueDeliveries({ limit: 1000, leaseMs: SECOND, now, workerId: 'wa' });
      const byB = await b.claimDueDeliveries({
        limit: 1000,
        leaseMs: 60 * SECOND,
        now: now + 2 * SECOND,
        workerId: 'wb',
      });
      assert.equal(byB.length, byA.length, 'B claimed what A held once its lease ran out');
      const late = byA.map((c) => attemptRecord(c.delivery, c.event, { workerId: 'wa', startedAt: now }));
      const own = byB
        .map((c) => attemptRecord(c.delivery, c.event, { workerId: 'wb', startedAt: now + 2 * SECOND }))
        .reverse();
      const options = { now: now + 3 * SECOND, failureThreshold: 1000 };
      const settled = await Promise.allSettled([
        a.recordAttempts(late, options),
        b.recordAttempts(own, options),
      ]);
      outcomes.push(...settled.map((s) => (s.status === 'rejected' ? String(s.reason) : 'written')));
    }
    assert.deepEqual(
      outcomes.filter((o) => o !== 'written'),
      [],
    );
    // Each delivery counts both attempts.
    const { rows } = await stats.query('SELECT DISTINCT attempts FROM deliveries');
    assert.deepEqual(rows, [{ attempts: 2 }]);
    // PostgreSQL's own count, flushed at most once a second.
    await new Promise((r) => setTimeout(r, 1100));
    await stats.query('SELECT pg_stat_clear_snapshot()');
    const { rows: db } = await stats.query(
      'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
    );
    assert.equal(Number(db[0].deadlocks), 0);
  } finally {
    await stats.end();
    await a.close();
    await b.close();
  }
});

test('a disable parking the deliveries another worker records late at once: no deadlock, both batches written', async () => {
  const url = await server.createDatabase();
  const [a, b] = [new PostgresStore(url), new PostgresStore(url)];
  await a.migrate();
  try {
    for (let round = 0; round < 6; round++) {
      const start = T0 + round * 1000 * SECOND;
      const { project, endpoints } = await projectWithEndpoints(a, 1, start);
      // Ids grow with each accept while due times fall: the endpoint index (which the park's plan
      // walks on a fresh table) has them in the reverse of key order.
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          a.acceptEvents(project.id, [eventInput('a')], start + 1000 - i),
        ),
      );
      const now = start + 2 * SECOND;
      const byB = await b.claimDueDeliveries({ limit: 1000, leaseMs: SECOND, now, workerId: 'wb' });
      await a.acceptEvents(project.id, [eventInput('a')], now);
      const byA = await a.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: now + 1,
        workerId: 'wa',
      });
      assert.equal(byA.length, 1, "A's own delivery; B's are leased");
      const later = now + 5 * SECOND; // B's leases ran out: its deliveries are not in flight
      const failure = byA.map((c) =>
        attemptRecord(c.delivery, c.event, { workerId: 'wa', outcome: 'failed', startedAt: later }),
      );
      // As B's attempts finished: in key order here, against the park's due order before.
      const late = byB
        .map((c) => attemptRecord(c.delivery, c.event, { workerId: 'wb', startedAt: later }))
        .reverse();
      const settled = await Promise.allSettled([
        a.recordAttempts(failure, { now: later, failureThreshold: 1 }),
        b.recordAttempts(late, { now: later, failureThreshold: 1000 }),
      ]);
      assert.deepEqual(
        settled.map((s) => (s.status === 'rejected' ? String(s.reason) : 'written')),
        ['written', 'written'],
        `round ${round}`,
      );
      assert.equal((await a.getEndpoint(project.id, endpoints[0]!.id))?.status, 'disabled');
    }
  } finally {
    await a.close();
    await b.close();
  }
});

/** Sessions of this database waiting for a lock, polled until there are `n` (10 s at most). */
async function lockWaits(stats: pg.Client, n: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { rows } = await stats.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`${n} sessions never waited for a lock`);
}

/**
 * Runs `first` and `second` at once, each waiting for the delivery `deliveryId` that `holder` (a
 * session of its own) locks until both wait (the first before the second starts): the interleaving
 * a deadlock needs, made certain. 'done', or the error, of each.
 */
async function meetingAt(
  stats: pg.Client,
  holder: pg.Client,
  projectId: string,
  deliveryId: string,
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
): Promise<string[]> {
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM deliveries WHERE project_id = $1 AND id = $2 FOR UPDATE', [
    projectId,
    deliveryId,
  ]);
  const one = first();
  await lockWaits(stats, 1);
  const two = second();
  await lockWaits(stats, 2);
  await holder.query('ROLLBACK');
  const settled = await Promise.allSettled([one, two]);
  return settled.map((s) => (s.status === 'rejected' ? String(s.reason) : 'done'));
}

/**
 * Runs `fn` (a round of a test) with two stores, A and B, on a database of its own, a session that
 * reads its state and one that holds a row: each round starts from a small table, with no deliveries
 * of a round before it left due.
 */
async function onFreshDatabase(
  fn: (w: {
    a: PostgresStore;
    b: PostgresStore;
    stats: pg.Client;
    holder: pg.Client;
    url: string;
  }) => Promise<void>,
): Promise<void> {
  const url = await server.createDatabase();
  const [a, b] = [new PostgresStore(url), new PostgresStore(url)];
  await a.migrate();
  const [stats, holder] = [new pg.Client(url), new pg.Client(url)];
  await stats.connect();
  await holder.connect();
  try {
    await fn({ a, b, stats, holder, url });
  } finally {
    await stats.end();
    await holder.end();
    await a.close();
    await b.close();
  }
}

/**
 * Twenty deliveries of the project (with `callbackUrl`, to its callback, with no endpoint: no
 * endpoint lock orders them) claimed by B, laid out in the table in the reverse of key order: ids
 * grow while due times fall, and claimed one at a time each is written again (as retries leave a
 * busy table), so a scan meets them by falling key.
 */
async function claimedInReverse(
  a: PostgresStore,
  b: PostgresStore,
  projectId: string,
  start: number,
  callbackUrl?: string,
) {
  for (let i = 0; i < 20; i++)
    await a.acceptEvents(projectId, [eventInput('a', callbackUrl ? { callbackUrl } : {})], start + 100 - i);
  const claims = [];
  for (let i = 0; i < 20; i++) {
    const now = start + SECOND;
    claims.push(...(await b.claimDueDeliveries({ limit: 1, leaseMs: 60 * SECOND, now, workerId: 'wb' })));
  }
  assert.equal(claims.length, 20);
  return claims;
}

test('a disable parking deliveries another worker records late, laid out against key order: no deadlock', async () => {
  const outcomes: string[] = [];
  for (let round = 0; round < 3; round++) {
    await onFreshDatabase(async ({ a, b, stats, holder }) => {
      const start = T0;
      const { project, endpoints } = await projectWithEndpoints(a, 1, start);
      const byB = await claimedInReverse(a, b, project.id, start);
      const keys = byB.map((c) => c.delivery.id).sort();
      await a.acceptEvents(project.id, [eventInput('a')], start + 2 * SECOND);
      const byA = await a.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: start + 3 * SECOND,
        workerId: 'wa',
      });
      assert.equal(byA.length, 1, "A's own delivery; B's are leased");
      // Past B's leases: A's failure disables the endpoint and parks B's deliveries (in key order);
      // B's late records of them move them (on a small table, a hash join: in the table's order).
      const later = start + 100 * SECOND;
      const failure = byA.map((c) =>
        attemptRecord(c.delivery, c.event, { workerId: 'wa', outcome: 'failed', startedAt: later }),
      );
      const late = byB.map((c) => attemptRecord(c.delivery, c.event, { workerId: 'wb', startedAt: later }));
      const both = await meetingAt(
        stats,
        holder,
        project.id,
        keys[10]!,
        () => b.recordAttempts(late, { now: later, failureThreshold: 1000 }),
        () => a.recordAttempts(failure, { now: later, failureThreshold: 1 }),
      );
      outcomes.push(...both);
      if (both[1] === 'done')
        assert.equal((await a.getEndpoint(project.id, endpoints[0]!.id))?.status, 'disabled');
    });
  }
  assert.deepEqual(
    outcomes.filter((o) => o !== 'done'),
    [],
  );
});

test('a disable parking deliveries while another worker records them and the disabling batch: no deadlock', async () => {
  const outcomes: string[] = [];
  for (let round = 0; round < 3; round++) {
    await onFreshDatabase(async ({ a, b, stats, holder }) => {
      const start = T0;
      const { project, endpoints } = await projectWithEndpoints(a, 1, start);
      // Ids grow with each accept while due times are shuffled, the first due first: A's claim of
      // the first half due takes the lowest key and others spread through key order.
      const due = [0, ...Array.from({ length: 99 }, (_, i) => i + 1).sort(() => Math.random() - 0.5)];
      for (const d of due) await a.acceptEvents(project.id, [eventInput('a')], start + d);
      const now = start + 2 * SECOND;
      const byB = await b.claimDueDeliveries({ limit: 1000, leaseMs: SECOND, now, workerId: 'wb' });
      // B's leases ran out: A claims half of them again, the other half is pending, not in flight.
      const later = now + 2 * SECOND;
      const byA = await a.claimDueDeliveries({ limit: 50, leaseMs: 60 * SECOND, now: later, workerId: 'wa' });
      assert.equal(byA.length, 50);
      const lowest = byA.map((c) => c.delivery.id).sort()[0]!;
      assert.equal(lowest, byB.map((c) => c.delivery.id).sort()[0], 'A holds the lowest key');
      // A's failures disable the endpoint: its batch parks B's half, then moves its own. B's records
      // of all of them come late, successes: they move B's half and count A's. Both wait for the
      // lowest key: B at its first row, A (without one order for the batch) at its first move, B's
      // half parked already; with one order, A at its first row too.
      const late = byB.map((c) => attemptRecord(c.delivery, c.event, { workerId: 'wb', startedAt: now }));
      const failures = byA.map((c) =>
        attemptRecord(c.delivery, c.event, { workerId: 'wa', outcome: 'failed', startedAt: later }),
      );
      const both = await meetingAt(
        stats,
        holder,
        project.id,
        lowest,
        () => b.recordAttempts(late, { now: later + 1, failureThreshold: 1000 }),
        () => a.recordAttempts(failures, { now: later + 1, failureThreshold: 1 }),
      );
      outcomes.push(...both);
      if (both[1] === 'done')
        assert.equal((await a.getEndpoint(project.id, endpoints[0]!.id))?.status, 'disabled');
    });
  }
  assert.deepEqual(
    outcomes.filter((o) => o !== 'done'),
    [],
  );
});

test("a worker's claims handed back while another batch records them: no deadlock", async () => {
  const outcomes: string[] = [];
  for (let round = 0; round < 3; round++) {
    await onFreshDatabase(async ({ a, b, stats, holder }) => {
      const start = T0;
      const { project } = await projectWithEndpoints(a, 1, start);
      const claims = await claimedInReverse(a, b, project.id, start);
      const keys = claims.map((c) => c.delivery.id).sort();
      const records = claims.map((c) =>
        attemptRecord(c.delivery, c.event, { workerId: 'wb', startedAt: start + 2 * SECOND }),
      );
      // releaseClaims scans B's claims (the table's order on a small table), the records go by key.
      outcomes.push(
        ...(await meetingAt(
          stats,
          holder,
          project.id,
          keys[10]!,
          () => a.releaseClaims('wb', start + 3 * SECOND),
          () => b.recordAttempts(records, { now: start + 3 * SECOND, failureThreshold: 1000 }),
        )),
      );
    });
  }
  assert.deepEqual(
    outcomes.filter((o) => o !== 'done'),
    [],
  );
});

test("a project delete while a worker records its callback deliveries: no deadlock, the project's rows gone", async () => {
  const outcomes: string[] = [];
  for (let round = 0; round < 3; round++) {
    await onFreshDatabase(async ({ a, b, stats, holder }) => {
      const start = T0;
      const { project } = await projectWithEndpoints(a, 0, start);
      const claims = await claimedInReverse(a, b, project.id, start, 'http://127.0.0.1:9/cb');
      const keys = claims.map((c) => c.delivery.id).sort();
      const records = claims.map((c) =>
        attemptRecord(c.delivery, c.event, { workerId: 'wb', startedAt: start + 2 * SECOND }),
      );
      // The delete's DELETE of deliveries scans them (the table's order), the records go by key.
      const both = await meetingAt(
        stats,
        holder,
        project.id,
        keys[10]!,
        () => a.deleteProject(project.id),
        () => b.recordAttempts(records, { now: start + 3 * SECOND, failureThreshold: 1000 }),
      );
      outcomes.push(...both);
      if (both[0] === 'done') {
        const { rows } = await stats.query(
          'SELECT count(*)::int AS n FROM deliveries WHERE project_id = $1',
          [project.id],
        );
        assert.equal(rows[0].n, 0);
      }
    });
  }
  assert.deepEqual(
    outcomes.filter((o) => o !== 'done'),
    [],
  );
});

test('a claim giving back what its byte budget left out while another worker records those deliveries late: no deadlock', async () => {
  const outcomes: string[] = [];
  for (let round = 0; round < 2; round++) {
    await onFreshDatabase(async ({ a, b, stats, holder, url }) => {
      const start = T0;
      const { project } = await projectWithEndpoints(a, 0, start);
      const byB = await claimedInReverse(a, b, project.id, start, 'http://127.0.0.1:9/cb');
      const keys = byB.map((c) => c.delivery.id).sort();
      // Past B's leases, A claims them all again with room for one payload: the earliest due (the
      // highest key) is kept, the others given back, in due order (falling key). B's records of
      // them come late, in key order. A session holding the events table keeps A's claim between
      // its leases and its give-back until B's records wait for keys[10]; then A's give-back runs.
      const later = start + 100 * SECOND;
      const tables = new pg.Client(url);
      await tables.connect();
      try {
        await tables.query('BEGIN');
        await tables.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
        const claim = a.claimDueDeliveries({
          limit: 100,
          leaseMs: 60 * SECOND,
          now: later,
          workerId: 'wa',
          maxBytes: 1,
        });
        await lockWaits(stats, 1); // its read of the events, its leases committed
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM deliveries WHERE project_id = $1 AND id = $2 FOR UPDATE', [
          project.id,
          keys[10],
        ]);
        const late = byB.map((c) =>
          attemptRecord(c.delivery, c.event, { workerId: 'wb', outcome: 'failed', startedAt: start }),
        );
        const records = b.recordAttempts(late, { now: later, failureThreshold: 1000 });
        await lockWaits(stats, 2);
        await tables.query('ROLLBACK');
        await waitingSession(stats, '%lease_until = v.was_lease_until%');
        await holder.query('ROLLBACK');
        const settled = await Promise.allSettled([claim, records]);
        outcomes.push(...settled.map((s) => (s.status === 'rejected' ? String(s.reason) : 'done')));
        if (settled[0].status === 'fulfilled') {
          assert.equal(settled[0].value.length, 1);
          // A late failure moves no delivery leased to A: only the one A kept is still leased.
          const { rows } = await stats.query(
            'SELECT id FROM deliveries WHERE project_id = $1 AND leased_by IS NOT NULL',
            [project.id],
          );
          assert.deepEqual(rows, [{ id: keys[19] }]);
        }
      } finally {
        await tables.end();
      }
    });
  }
  assert.deepEqual(
    outcomes.filter((o) => o !== 'done'),
    [],
  );
});

/** Polls until a session whose query is LIKE `pattern` waits for a lock (10 s at most). */
async function waitingSession(stats: pg.Client, pattern: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { rows } = await stats.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
      [pattern],
    );
    if (rows[0].n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`no session running ${pattern} waited for a lock`);
}
