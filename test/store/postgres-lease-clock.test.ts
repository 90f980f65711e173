/**
 * Workers on one PostgreSQL judge each other's leases: a lease's end is written by the worker that
 * claims and compared by every worker that claims after. Written with the claimer's clock and read
 * with the next one's, a worker whose clock was behind by more than the lease's unused part had its
 * deliveries taken by the others while its attempts were still out (sent twice), and a worker whose
 * clock was ahead took the others'. The claim now measures this process's clock against the
 * database's in its own transaction (store option `clock`, the clock the store measures with) and
 * leases in the database's time: both kinds of worker below are 20 s off, a lease is 6 s.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { createHandBackRetry } from '../../src/delivery/hand-back-retry.ts';
import { releaseOf } from '../../src/delivery/release-items.ts';
import { parkBatch } from '../../src/store/park-batch.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { Store } from '../../src/store/store.ts';
import { withPostgres } from '../support/postgres.ts';
import { until } from '../support/wait-until.ts';
import { attemptRecord, eventInput, projectWithEndpoints } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

const SKEW_MS = 20_000;
const LEASE_MS = 6_000;

/** Two stores on one new database, each as a process whose clock is `skew` off would open it. */
async function twoWorkers(skewA: number, skewB: number) {
  const url = await server.createDatabase();
  const clockA = () => Date.now() + skewA;
  const clockB = () => Date.now() + skewB;
  const a = new PostgresStore(url, { clock: clockA });
  await a.migrate();
  const b = new PostgresStore(url, { clock: clockB });
  return { a, b, clockA, clockB, url };
}

async function oneDelivery(store: Store, now: number) {
  const { project } = await projectWithEndpoints(store, 1, now);
  await store.acceptEvents(project.id, [eventInput()], now);
}

const claim = (store: Store, workerId: string, now: number) =>
  store.claimDueDeliveries({ limit: 10, leaseMs: LEASE_MS, now, workerId });

test("a worker whose clock is behind: its lease holds for its whole length by the other worker's clock", async () => {
  const { a, b, clockA, clockB } = await twoWorkers(-SKEW_MS, 0);
  try {
    await oneDelivery(a, clockA() - 1_000);
    const nowA = clockA();
    const [taken] = await claim(a, 'behind', nowA);
    assert.ok(taken, 'the worker behind claims the delivery');
    assert.deepEqual(await claim(b, 'in-step', clockB()), [], 'not claimed again while the lease runs');
    // Its own countdown: from the claim's now, on its own clock.
    assert.equal(taken.leaseEndsAt, nowA + LEASE_MS);
  } finally {
    await a.close();
    await b.close();
  }
});

test("a worker whose clock is ahead does not take another's lease early", async () => {
  const { a, b, clockA, clockB } = await twoWorkers(0, SKEW_MS);
  try {
    await oneDelivery(a, clockA() - 1_000);
    const [taken] = await claim(a, 'in-step', clockA());
    assert.ok(taken, 'the worker in step claims the delivery');
    assert.deepEqual(await claim(b, 'ahead', clockB()), [], 'not claimed again while the lease runs');
  } finally {
    await a.close();
    await b.close();
  }
});

test("in step, a lease is the claim's now plus its length, as the caller passes them", async () => {
  const { a, b, clockA } = await twoWorkers(0, 0);
  try {
    await oneDelivery(a, clockA() - 1_000);
    const now = clockA();
    const [taken] = await claim(a, 'w', now);
    assert.equal(taken?.delivery.leasedUntil, now + LEASE_MS);
    assert.equal(taken?.leaseEndsAt, now + LEASE_MS);
    // A claim at the lease's end by the caller's time takes it again (tests pass times ahead).
    const [again] = await claim(b, 'w2', now + LEASE_MS);
    assert.equal(again?.delivery.id, taken?.delivery.id);
  } finally {
    await a.close();
    await b.close();
  }
});

test('deliveries leased at accept (the hand-off) by a worker whose clock is behind are not claimed by another meanwhile', async () => {
  const { a, b, clockA, clockB } = await twoWorkers(-SKEW_MS, 0);
  try {
    const nowA = clockA();
    const { project } = await projectWithEndpoints(a, 1, nowA - 1_000);
    const [accepted] = await a.acceptEvents(project.id, [eventInput()], nowA, {
      lease: { workerId: 'behind', leaseMs: LEASE_MS, max: 10 },
    });
    assert.equal(accepted?.leased, 1, 'leased at accept');
    assert.deepEqual(await claim(b, 'in-step', clockB()), [], 'not claimed while the lease runs');
    // The accepting process counts it from its accept, on its own clock.
    assert.equal(accepted?.leaseEndsAt, nowA + LEASE_MS);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a retry by an API process whose clock is ahead leaves a delivery in flight alone while its lease runs', async () => {
  const { a, b, clockA, clockB } = await twoWorkers(0, SKEW_MS);
  try {
    await oneDelivery(a, clockA() - 1_000);
    const [taken] = await claim(a, 'in-step', clockA());
    assert.ok(taken, 'the worker in step claims the delivery');
    const retried = await b.retryDelivery(taken.delivery.projectId, taken.delivery.id, clockB());
    assert.equal(retried, 'in-flight', 'not made due again under the attempt');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a worker whose clock is ahead by more than a lease writes a failed hand-back again while its lease runs by its own clock', async () => {
  // Its lease's stored end (delivery.leasedUntil) is in the database's time, a lease before its
  // own now: the retry keeps what failed until a lease after the failure, on its own clock.
  const aheadMs = 120_000;
  const leaseMs = 60_000;
  const { a, b, clockA, clockB, url } = await twoWorkers(aheadMs, 0); // b: the database's time
  const admin = new pg.Client(url);
  await admin.connect();
  try {
    // Due by the database's clock (the machine's: its own due times it takes that much later).
    await oneDelivery(a, clockB() - 1_000);
    const [taken] = await a.claimDueDeliveries({ limit: 10, leaseMs, now: clockA(), workerId: 'ahead' });
    assert.ok(taken, 'the worker ahead claims the delivery');
    // The database refuses the hand-back's write (as a full disk would), until the test lets it.
    await admin.query(`CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'write refused by the test'; END $$`);
    await admin.query(
      'CREATE TRIGGER refuse_write BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION refuse_write()',
    );
    let writes = 0;
    const errors: unknown[] = [];
    const retry = createHandBackRetry({
      write: (items) => {
        writes++;
        return a.releaseDeliveries(items.map((item) => ({ ...item, heldBy: 'ahead' })));
      },
      clock: clockA,
      leaseMs,
      onError: (error) => errors.push(error),
    });
    await assert.rejects(retry.handBack([releaseOf(taken.delivery, clockA())]), /refused by the test/);
    await admin.query('DROP TRIGGER refuse_write ON deliveries');
    await until('the hand-back is written again or dropped', () => retry.pending === 0, 30_000);
    await retry.stop();
    assert.deepEqual(errors, []);
    assert.ok(writes >= 2, `written again (${writes} write)`);
    // Handed back: leased to no one, long before its lease would have ended (due at the worker's now).
    const { rows } = await admin.query('SELECT leased_by FROM deliveries WHERE id = $1', [taken.delivery.id]);
    assert.deepEqual(rows, [{ leased_by: null }]);
  } finally {
    await admin.end();
    await a.close();
    await b.close();
  }
});

test('a disable by a process whose clock is ahead leaves a delivery in flight to its record, and an enable does not make it due', async () => {
  // Parked under its attempt (leased to no one), an enable made it due again at once, and a claim
  // sent it a second time while the first attempt was still out.
  const { a, b, clockA, clockB } = await twoWorkers(0, SKEW_MS);
  try {
    await oneDelivery(a, clockA() - 1_000);
    const [taken] = await claim(a, 'in-step', clockA());
    assert.ok(taken, 'the worker in step claims the delivery');
    const { projectId, endpointId } = taken.delivery;
    await b.updateEndpoint(projectId, endpointId!, { active: false }, clockB());
    assert.equal(
      (await a.getDelivery(projectId, taken.delivery.id))?.status,
      'pending',
      'left to its record',
    );
    // Enabled again by a process in step (the one ahead would make it due 20 s on).
    await a.updateEndpoint(projectId, endpointId!, { active: true }, clockA());
    assert.deepEqual(await claim(a, 'in-step-2', clockA()), [], 'not claimed again while the lease runs');
  } finally {
    await a.close();
    await b.close();
  }
});

test('an endpoint disabled by a failure a worker ahead records leaves the delivery another worker is sending to its record', async () => {
  const { a, b, clockA, clockB } = await twoWorkers(0, SKEW_MS);
  try {
    const { project } = await projectWithEndpoints(a, 1, clockA() - 1_000);
    await a.acceptEvents(project.id, [eventInput(), eventInput()], clockA() - 1_000);
    const one = (store: Store, workerId: string, now: number) =>
      store.claimDueDeliveries({ limit: 1, leaseMs: LEASE_MS, now, workerId });
    const [sending] = await one(a, 'in-step', clockA());
    const [failing] = await one(b, 'ahead', clockB());
    assert.ok(sending && failing && sending.delivery.id !== failing.delivery.id, 'each worker claims one');
    const result = await b.recordAttempts(
      [
        attemptRecord(failing.delivery, failing.event, {
          outcome: 'failed',
          startedAt: clockB(),
          workerId: 'ahead',
        }),
      ],
      { now: clockB(), failureThreshold: 1 },
    );
    assert.equal(result.disabledEndpoints.length, 1, 'the failure disables the endpoint');
    const left = await a.getDelivery(project.id, sending.delivery.id);
    assert.equal(left?.status, 'pending', 'left to its record, still leased');
    assert.ok(left?.leasedUntil !== null);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a disable by a process whose clock is ahead leaves a delivery in flight to its record in its later batches too', async () => {
  // The disable parks one batch and counts the rest, which later transactions park (park-batch.ts):
  // they judge leases at the disable's now in the database's time (ParkRest.inFlightAt) as the
  // disable did. A batch of 1 here, so one pending delivery is left to them, beside the one sent.
  const { a, b, clockA, clockB } = await twoWorkers(0, SKEW_MS);
  const rows = parkBatch.rows;
  try {
    const { project } = await projectWithEndpoints(a, 1, clockA() - 1_000);
    const accepted = await a.acceptEvents(
      project.id,
      [eventInput(), eventInput(), eventInput()],
      clockA() - 1_000,
    );
    const ids = accepted.map((e) => e.deliveries[0]!.id);
    const [sending] = await a.claimDueDeliveries({
      limit: 1,
      leaseMs: LEASE_MS,
      now: clockA(),
      workerId: 'in-step',
    });
    assert.ok(sending, 'the worker in step claims one');
    parkBatch.rows = 1;
    try {
      await b.updateEndpoint(project.id, sending.delivery.endpointId!, { active: false }, clockB());
    } finally {
      // The later transactions read it as they go: the rest in one, parked at once.
      parkBatch.rows = rows;
    }
    const statuses = async () =>
      Promise.all(ids.map(async (id) => [id, (await a.getDelivery(project.id, id))?.status] as const));
    const parkedCount = async () => (await statuses()).filter(([, s]) => s === 'parked').length;
    await until('the later transaction to park the rest', async () => (await parkedCount()) >= 2);
    const byId = new Map(await statuses());
    assert.equal(byId.get(sending.delivery.id), 'pending', 'the one being sent left to its record');
    assert.equal(await parkedCount(), 2, 'the other two parked');
  } finally {
    parkBatch.rows = rows;
    await a.close();
    await b.close();
  }
});

test('a disable written again after a lost commit, by a worker whose clock is ahead, leaves a delivery in flight to its record', async () => {
  // A record job tried again (RecordOptions.retried) whose first try was stored answers the first's
  // result, and parks again what its disables may have left (stored-records.ts storedDisablesLater):
  // that parking judges leases at the disable's now in the database's time, as the first did (until
  // 2026-12-07 at its now on its own clock: the worker in step's delivery was parked while sent).
  const { a, b, clockA, clockB } = await twoWorkers(0, SKEW_MS);
  try {
    const { project } = await projectWithEndpoints(a, 1, clockA() - 1_000);
    const accepted = await a.acceptEvents(
      project.id,
      [eventInput(), eventInput(), eventInput()],
      clockA() - 1_000,
    );
    const ids = accepted.map((e) => e.deliveries[0]!.id);
    const one = (store: Store, workerId: string, now: number, leaseMs = 10_000) =>
      store.claimDueDeliveries({ limit: 1, leaseMs, now, workerId });
    const [sending] = await one(a, 'in-step', clockA());
    const [failing] = await one(b, 'ahead', clockB());
    const [handed] = await one(a, 'other', clockA(), 60_000);
    assert.deepEqual([sending, failing, handed].map((c) => c?.delivery.id).sort(), [...ids].sort());
    const records = [
      attemptRecord(failing!.delivery, failing!.event, {
        outcome: 'failed',
        startedAt: clockB(),
        workerId: 'ahead',
      }),
    ];
    const options = { now: clockB(), failureThreshold: 1 };
    const first = await b.recordAttempts(records, options);
    assert.equal(first.disabledEndpoints.length, 1, 'the failure disables the endpoint');
    // Handed back pending by a worker that did not know: what the parking of the record written
    // again parks (it is done once this one is parked).
    await a.releaseDeliveries([{ ...releaseOf(handed!.delivery, clockA()), heldBy: 'other' }]);
    const again = await b.recordAttempts(records, { ...options, retried: true });
    assert.deepEqual(again.disabledEndpoints, first.disabledEndpoints, "the first try's result");
    await until(
      'the handed-back delivery parked',
      async () => (await a.getDelivery(project.id, handed!.delivery.id))?.status === 'parked',
    );
    const left = await a.getDelivery(project.id, sending!.delivery.id);
    assert.equal(left?.status, 'pending', 'the one being sent left to its record');
  } finally {
    await a.close();
    await b.close();
  }
});
