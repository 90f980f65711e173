/**
 * Due times on one PostgreSQL: one process writes them, every worker's claim compares them, in the
 * database's time (src/store/lease-clock.ts: a claim by a worker ahead moves its now back by the
 * offset it proves). Written on the writer's own clock, what a process S ahead made due came due S
 * late for every worker (until 2026-12-07): a new event, a retry by hand, a recover, a replay, an
 * enable's resumed deliveries, and a worker's own retries and hand-backs. Each is written here by a
 * store 20 s ahead (store option `clock`, as a process whose clock is wrong) that has read the
 * database's clock as its clock check does at start (databaseNow), or claimed (a worker), and
 * claimed by a store in step with the database.
 *
 * The offset a reading proves is its midpoint less its uncertainty (clock-check.ts provenOffset),
 * so a time written by the process ahead may come due up to one reading's round trip late: the
 * worker in step claims as it would 5 s from now (before: 20 s late, not claimed).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createRecordQueue } from '../../src/delivery/record-queue.ts';
import { createMetrics } from '../../src/metrics.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { ClaimedDelivery, Store } from '../../src/store/store.ts';
import { withPostgres } from '../support/postgres.ts';
import { attemptRecord, endpointInput, eventInput, projectWithEndpoints } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

const SKEW_MS = 20_000;
const SOON_MS = 5_000;

/** A store `shiftMs` off that has read the database's clock, and one in step, on a new database. */
async function offAndInStep(shiftMs: number) {
  const url = await server.createDatabase();
  const clock = () => Date.now() + shiftMs;
  const off = new PostgresStore(url, { clock });
  await off.migrate();
  await off.databaseNow(); // the clock check's reading at start
  const inStep = new PostgresStore(url);
  const close = async () => {
    await off.close();
    await inStep.close();
  };
  return { off, inStep, clock, close };
}

/** A store 20 s ahead that has read the database's clock, and one in step. */
async function aheadAndInStep() {
  const { off, ...rest } = await offAndInStep(SKEW_MS);
  return { ahead: off, ...rest };
}

/** What the worker in step claims, as it would `inMs` from now. */
const claimIn = async (store: Store, inMs = SOON_MS) =>
  (
    await store.claimDueDeliveries({
      limit: 10,
      leaseMs: 30_000,
      now: Date.now() + inMs,
      workerId: 'in-step',
    })
  ).map((c) => c.delivery.id);

/**
 * Two deliveries due a second ago, written by `inStep`, claimed by a worker (`store`, as `workerId`
 * on `clock`): the first failed and retried 10 s later, the second handed back held 10 s, by its
 * clock. Answers their ids.
 */
async function retriedAndHeld(inStep: Store, store: Store, workerId: string, clock: () => number) {
  const { project } = await projectWithEndpoints(inStep, 1, Date.now() - 2_000);
  const accepted = await inStep.acceptEvents(project.id, [eventInput(), eventInput()], Date.now() - 1_000);
  const ids = accepted.map((a) => a.deliveries[0]!.id);
  const taken = await store.claimDueDeliveries({ limit: 10, leaseMs: 30_000, now: clock(), workerId });
  assert.equal(taken.length, 2, `the worker ${workerId} claims both, due a second ago by the database`);
  const [failed, handed] = ids.map((id) => taken.find((c) => c.delivery.id === id)!);
  await store.recordAttempts(
    [
      attemptRecord(failed!.delivery, failed!.event, {
        outcome: 'failed',
        startedAt: clock(),
        nextAttemptAt: clock() + 10_000,
        workerId,
        effect: 'none',
      }),
    ],
    { now: clock(), failureThreshold: 100 },
  );
  await store.releaseDeliveries([
    {
      projectId: project.id,
      deliveryId: handed!.delivery.id,
      nextAttemptAt: clock() + 10_000,
      heldBy: workerId,
      leasedUntil: handed!.delivery.leasedUntil,
      attempts: handed!.delivery.attempts,
    },
  ]);
  return ids;
}

const ONE_A_MINUTE = { perSecond: 1 / 60 };

/** A new delivery of the endpoint, under a limit of one a minute, claimed by the worker in step. */
async function leasedUnderLimit(inStep: Store, projectId: string, endpointId: string) {
  await inStep.updateEndpoint(projectId, endpointId, { rateLimit: ONE_A_MINUTE }, Date.now() - 1_500);
  const [limited] = await inStep.acceptEvents(projectId, [eventInput()], Date.now() - 1_000);
  const taken = await inStep.claimDueDeliveries({
    limit: 10,
    leaseMs: 30_000,
    now: Date.now(),
    workerId: 'w1',
  });
  const claimed = taken.find((c) => c.delivery.id === limited!.deliveries[0]!.id);
  assert.ok(claimed, 'claimed by the worker in step');
  return claimed;
}

/** The worker in step, which read the limit of one a minute, puts `claimed` off an hour. */
const putOffAnHour = (inStep: Store, claimed: ClaimedDelivery) =>
  inStep.releaseDeliveries([
    {
      projectId: claimed.delivery.projectId,
      deliveryId: claimed.delivery.id,
      nextAttemptAt: Date.now() + 3_600_000,
      heldBy: 'w1',
      leasedUntil: claimed.delivery.leasedUntil,
      attempts: claimed.delivery.attempts,
      rateLimited: true,
      rateLimit: ONE_A_MINUTE,
    },
  ]);

test('an event accepted by a process ahead is due at once for a worker in step', async () => {
  const { ahead, inStep, clock, close } = await aheadAndInStep();
  try {
    const { project } = await projectWithEndpoints(ahead, 1, clock());
    const [accepted] = await ahead.acceptEvents(project.id, [eventInput()], clock());
    assert.deepEqual(await claimIn(inStep), [accepted!.deliveries[0]!.id]);
  } finally {
    await close();
  }
});

test("an event accepted by a process ahead is written at the database's time: created, updated and due alike, found by `until` now", async () => {
  const { ahead, close } = await aheadAndInStep();
  try {
    const { project } = await projectWithEndpoints(ahead, 1, Date.now());
    const [accepted] = await ahead.acceptEvents(project.id, [eventInput()], Date.now() + SKEW_MS);
    const stored = (await ahead.getDelivery(project.id, accepted!.deliveries[0]!.id))!;
    assert.equal(stored.createdAt, stored.updatedAt, 'created and updated alike');
    assert.equal(stored.createdAt, stored.nextAttemptAt, 'created and due alike');
    const { event } = (await ahead.getEvent(project.id, accepted!.event.id))!;
    assert.equal(event.createdAt, stored.createdAt, 'the event as its delivery');
    assert.equal(accepted!.event.createdAt, event.createdAt, 'the accept answers it as stored');
    assert.ok(event.createdAt <= Date.now() + SOON_MS, `created ${event.createdAt - Date.now()} ms on`);
    // Listed by a filter up to now by the database's clock (the users' own, if theirs is right).
    const upToNow = await ahead.listEvents(project.id, { limit: 10, until: Date.now() + SOON_MS });
    assert.deepEqual(
      upToNow.data.map((e) => e.id),
      [event.id],
    );
  } finally {
    await close();
  }
});

test('a retry by hand, a recover and an enable by a process ahead make deliveries due at once for a worker in step', async () => {
  const { ahead, inStep, clock, close } = await aheadAndInStep();
  try {
    const { project, endpoints } = await projectWithEndpoints(inStep, 1, Date.now() - 1_000);
    const endpointId = endpoints[0]!.id;
    // Due in an hour: a retry by hand makes it due now.
    const [later] = await inStep.acceptEvents(project.id, [eventInput()], Date.now() + 3_600_000);
    const laterId = later!.deliveries[0]!.id;
    assert.notEqual(await ahead.retryDelivery(project.id, laterId, clock()), null);
    assert.deepEqual(await claimIn(inStep), [laterId], 'retried by hand');

    // Failed for good: a recover makes it due now.
    const [gone] = await inStep.acceptEvents(project.id, [eventInput()], Date.now() - 500);
    const [claimed] = await inStep.claimDueDeliveries({
      limit: 1,
      leaseMs: 30_000,
      now: Date.now(),
      workerId: 'w1',
    });
    assert.equal(claimed?.delivery.id, gone!.deliveries[0]!.id);
    await inStep.recordAttempts(
      [
        attemptRecord(claimed.delivery, claimed.event, {
          outcome: 'failed',
          status: 'failed',
          startedAt: Date.now(),
          effect: 'none',
        }),
      ],
      { now: Date.now(), failureThreshold: 100 },
    );
    const recovered = await ahead.recoverDeliveries(project.id, endpointId, 0, clock(), clock());
    assert.equal(recovered.recovered, 1);
    assert.deepEqual(await claimIn(inStep), [claimed.delivery.id], 'recovered');

    // Parked by a disable: an enable makes it due now.
    const [parked] = await inStep.acceptEvents(project.id, [eventInput()], Date.now() - 500);
    await inStep.updateEndpoint(project.id, endpointId, { active: false }, Date.now());
    assert.equal((await inStep.getDelivery(project.id, parked!.deliveries[0]!.id))?.status, 'parked');
    const enabled = await ahead.enableEndpoint(project.id, endpointId, clock());
    assert.equal(enabled?.resumed, 1);
    assert.deepEqual(await claimIn(inStep), [parked!.deliveries[0]!.id], 'resumed by the enable');
  } finally {
    await close();
  }
});

test('a replay by a process ahead makes its deliveries due at once for a worker in step', async () => {
  const { ahead, inStep, clock, close } = await aheadAndInStep();
  try {
    const { project } = await projectWithEndpoints(inStep, 0, Date.now() - 2_000);
    await inStep.acceptEvents(project.id, [eventInput()], Date.now() - 1_000);
    // An endpoint made after the event: the replay gives it the event.
    const endpoint = await inStep.createEndpoint(
      endpointInput(project.id, { url: 'http://127.0.0.1:9/r' }),
      'whsec_r',
      Date.now(),
    );
    const replayed = await ahead.replayMissing(project.id, endpoint.id, {
      since: 0,
      until: clock(),
      now: clock(),
      maxDeliveries: 10,
    });
    assert.equal(replayed?.replayed, 1);
    assert.equal((await claimIn(inStep)).length, 1);
  } finally {
    await close();
  }
});

test("a worker ahead's retry and hand-back come due for a worker in step when they would by the database's clock", async () => {
  const { ahead, inStep, clock, close } = await aheadAndInStep();
  try {
    const ids = await retriedAndHeld(inStep, ahead, 'ahead', clock);
    assert.deepEqual(await claimIn(inStep, 0), [], 'neither is due yet');
    assert.deepEqual(
      (await claimIn(inStep, 10_000 + SOON_MS)).sort(),
      [...ids].sort(),
      'both are due 10 s on',
    );
  } finally {
    await close();
  }
});

test('an endpoint enabled, or its rate limit removed, by a PATCH from a process ahead has its deliveries due at once for a worker in step', async () => {
  const { ahead, inStep, clock, close } = await aheadAndInStep();
  try {
    const { project, endpoints } = await projectWithEndpoints(inStep, 1, Date.now() - 2_000);
    const endpointId = endpoints[0]!.id;
    const [parked] = await inStep.acceptEvents(project.id, [eventInput()], Date.now() - 1_000);
    await inStep.updateEndpoint(project.id, endpointId, { active: false }, Date.now());
    await ahead.updateEndpoint(project.id, endpointId, { active: true }, clock());
    assert.deepEqual(await claimIn(inStep), [parked!.deliveries[0]!.id], 'resumed by the PATCH');

    // Put off an hour by a rate limit of one a minute (a hand-back), then the limit is removed.
    const claimed = await leasedUnderLimit(inStep, project.id, endpointId);
    await putOffAnHour(inStep, claimed);
    assert.deepEqual(await claimIn(inStep), [], 'put off');
    await ahead.updateEndpoint(project.id, endpointId, { rateLimit: null }, clock());
    assert.deepEqual(await claimIn(inStep), [claimed.delivery.id], 'due once the limit is removed');
  } finally {
    await close();
  }
});

test('a rate limit removed by a process ahead while its delivery was leased has the hand-back due at once for a worker in step', async () => {
  const { ahead, inStep, close } = await aheadAndInStep();
  try {
    const { project, endpoints } = await projectWithEndpoints(inStep, 1, Date.now() - 2_000);
    const endpointId = endpoints[0]!.id;
    const claimed = await leasedUnderLimit(inStep, project.id, endpointId);
    // Removed while the delivery is leased (the PATCH leaves it alone); the worker, which read the
    // old limit, puts it off an hour: its write finds the limit gone, due as of the change.
    await ahead.updateEndpoint(project.id, endpointId, { rateLimit: null }, Date.now() + SKEW_MS);
    await putOffAnHour(inStep, claimed);
    assert.deepEqual(await claimIn(inStep), [claimed.delivery.id], 'due once the limit is removed');
  } finally {
    await close();
  }
});

test("a retry a worker ahead by more than its delay wrote counts in the backlog's oldest while another worker sends it", async () => {
  const { ahead, inStep, clock, close } = await aheadAndInStep();
  try {
    const { project } = await projectWithEndpoints(inStep, 1, Date.now() - 2_000);
    const [accepted] = await inStep.acceptEvents(project.id, [eventInput()], Date.now() - 1_000);
    const [taken] = await ahead.claimDueDeliveries({
      limit: 1,
      leaseMs: 30_000,
      now: clock(),
      workerId: 'ahead',
    });
    assert.equal(taken?.delivery.id, accepted!.deliveries[0]!.id);
    // Failed, retried 5 s later by its clock (less than it is ahead).
    await ahead.recordAttempts(
      [
        attemptRecord(taken.delivery, taken.event, {
          outcome: 'failed',
          startedAt: clock(),
          nextAttemptAt: clock() + SOON_MS,
          workerId: 'ahead',
          effect: 'none',
        }),
      ],
      { now: clock(), failureThreshold: 100 },
    );
    const dueAt = (await inStep.getDelivery(project.id, taken.delivery.id))!.nextAttemptAt;
    // The worker in step takes it when due and is sending it: it is still late since its due time.
    assert.deepEqual(await claimIn(inStep, 2 * SOON_MS), [taken.delivery.id]);
    const { pending, oldestDueAt } = await inStep.backlog(Date.now() + 2 * SOON_MS);
    assert.equal(pending, 1);
    assert.equal(oldestDueAt, dueAt);
  } finally {
    await close();
  }
});

/**
 * A process behind the database (until 2026-12-07: claims moved their now only when ahead, and due
 * times were written on the writer's clock when behind). A worker S behind took what was due by the
 * database's clock only S later, and its retries and hand-back holds came due S early for the
 * others (a 10 s retry by a worker 20 s behind was due at once for a worker in step).
 */
async function behindAndInStep() {
  const { off, ...rest } = await offAndInStep(-SKEW_MS);
  return { behind: off, ...rest };
}

test("a worker behind claims what is due by the database's clock, and its retry and hand-back come due when it meant them, for a worker in step and for itself", async () => {
  const { behind, inStep, clock, close } = await behindAndInStep();
  try {
    const ids = await retriedAndHeld(inStep, behind, 'behind', clock);
    assert.deepEqual(await claimIn(inStep, 0), [], 'neither is due yet for a worker in step');
    const own = (inMs: number) =>
      behind.claimDueDeliveries({ limit: 10, leaseMs: 30_000, now: clock() + inMs, workerId: 'behind' });
    assert.deepEqual(await own(0), [], 'nor for the worker behind');
    assert.deepEqual(
      (await own(10_000 + SOON_MS)).map((c) => c.delivery.id).sort(),
      [...ids].sort(),
      'both are due 10 s on by its clock',
    );
  } finally {
    await close();
  }
});

test("an event accepted, and a delivery retried by hand, by a process behind are written at the database's time", async () => {
  const { behind, inStep, clock, close } = await behindAndInStep();
  try {
    const { project } = await projectWithEndpoints(inStep, 1, Date.now() - 2_000);
    const [accepted] = await behind.acceptEvents(project.id, [eventInput()], clock());
    const stored = (await inStep.getDelivery(project.id, accepted!.deliveries[0]!.id))!;
    const { event } = (await inStep.getEvent(project.id, accepted!.event.id))!;
    for (const [name, at] of [
      ['created', stored.createdAt],
      ['due', stored.nextAttemptAt!],
      ['the event created', event.createdAt],
    ] as const) {
      assert.ok(Math.abs(at - Date.now()) < SOON_MS, `${name} ${at - Date.now()} ms from now`);
    }
    // Listed by a filter from a moment ago by the database's clock.
    const fromNow = await inStep.listEvents(project.id, { limit: 10, since: Date.now() - SOON_MS });
    assert.deepEqual(
      fromNow.data.map((e) => e.id),
      [event.id],
    );
    // Due in an hour, retried by hand by the process behind: due now, not 20 s ago (ahead of the
    // deliveries due since then, in the due order).
    const [later] = await inStep.acceptEvents(project.id, [eventInput()], Date.now() + 3_600_000);
    const retried = await behind.retryDelivery(project.id, later!.deliveries[0]!.id, clock());
    assert.ok(retried && typeof retried === 'object', `retried: ${String(retried)}`);
    const dueIn = retried.nextAttemptAt! - Date.now();
    assert.ok(Math.abs(dueIn) < SOON_MS, `due ${dueIn} ms from now`);
  } finally {
    await close();
  }
});

/**
 * herald_oldest_pending_age_seconds of a process off, which serves /metrics on its own clock: the
 * due times it reads are in the database's time (until 2026-12-07 compared with its own clock: the
 * gauge read S too old from a process S ahead, firing "Deliveries are late" for a fresh backlog,
 * and from one S behind a backlog due less than S ago was not due yet: 0).
 */
test("the backlog gauge of a process ahead or behind reads the age by the database's clock", async () => {
  for (const shiftMs of [SKEW_MS, -SKEW_MS]) {
    const { off, inStep, clock, close } = await offAndInStep(shiftMs);
    try {
      const { project } = await projectWithEndpoints(inStep, 1, Date.now() - 3_000);
      await inStep.acceptEvents(project.id, [eventInput()], Date.now() - 2_000);
      const text = await createMetrics({ store: off, now: clock, processMetrics: false }).render();
      const age = Number(/^herald_oldest_pending_age_seconds (\S+)$/m.exec(text)?.[1]);
      assert.ok(Math.abs(age - 2) < 1, `${shiftMs} ms off: due 2 s ago, the gauge reads ${age} s`);
    } finally {
      await close();
    }
  }
});

/**
 * An endpoint's disabledAt and updatedAt written by a disable or an enable are compared with times
 * in the database's time: a replay from disabledAt (operations.md: the operator endpoint's replay)
 * with events' createdAt, a put-back whose limit was loosened with updatedAt (rate-deferred.ts).
 * Until 2026-12-07 on the writer's clock: a process S ahead wrote them S late, so a replay from
 * disabledAt left out the events of the S after the disable, and a loosened put-back came due S late.
 */
test("an endpoint disabled and enabled by a process ahead has its disabledAt and updatedAt in the database's time", async () => {
  const { ahead, inStep, clock, close } = await aheadAndInStep();
  const near = (name: string, at: number | null | undefined) =>
    assert.ok(
      at != null && Math.abs(at - Date.now()) < SOON_MS,
      `${name} ${at == null ? at : at - Date.now()} ms from now`,
    );
  try {
    const { project, endpoints } = await projectWithEndpoints(inStep, 1, Date.now() - 2_000);
    const byHand = endpoints[0]!.id;
    // Disabled by a PATCH: an event accepted right after is replayed from its disabledAt.
    const disabled = await ahead.updateEndpoint(project.id, byHand, { active: false }, clock());
    near('disabled (PATCH) at', disabled?.disabledAt);
    near('updated (PATCH disable) at', disabled?.updatedAt);
    const [missed] = await inStep.acceptEvents(project.id, [eventInput()], Date.now());
    const enabled = await ahead.enableEndpoint(project.id, byHand, clock());
    near('updated (enable) at', enabled?.endpoint.updatedAt);
    const replayed = await inStep.replayMissing(project.id, byHand, {
      since: disabled!.disabledAt!,
      until: Date.now() + SOON_MS,
      now: Date.now(),
      maxDeliveries: 10,
    });
    assert.equal(replayed?.replayed, 1, `the event accepted while it was disabled (${missed!.event.id})`);
    await inStep.updateEndpoint(project.id, byHand, { active: false }, Date.now());
    const patched = await ahead.updateEndpoint(project.id, byHand, { active: true }, clock());
    near('updated (PATCH enable) at', patched?.updatedAt);

    // Leased under a limit of one a minute when a PATCH enables the endpoint and removes the limit:
    // the worker's put-back (an hour, by the old limit) is due as of that PATCH, its updatedAt.
    const claimed = await leasedUnderLimit(inStep, project.id, byHand);
    await inStep.updateEndpoint(project.id, byHand, { active: false }, Date.now());
    await ahead.updateEndpoint(project.id, byHand, { active: true, rateLimit: null }, clock());
    await putOffAnHour(inStep, claimed);
    assert.deepEqual(await claimIn(inStep), [claimed.delivery.id], 'due as of the PATCH');
  } finally {
    await close();
  }
});

/**
 * An endpoint a worker's failures disable (its record queue, as the dispatcher writes them) has its
 * disabledAt in the database's time too, from a worker ahead or behind: a replay from it takes
 * events by their createdAt. Until 2026-12-08 on the worker's clock: from one S ahead S late, so a
 * replay from disabledAt left out the events of the S after the disable; from one S behind S early.
 */
async function autoDisabledBy(off: Store, inStep: Store, clock: () => number, workerId: string) {
  const { project, endpoints } = await projectWithEndpoints(inStep, 1, Date.now() - 2_000);
  await inStep.acceptEvents(project.id, [eventInput(), eventInput()], Date.now() - 1_000);
  const [taken] = await off.claimDueDeliveries({ limit: 1, leaseMs: 30_000, now: clock(), workerId });
  assert.ok(taken, `claimed by the worker ${workerId}`);
  const disabled: string[] = [];
  const queue = createRecordQueue({
    store: off,
    failureThreshold: 1,
    clock,
    onWritten: () => {},
    onEndpointDisabled: (d) => disabled.push(d.endpointId),
    onError: (error) => assert.fail(String(error)),
  });
  queue.add(attemptRecord(taken.delivery, taken.event, { outcome: 'failed', startedAt: clock(), workerId }));
  await queue.flush();
  assert.deepEqual(disabled, [endpoints[0]!.id], 'its failure disables the endpoint');
  return { project, endpointId: endpoints[0]!.id };
}

test("an endpoint a worker ahead or behind disables by its failures has its disabledAt in the database's time", async () => {
  for (const shiftMs of [SKEW_MS, -SKEW_MS]) {
    const { off, inStep, clock, close } = await offAndInStep(shiftMs);
    const near = (name: string, at: number | null | undefined) =>
      assert.ok(
        at != null && Math.abs(at - Date.now()) < SOON_MS,
        `${shiftMs > 0 ? 'ahead' : 'behind'}: ${name} ${at == null ? at : at - Date.now()} ms from now`,
      );
    try {
      const { project, endpointId } = await autoDisabledBy(off, inStep, clock, 'off');
      const endpoint = await inStep.getEndpoint(project.id, endpointId);
      assert.equal(endpoint?.status, 'disabled');
      near('disabledAt', endpoint?.disabledAt);
      near('updatedAt', endpoint?.updatedAt);
      const [event] = (await inStep.listOperationalEvents(project.id, { limit: 10 })).data.filter(
        (e) => e.type === 'endpoint.disabled',
      );
      near('endpoint.disabled at', event?.createdAt);
      const parked = await inStep.listEndpointDeliveries(project.id, endpointId, {
        status: 'parked',
        limit: 10,
      });
      assert.equal(parked.data.length, 2, 'the one it failed and the one it had not claimed, parked');
      for (const d of parked.data) near(`parked ${d.id} updatedAt`, d.updatedAt);
      // An event accepted just after the disable: once enabled, a replay from disabledAt gives it to
      // the endpoint (operations.md: the operator endpoint's replay).
      const [missed] = await inStep.acceptEvents(project.id, [eventInput()], Date.now());
      await inStep.enableEndpoint(project.id, endpointId, Date.now());
      const replayed = await inStep.replayMissing(project.id, endpointId, {
        since: endpoint!.disabledAt!,
        until: Date.now() + SOON_MS,
        now: Date.now(),
        maxDeliveries: 10,
      });
      assert.equal(replayed?.replayed, 1, `the event accepted after the disable (${missed!.event.id})`);
    } finally {
      await close();
    }
  }
});

/**
 * `delivery.exhausted`, recorded with the attempt that failed a delivery for good, is stored at the
 * time the write gives the delivery's updatedAt: the database's, as the write's `endpoint.disabled`
 * and the API's operational events (listed with them by id, and kept by retention's cutoff in the
 * database's time). Until 2026-12-08 at the worker's now, on its clock: from one 20 s ahead 20 s on.
 */
test("delivery.exhausted recorded by a worker ahead is stored in the database's time", async () => {
  const { ahead, inStep, clock, close } = await aheadAndInStep();
  try {
    const { project } = await projectWithEndpoints(inStep, 1, Date.now() - 2_000);
    await inStep.acceptEvents(project.id, [eventInput()], Date.now() - 1_000);
    const [taken] = await ahead.claimDueDeliveries({
      limit: 1,
      leaseMs: 30_000,
      now: clock(),
      workerId: 'ahead',
    });
    assert.ok(taken);
    await ahead.recordAttempts(
      [
        attemptRecord(taken.delivery, taken.event, {
          outcome: 'failed',
          status: 'failed',
          startedAt: clock(),
          workerId: 'ahead',
          effect: 'none',
        }),
      ],
      { now: clock(), failureThreshold: 100 },
    );
    const delivery = await inStep.getDelivery(project.id, taken.delivery.id);
    assert.equal(delivery?.status, 'failed');
    const [exhausted] = (await inStep.listOperationalEvents(project.id, { limit: 10 })).data.filter(
      (e) => e.type === 'delivery.exhausted',
    );
    assert.ok(exhausted, 'delivery.exhausted recorded');
    assert.ok(
      Math.abs(exhausted.createdAt - delivery!.updatedAt) < SOON_MS,
      `at ${exhausted.createdAt - delivery!.updatedAt} ms from the delivery's updatedAt`,
    );
    assert.ok(
      Math.abs(exhausted.createdAt - Date.now()) < SOON_MS,
      `at ${exhausted.createdAt - Date.now()} ms from now`,
    );
  } finally {
    await close();
  }
});
