/**
 * The delivery loop: claim due deliveries in batches → build and sign → send → record attempts in
 * batches. One slow or dead endpoint cannot starve the others: each endpoint has an in-flight cap
 * and a saturated endpoint is left out of the next claims.
 */

import { counted } from '../domain/counted.ts';
import type { DeliveryStatus, Endpoint } from '../domain/types.ts';
import type { DeliveryOutcome } from '../metrics.ts';
import type { AttemptRecord, ClaimedDelivery } from '../store/store.ts';
import { createAttemptSlots } from './attempt-slots.ts';
import { attemptBytes, createByteBudget } from './byte-budget.ts';
import { createCallbackQueues } from './callback-queues.ts';
import { createClaimLoop } from './claim-loop.ts';
import { createDeferredWakeups } from './deferred-wakeups.ts';
import { createBatchDispatch } from './dispatch-batch.ts';
import type { Dispatcher, DispatcherOptions, DispatcherState } from './dispatcher-types.ts';
import { createEndpointQueues, FAILING_ENDPOINT_PAUSE_MS } from './endpoint-queues.ts';
import { createFailingEndpoints, FAILURES_IN_A_ROW } from './failing-endpoints.ts';
import { createHandBackRetry } from './hand-back-retry.ts';
import { createInFlightDeliveries, leaseOverrun } from './in-flight-deliveries.ts';
import { leaseEndOf } from './lease-left.ts';
import { LOCAL_FAILURE_RETRY_MS, LocalResourceError } from './local-failure.ts';
import { createProjectSchedules } from './project-schedules.ts';
import { createQueuedBytes } from './queued-bytes.ts';
import { createRateGate } from './rate-gate.ts';
import { createRecordQueue } from './record-queue.ts';
import { releaseItems, releaseOf } from './release-items.ts';
import { type AttemptSender, createAttemptSender } from './send-attempt.ts';
import { whyNotWritten } from './store-error-log.ts';
import { createPause, createWakeSignal } from './wake-signal.ts';

export type { Dispatcher, DispatcherHooks } from './dispatcher-types.ts';

/** The metrics label for the status a recorded attempt left its delivery in. */
function deliveryOutcome(status: DeliveryStatus): DeliveryOutcome {
  return status === 'pending' ? 'retrying' : status;
}

export { QUEUED_VIEW_MAX_AGE_MS } from './endpoint-queues.ts';

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, send, config, workerId } = options;
  const clock = options.clock ?? Date.now;
  const hooks = options.hooks ?? {};
  /**
   * What this dispatcher hands back goes back only while the claim handed back is still the
   * delivery's last, leased to it or to none (release-items.ts): a process paused past its leases
   * must not free deliveries another worker claimed since, nor undo when that worker's hand-back or
   * record made them due, nor free a newer claim this process took (store-types.ts ReleaseItem).
   * A hand-back whose write fails (a full disk) is written again until it goes through or its lease
   * runs out (hand-back-retry.ts): left as it was, its delivery waited out its whole lease.
   */
  const handBacks = createHandBackRetry({
    write: (items) => store.releaseDeliveries(items.map((item) => ({ ...item, heldBy: workerId }))),
    clock,
    leaseMs: config.leaseMs,
    onError: (error) => hooks.onError?.(error, 'release (trying again)'),
  });
  const handBack = handBacks.handBack;
  const readsAndReleases = {
    getDispatchEndpoints: store.getDispatchEndpoints.bind(store),
    releaseDeliveries: handBack,
  };
  const random = options.random ?? Math.random;
  const failingPauseMs = options.failingPauseMs ?? FAILING_ENDPOINT_PAUSE_MS;

  const state: DispatcherState = {
    running: false,
    waitingForSlot: false,
    secretsOpenedAt: Number.NEGATIVE_INFINITY,
  };
  /** stop()'s grace ran out: attempts still running then are not recorded. */
  let cutOff = false;
  let loopDone: Promise<void> = Promise.resolve();
  /**
   * Hand-offs (dispatchClaimed) under way: a stop waits for them as for the loop's last batch, so
   * that what one still reads the endpoints of is handed back before the stop goes on.
   */
  const handingOff = new Set<Promise<void>>();
  /** Endpoints that just failed: claimed only up to their free connections (failing-endpoints.ts). */
  const failing = createFailingEndpoints(
    failingPauseMs,
    Math.min(FAILURES_IN_A_ROW, config.failureThreshold),
    config.failureThreshold,
  );
  /** Records of failures that may disable their endpoint, held until they are written (failing-endpoints.ts). */
  const disabling = new WeakSet<AttemptRecord>();
  /** Per-endpoint rate limits, shared with every other process through the store (rate-gate.ts). */
  const rateGate = createRateGate(store);
  let unsubscribe: (() => void) | null = null;

  const signal = createWakeSignal();
  const wake = signal.wake;
  /** When the deliveries this process put back come due: the loop claims again then (deferred-wakeups.ts). */
  const deferredWakeups = createDeferredWakeups();
  /** The loop's pause after a key mismatch (KEY_MISMATCH_PAUSE_MS): only stop() ends it early. */
  const pause = createPause();

  /**
   * Deliveries whose attempt is out, until it settles: a claim of one (its lease ran out meanwhile)
   * is not sent again (in-flight-deliveries.ts).
   */
  const inFlight = createInFlightDeliveries(config.leaseMs);

  /** The last record write given up (onError): what the stop's line says of those given up. */
  let lastUnwritten: unknown = null;
  const recordQueue = createRecordQueue({
    store,
    maxBytes: config.bytesInFlight,
    failureThreshold: config.failureThreshold,
    clock,
    onWritten: (wasFull) => {
      reportLoad();
      if (wasFull) {
        callbacks.startAll();
        queues.startAll(config.concurrency - slots.inFlight);
      }
      if (state.waitingForSlot) wake();
    },
    onEndpointDisabled: (d) => hooks.onEndpointDisabled?.(d),
    onRecorded: (rec, status) => {
      inFlight.recorded(rec.attempt.deliveryId, rec.attempt.number - 1, clock());
      if (status === null) return; // the delivery was deleted while its attempt was out
      // A retry is claimed when its delay is up, not at the first poll after (up to a poll interval
      // late, past the schedule's jitter). One due before the loop's present sleep ends wakes it.
      const retryAt = status === 'pending' ? rec.next.nextAttemptAt : null;
      if (retryAt !== null) {
        deferredWakeups.add(retryAt);
        if (retryAt < clock() + config.pollIntervalMs) wake();
      }
      hooks.onAttempt?.({
        outcome: deliveryOutcome(status),
        durationMs: rec.attempt.durationMs,
        projectId: rec.attempt.projectId,
        endpointId: rec.attempt.endpointId,
      });
    },
    onSettled: (rec) => {
      inFlight.settle(rec.attempt.deliveryId, rec.attempt.number - 1);
      if (disabling.delete(rec)) {
        failing.recorded(rec.attempt.endpointId!);
        wake(); // a claim may take its deliveries again, unless it is disabled
      }
    },
    onError: (error) => {
      lastUnwritten = error;
      hooks.onError?.(error, 'recordAttempts');
    },
    onBusy: (error) => hooks.onError?.(error, 'recordAttempts (trying again)'),
  });
  const queueRecord = recordQueue.add;
  const reportLoad = () => hooks.onLoad?.(slots.inFlight + recordQueue.unrecorded);

  /** Projects' retry schedules, read at most every PROJECT_SCHEDULE_TTL_MS (project-schedules.ts). */
  const projectSchedule = createProjectSchedules(store, clock);

  const sendAttempt = createAttemptSender({
    send,
    clock,
    random,
    retryJitter: config.retryJitter,
    workerId,
    onAttempted: (rec) => {
      // Past stop()'s grace: not recorded. Such an attempt ends because the process is closing its
      // connections, not because the endpoint failed; its lease brings the delivery back.
      if (cutOff) {
        inFlight.settle(rec.attempt.deliveryId, rec.attempt.number - 1);
        return;
      }
      // The slot is free once the response is in; unrecorded attempts, which a crash would send
      // again, are bounded by the record queue: the loop claims nothing more while it is full
      // (record-queue.ts). hooks.onAttempt is called once the record is written, with the status
      // the store gave the delivery.
      queueRecord(rec);
      const endpointId = rec.attempt.endpointId;
      if (!endpointId) return;
      const failed = rec.endpointEffect !== 'success';
      // A failing endpoint (failures in a row, failing-endpoints.ts) gets no more of its queued work
      // from this batch: it goes back to the store, so the failure count (and a disable at the
      // threshold or on 410) decides first. One failure among successes leaves its queue alone;
      // a 410, which disables it at once, or a run of failures at the threshold, makes it failing at
      // once and holds it until this record is written: no claim takes any of it meanwhile, so
      // nothing more is sent to it before the store has decided whether it is disabled.
      const gone = rec.endpointEffect === 'gone';
      const counted = rec.endpointEffect !== 'none'; // a 429 does not count towards the threshold
      const ep = { endpointId, projectId: rec.attempt.projectId };
      const noted = failing.note(ep, failed, clock(), gone, counted);
      if (noted === 'disabling') disabling.add(rec);
      if (noted) queues.drop(endpointId);
    },
    // Nothing reached the receiver (this process is out of file descriptors or memory, or the
    // delivery proxy failed): handed back, due again shortly, with no attempt recorded and none of
    // its retries used up.
    onLocalFailure: (claimed, result) => {
      inFlight.settle(claimed.delivery.id, claimed.delivery.attempts);
      if (cutOff) return;
      const at = clock() + LOCAL_FAILURE_RETRY_MS;
      deferredWakeups.add(at);
      handBack([releaseOf(claimed.delivery, at)]).catch((error: unknown) =>
        hooks.onError?.(error, 'release'),
      );
      hooks.onError?.(new LocalResourceError(result.local!, result.error?.message ?? ''), 'send');
    },
  });

  /**
   * Whether an attempt of this claim is out already, or recorded after its lease ran out and since
   * this claim read the delivery (in-flight-deliveries.ts): reported, and skipped by the caller.
   */
  const outAlready = (d: ClaimedDelivery['delivery']) => {
    if (!inFlight.has(d)) return false;
    hooks.onError?.(leaseOverrun(d.id), 'lease');
    return true;
  };
  /**
   * An attempt of `claimed`, unless one of the same claim is out already (its lease ran out and
   * this process claimed it again): skipped, the claim's lease is this worker's, and the attempt
   * out settles the delivery.
   */
  const attempt: AttemptSender = (claimed, settings, secrets, timeoutMs, schedule) => {
    const d = claimed.delivery;
    if (outAlready(d)) return Promise.resolve();
    inFlight.add({ id: d.id, attempts: d.attempts, leasedUntil: leaseEndOf(claimed) });
    return sendAttempt(claimed, settings, secrets, timeoutMs, schedule).catch((error: unknown) => {
      // Ended without a record (it should not: failures are recorded): nothing else settles it.
      inFlight.settle(d.id, d.attempts);
      throw error;
    });
  };

  /**
   * Bytes of request bodies the attempts in flight hold (HERALD_DELIVERY_BYTES_IN_FLIGHT), shared
   * between projects as the slots are (byte-budget.ts).
   */
  const budget = createByteBudget({
    limitBytes: config.bytesInFlight,
    projectShare: config.perProjectConcurrency / config.concurrency,
    smallShare: config.perEndpointConcurrency / config.concurrency,
  });
  /** Each claimed delivery's attempt bytes, worked out once (a queued one is asked again). */
  const sizes = new WeakMap<ClaimedDelivery, number>();
  const bytesOf = (claimed: ClaimedDelivery, endpoint: Endpoint | null): number => {
    let bytes = sizes.get(claimed);
    if (bytes === undefined) {
      bytes = attemptBytes(claimed, endpoint);
      sizes.set(claimed, bytes);
    }
    return bytes;
  };
  /**
   * Takes the bytes of an attempt of `claimed` for its endpoint `key`: the function that gives them
   * back when the attempt ends, or null when they do not fit (the endpoint then waits for room, in
   * order; a callback, null key, does not).
   */
  const takeBytes = (
    key: string | null,
    claimed: ClaimedDelivery,
    endpoint: Endpoint | null,
  ): (() => void) | null => {
    const bytes = bytesOf(claimed, endpoint);
    const projectId = claimed.delivery.projectId;
    const taken = budget.take(key, projectId, bytes);
    if (!taken) return null;
    hooks.onBytesInFlight?.(budget.used);
    // The waiters of its project it was taken past, if any: owed the room until it is given back.
    const passed = taken === true ? undefined : taken;
    return () => {
      budget.give(projectId, bytes, passed);
      hooks.onBytesInFlight?.(budget.used);
      // Bytes given back without an attempt ending (taken for a queued delivery that did not
      // start): the waiting endpoints are looked at all the same, once the caller is done.
      queueMicrotask(startWaitingForRoom);
    };
  };
  /**
   * Starts the endpoints waiting for room that fit now, in order (byte-budget.ts next()). One still
   * first after its start has its queue's view being read: the pass stops there, and the read's
   * end starts it (with the attempt it then starts, an attempt ending goes on with the others).
   */
  const startWaitingForBytes = () => {
    for (let key = budget.next(); key !== null; ) {
      queues.start(key);
      const after = budget.next();
      if (after === key) break;
      key = after;
    }
  };

  /**
   * Bytes came back without an attempt ending: the endpoints waiting for room, then the callbacks
   * of projects with nothing in flight (no attempt of their own ends to look at them). Endpoints
   * alone, such a callback with room now waited for its half lease (callback-queues.ts expiry).
   */
  const startWaitingForRoom = () => {
    startWaitingForBytes();
    callbacks.startStranded();
  };

  /** The endpoint's timeout, capped by the installation's. */
  const timeoutOf = (ep: Endpoint) => Math.min(ep.timeoutMs || config.defaultTimeoutMs, config.maxTimeoutMs);

  /** Attempts running, per endpoint and per project, against their caps (attempt-slots.ts). */
  const slots = createAttemptSlots({
    config,
    onCount: reportLoad,
    onFreed: (key, projectId) => {
      // The attempt's bytes came back (before its slot): endpoints waiting for room go first, in
      // the order they began to wait.
      startWaitingForBytes();
      // The project's callbacks waiting for a slot take this one when their turn has come: when
      // they have no more attempts in flight than the endpoints with work waiting with the fewest
      // (callback-queues.ts).
      callbacks.freed(projectId);
      // A project slot is free: its endpoints with work waiting take it, the one with the fewest
      // attempts in flight first, then in turn (the one that waited longest first), then this
      // endpoint its own slot. This endpoint first, a project held at its cap gave each slot back
      // to the endpoint that freed it, and one left with none (its queue had emptied a moment)
      // waited for the others' queues to empty.
      queues.startProject(projectId);
      if (key) queues.start(key);
      // Any left: the callbacks', whatever their turn.
      callbacks.start(projectId);
      // Then the queues of projects with nothing in flight, queued while other projects' attempts
      // took every slot of the process: no attempt of their own ends to start them.
      queues.startStranded();
      callbacks.startStranded();
      if (state.waitingForSlot) wake();
    },
    onError: (error) => hooks.onError?.(error, 'attempt'),
  });
  const { launch } = slots;
  /**
   * How many more attempts of the project may start now (its slots, the record queue), less the
   * slots its endpoint queues whose views are being read will start in, one each as their reads
   * end (endpoint-queues.ts reading). Taken meanwhile (by its other endpoints, its callbacks, a
   * claim's deliveries), an endpoint whose read took longer than its view stays fresh (100 ms)
   * found none free when it ended, read again at the next, and waited as long as the others had
   * work: after the whole backlog of another endpoint (test/delivery/slow-view-reads.test.ts). And
   * the slot its queued callbacks will start in when their project's read again ends
   * (callback-queues.ts reading).
   */
  const projectRoom = (projectId: string) =>
    recordQueue.full
      ? 0
      : slots.projectAllowance(projectId) - queues.reading(projectId) - callbacks.reading(projectId);

  // The payloads claimed deliveries hold while they wait: bounded as the bytes in flight are, and
  // shared between projects the same way (queued-bytes.ts).
  const queuedBytes = createQueuedBytes({
    limitBytes: config.bytesInFlight,
    projectShare: config.perProjectConcurrency / config.concurrency,
    smallShare: config.perEndpointConcurrency / config.concurrency,
  });
  /** Deliveries claimed beyond their endpoint's free slots, started as slots free up (endpoint-queues.ts). */
  const queues = createEndpointQueues({
    store: readsAndReleases,
    config,
    clock,
    attempt,
    timeoutOf,
    running: () => state.running,
    canStart: (key, projectId) =>
      slots.ofEndpoint(key) < config.perEndpointConcurrency && projectRoom(projectId) > 0,
    projectRoom,
    inFlight: slots.ofProject,
    ofEndpoint: slots.ofEndpoint,
    // A read ended: its queue started in the slot left for it, or did not (no room for its body,
    // handed back), and the slot goes to the project's other queues and its callbacks, in turn.
    onRead: (projectId) => {
      callbacks.freed(projectId);
      queues.startProject(projectId);
      callbacks.start(projectId);
    },
    takeBytes,
    forgetBytes: budget.forget,
    waitsForBytes: budget.waits,
    leftWaitForBytes: () => queueMicrotask(startWaitingForRoom),
    queuedBytes,
    launch,
    failingPauseMs,
    onError: (error, during) => hooks.onError?.(error, during),
  });

  /**
   * Callbacks claimed while their project had no free slot, started in turn with its endpoint
   * queues (callback-queues.ts).
   */
  const callbacks = createCallbackQueues({
    config,
    clock,
    attempt,
    running: () => state.running,
    // Less the slots its endpoint queues whose views are being read will start in: the callbacks
    // took them meanwhile, and an endpoint that had waited for a slot longer than its view stays
    // fresh (100 ms) lost every one to them.
    projectRoom,
    inFlight: slots.ofProject,
    takeBytes: (claimed) => takeBytes(null, claimed, null),
    bytesFit: (claimed) => budget.fits(null, claimed.delivery.projectId, bytesOf(claimed, null)),
    queuedBytes,
    launch: (projectId, run) => launch(null, projectId, run),
    handBack: (claimed, delayMs) => {
      const at = clock() + delayMs;
      if (delayMs > 0) deferredWakeups.add(at);
      handBack(releaseItems(claimed, at)).catch((error: unknown) => hooks.onError?.(error, 'release'));
    },
    callbacksInFlight: slots.ofCallbacks,
    fewestInFlight: queues.fewestInFlight,
    projectExists: async (projectId) => (await store.getProject(projectId)) !== null,
    // The read ended: the callbacks started in the slot left for them, or went back, and what is
    // left goes to the project's endpoint queues, then its callbacks.
    onRead: (projectId) => {
      queues.startProject(projectId);
      callbacks.start(projectId);
    },
    onError: (error, during) => hooks.onError?.(error, during),
  });

  /** The pass over each claimed batch: launch, queue or put back each delivery (dispatch-batch.ts). */
  const dispatchBatch = createBatchDispatch({
    store: readsAndReleases,
    config,
    clock,
    workerId,
    hooks,
    state,
    projectSchedule,
    rateGate,
    deferredWakeups,
    slots,
    queues,
    callbacks,
    takeBytes,
    forgetBytes: budget.forget,
    attempt,
    queueRecord,
    timeoutOf,
    handBack,
    isHeld: failing.isHeld,
    failingPauseMs,
    outAlready,
  });

  /** The claim loop (claim-loop.ts); onDue is the store's wake-up for newly due work. */
  const { loop, onDue } = createClaimLoop({
    store,
    config,
    clock,
    workerId,
    hooks,
    state,
    slots,
    queues,
    callbacks,
    recordQueue,
    budget,
    failing,
    rateGate,
    signal,
    pause,
    deferredWakeups,
    dispatchBatch,
  });

  return {
    async start() {
      if (state.running) return;
      if (!store.capabilities.multiProcess) await store.releaseClaims('*', clock());
      // Parked deliveries of active endpoints (a resume after an enable cut short by a stop): in
      // the background, a batch per write, whatever process starts.
      void store.resumeStrandedParked(clock()).catch((error: unknown) => hooks.onError?.(error, 'resume'));
      state.running = true;
      handBacks.start();
      unsubscribe = store.subscribeDue(onDue);
      loopDone = loop();
    },
    async stop({ graceMs = 10_000 } = {}) {
      if (!state.running) return;
      state.running = false;
      // Records waiting for an unreachable database wait no longer than the attempts in flight:
      // then they are given up (their deliveries come back after the lease), so a stop during an
      // outage still ends within the supervisor's stop timeout.
      recordQueue.giveUpAfter(graceMs);
      const givenUpBefore = recordQueue.givenUp;
      unsubscribe?.();
      wake();
      pause.end();
      await loopDone;
      await Promise.all(handingOff);
      const settling = slots.settle(graceMs);
      // Claimed but never started: hand back at once, due now, so that another worker takes them
      // while the attempts in flight finish (or the next start, with SQLite), not a grace later.
      const held = queues.takeAll().concat(callbacks.takeAll());
      budget.forgetAll();
      if (held.length) {
        await handBack(releaseItems(held, clock())).catch((error: unknown) =>
          hooks.onError?.(error, 'release'),
        ); // the lease brings them back anyway
      }
      // Hand-backs whose write failed: one last try; else their lease brings them back.
      await handBacks.stop();
      const stillRunning = await settling;
      if (stillRunning > 0) {
        cutOff = true;
        hooks.onError?.(
          new Error(
            `${counted(stillRunning, 'attempts')} still in flight after the ${graceMs} ms grace ${stillRunning === 1 ? 'is' : 'are'} not recorded: ` +
              `${stillRunning === 1 ? 'its delivery is' : 'their deliveries are'} sent again once ${stillRunning === 1 ? 'its' : 'their'} lease runs out (at the next start with SQLite)`,
          ),
          'shutdown',
        );
      }
      // Attempts still running keep their lease (their records are not written, see cutOff): the
      // delivery comes back when it ends.
      await recordQueue.flush();
      // Attempts that ended but whose records could not be written before the stop (the database
      // out of reach): sent again, as those cut off above, and said as those are, or a receiver's
      // duplicates after such a stop would have no line explaining them.
      const givenUp = recordQueue.givenUp - givenUpBefore;
      if (givenUp > 0) {
        hooks.onError?.(
          new Error(
            `${counted(givenUp, 'attempts')} ended but ${givenUp === 1 ? 'its record' : 'their records'} could not be written before the stop (${whyNotWritten(lastUnwritten)}): ` +
              `${givenUp === 1 ? 'its delivery is' : 'their deliveries are'} sent again once ${givenUp === 1 ? 'its' : 'their'} lease runs out (at the next start with SQLite)`,
          ),
          'shutdown',
        );
      }
    },
    wake,
    bytesInFlight: () => budget.used,
    queuedBytes: () => queuedBytes.used,
    load: () => ({
      attemptsInFlight: slots.inFlight,
      attemptsUnrecorded: recordQueue.unrecorded,
      deliveriesQueued: queuedBytes.count,
      queuedBytes: queuedBytes.used,
    }),
    async dispatchClaimed(claimed) {
      // Stopping, or too many attempts wait for their record (the loop would not claim either):
      // handed back, due now, for a later claim.
      if (!state.running || recordQueue.full) {
        queues.release(claimed);
        return;
      }
      // Deliveries it puts back go into deferredWakeups; the release wakes the loop (both stores
      // wake their own dispatcher on a release), which then sleeps until they are due.
      const handing = dispatchBatch(claimed).catch((error: unknown) => hooks.onError?.(error, 'handoff'));
      handingOff.add(handing);
      await handing;
      handingOff.delete(handing);
    },
  };
}
