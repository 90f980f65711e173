/**
 * The delivery loop: claim due deliveries in batches → build and sign → send → record attempts in
 * batches. One slow or dead endpoint cannot starve the others: each endpoint has an in-flight cap
 * and a saturated endpoint is left out of the next claims.
 */

import { resolveSchedule } from '../domain/retry-schedule.ts';
import type { DeliveryStatus, Endpoint, Envelope } from '../domain/types.ts';
import type { DeliveryOutcome } from '../metrics.ts';
import { isSecretKeyMismatch } from '../store/secret-cipher.ts';
import type { ClaimedDelivery, ClaimFirst, ReleaseItem } from '../store/store.ts';
import { endpointDeletedRecord } from './attempt-outcome.ts';
import { createAttemptSlots } from './attempt-slots.ts';
import { readBatch } from './batch-reads.ts';
import { createDeferredWakeups } from './deferred-wakeups.ts';
import type { Dispatcher, DispatcherOptions } from './dispatcher-types.ts';
import { createEndpointQueues, FAILING_ENDPOINT_PAUSE_MS } from './endpoint-queues.ts';
import { createFailingEndpoints } from './failing-endpoints.ts';
import { LOCAL_FAILURE_RETRY_MS, LocalResourceError } from './local-failure.ts';
import { createProjectSchedules } from './project-schedules.ts';
import { createRateGate } from './rate-gate.ts';
import { createRecordQueue } from './record-queue.ts';
import { releaseItems } from './release-items.ts';
import { createAttemptSender } from './send-attempt.ts';
import { createPause, createWakeSignal } from './wake-signal.ts';

export type { Dispatcher, DispatcherHooks, DispatcherOptions } from './dispatcher-types.ts';

/** The metrics label for the status a recorded attempt left its delivery in. */
function deliveryOutcome(status: DeliveryStatus): DeliveryOutcome {
  return status === 'pending' ? 'retrying' : status;
}

/** Settings for one-off callbackUrl deliveries: POST, unsigned (webhook-id still sent), per envelope. */
const CALLBACK_SETTINGS: Record<Envelope, Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'>> = {
  standard: { method: 'POST', headers: {}, envelope: 'standard', signature: { scheme: 'none' } },
  'event-data': { method: 'POST', headers: {}, envelope: 'event-data', signature: { scheme: 'none' } },
  raw: { method: 'POST', headers: {}, envelope: 'raw', signature: { scheme: 'none' } },
};
/** Shortest pause between two claims that found nothing for the endpoints that are not saturated. */
const EMPTY_CLAIM_RETRY_MS = 20;
/**
 * Shortest pause before a claim for deliveries this process put back: with a rate limit of more
 * than 1000 / this a second, several come due per claim (sent as their tokens allow).
 */
const DEFERRED_CLAIM_MIN_MS = 2;
/**
 * How long claims pause after secrets this process's HERALD_ENCRYPTION_KEY cannot open (another
 * process resealed them with a new key): what it claimed goes back due at once, and a process with
 * the current key takes it meanwhile instead of racing this one for it every second. Wake-ups do
 * not end the pause; stop() does.
 */
export const KEY_MISMATCH_PAUSE_MS = 10_000;

export { QUEUED_VIEW_MAX_AGE_MS } from './endpoint-queues.ts';

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, send, config, workerId } = options;
  /**
   * What this dispatcher hands back goes back only while still leased to it: a process paused past
   * its leases must not free deliveries another worker claimed since (store-types.ts ReleaseItem).
   */
  const handBack = (items: ReleaseItem[]) =>
    store.releaseDeliveries(items.map((item) => ({ ...item, heldBy: workerId })));
  const readsAndReleases = {
    getDispatchEndpoints: store.getDispatchEndpoints.bind(store),
    releaseDeliveries: handBack,
  };
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const hooks = options.hooks ?? {};

  let running = false;
  /** stop()'s grace ran out: attempts still running then are not recorded. */
  let cutOff = false;
  let loopDone: Promise<void> = Promise.resolve();
  /** Endpoints that just failed: claimed only up to their free connections (failing-endpoints.ts). */
  const failing = createFailingEndpoints(FAILING_ENDPOINT_PAUSE_MS);
  /** Per-endpoint rate limits, shared with every other process through the store (rate-gate.ts). */
  const rateGate = createRateGate(store);
  let unsubscribe: (() => void) | null = null;
  /** The loop waits for a slot (or a record write) to claim more: finished attempts wake it. */
  let waitingForSlot = false;

  const signal = createWakeSignal();
  const wake = signal.wake;
  const sleep = signal.sleep;
  /** When the deliveries this process put back come due: the loop claims again then (deferred-wakeups.ts). */
  const deferredWakeups = createDeferredWakeups();
  /** Sleeps `ms`, or until the next delivery this process put back is due. */
  const sleepUntilDue = (ms: number) => sleep(deferredWakeups.sleepFor(ms, clock(), DEFERRED_CLAIM_MIN_MS));
  /** The loop's pause after a key mismatch (KEY_MISMATCH_PAUSE_MS): only stop() ends it early. */
  const pause = createPause();
  /**
   * When a batch's endpoint secrets last opened. A key mismatch with none opened for a pause's
   * length is this process's key (pause); one among batches that open is one bad stored secret,
   * which must not hold up the others for 10 s each time (the usual 1 s back-off).
   */
  let secretsOpenedAt = Number.NEGATIVE_INFINITY;

  const recordQueue = createRecordQueue({
    store,
    failureThreshold: config.failureThreshold,
    clock,
    onWritten: (wasFull) => {
      reportLoad();
      if (wasFull) queues.startAll(config.concurrency - slots.inFlight);
      if (waitingForSlot) wake();
    },
    onEndpointDisabled: (d) => hooks.onEndpointDisabled?.(d),
    onRecorded: (rec, status) => {
      if (status === null) return; // the delivery was deleted while its attempt was out
      hooks.onAttempt?.({
        outcome: deliveryOutcome(status),
        durationMs: rec.attempt.durationMs,
        projectId: rec.attempt.projectId,
        endpointId: rec.attempt.endpointId,
      });
    },
    onError: (error) => hooks.onError?.(error, 'recordAttempts'),
    onBusy: (error) => hooks.onError?.(error, 'recordAttempts (trying again)'),
  });
  const queueRecord = recordQueue.add;
  const reportLoad = () => hooks.onLoad?.(slots.inFlight + recordQueue.unrecorded);

  /** Projects' retry schedules, read at most every PROJECT_SCHEDULE_TTL_MS (project-schedules.ts). */
  const projectSchedule = createProjectSchedules(store, clock);

  const rateWait = (endpoint: Endpoint, now: number): number => rateGate.take(endpoint, now);

  const attempt = createAttemptSender({
    send,
    clock,
    random,
    retryJitter: config.retryJitter,
    workerId,
    onAttempted: (rec) => {
      // Past stop()'s grace: not recorded. Such an attempt ends because the process is closing its
      // connections, not because the endpoint failed; its lease brings the delivery back.
      if (cutOff) return;
      // The slot is free once the response is in; unrecorded attempts, which a crash would send
      // again, are bounded by the record queue: the loop claims nothing more while it is full
      // (record-queue.ts). hooks.onAttempt is called once the record is written, with the status
      // the store gave the delivery.
      queueRecord(rec);
      const endpointId = rec.attempt.endpointId;
      if (!endpointId) return;
      const failed = rec.endpointEffect !== 'success';
      failing.note({ endpointId, projectId: rec.attempt.projectId }, failed, clock());
      // A failing endpoint gets no more of its queued work from this batch: it goes back to the
      // store, so the failure count (and a disable at the threshold or on 410) decides first.
      if (failed) queues.drop(endpointId);
    },
    // Nothing reached the receiver (this process is out of file descriptors or memory): handed
    // back, due again shortly, with no attempt recorded and none of its retries used up.
    onLocalFailure: (claimed, result) => {
      if (cutOff) return;
      const at = clock() + LOCAL_FAILURE_RETRY_MS;
      deferredWakeups.add(at);
      const { projectId, id } = claimed.delivery;
      handBack([{ projectId, deliveryId: id, nextAttemptAt: at }]).catch((error: unknown) =>
        hooks.onError?.(error, 'release'),
      );
      hooks.onError?.(new LocalResourceError(result.local!, result.error?.message ?? ''), 'send');
    },
  });

  /** The endpoint's timeout, capped by the installation's. */
  const timeoutOf = (ep: Endpoint) => Math.min(ep.timeoutMs || config.defaultTimeoutMs, config.maxTimeoutMs);

  /** Attempts running, per endpoint and per project, against their caps (attempt-slots.ts). */
  const slots = createAttemptSlots({
    config,
    onCount: reportLoad,
    onFreed: (key, projectId) => {
      if (key) queues.start(key);
      // A project slot is free: the project's other endpoints may have work waiting for one.
      queues.startProject(projectId);
      if (waitingForSlot) wake();
    },
    onError: (error) => hooks.onError?.(error, 'attempt'),
  });
  const { launch, projectFull } = slots;

  /** Deliveries claimed beyond their endpoint's free slots, started as slots free up (endpoint-queues.ts). */
  const queues = createEndpointQueues({
    store: readsAndReleases,
    config,
    clock,
    attempt,
    timeoutOf,
    running: () => running,
    canStart: (key, projectId) =>
      !recordQueue.full && slots.ofEndpoint(key) < config.perEndpointConcurrency && !projectFull(projectId),
    projectRoom: (projectId) => (recordQueue.full ? 0 : slots.projectAllowance(projectId)),
    launch,
    onError: (error, during) => hooks.onError?.(error, during),
  });

  /**
   * Launches or releases every claimed delivery, once its store reads are done (batch-reads.ts):
   * this pass is synchronous up to the release write. What it puts back is remembered in
   * deferredWakeups.
   */
  const dispatchBatch = async (claimed: ClaimedDelivery[]): Promise<void> => {
    const { endpoints, schedules, readAt } = await readBatch(
      readsAndReleases,
      claimed,
      projectSchedule,
      rateGate,
      clock,
    );
    const now = clock();
    const releases: ReleaseItem[] = [];
    // Endpoints whose secrets did not open with this process's key: their deliveries go back, due
    // at once for a process with the right key when none of the batch opened (this one then pauses,
    // below), in a second when the others did (one bad stored secret); the others go out.
    let unopened: Error | undefined;
    let opened = false;
    for (const target of endpoints.values()) {
      if (target.unopened) unopened ??= target.unopened;
      else opened = true;
    }
    if (opened) secretsOpenedAt = readAt;
    /** Put back until `at`; `rateLimited`: no token (removing or raising the limit makes it due at once). */
    const defer = (d: ClaimedDelivery['delivery'], at: number, rateLimited: boolean) => {
      releases.push({ projectId: d.projectId, deliveryId: d.id, nextAttemptAt: at, rateLimited });
      deferredWakeups.add(at);
    };
    for (const c of claimed) {
      const d = c.delivery;
      const projSchedule = schedules.get(d.projectId) ?? null;
      if (d.endpointId === null) {
        const schedule = resolveSchedule(null, projSchedule, config.retrySchedule);
        if (projectFull(d.projectId)) {
          defer(d, now + 50, false); // the project's share of slots is taken: later
          continue;
        }
        const settings = CALLBACK_SETTINGS[c.event.callbackEnvelope ?? 'standard'];
        launch(null, d.projectId, () => attempt(c, settings, [], config.defaultTimeoutMs, schedule));
        continue;
      }
      const target = endpoints.get(d.endpointId);
      if (!target) {
        // Endpoint deleted after the event was accepted: nothing to send it to.
        queueRecord(endpointDeletedRecord(d, c.event, workerId, now), false);
        continue;
      }
      if (target.unopened) {
        releases.push({
          projectId: d.projectId,
          deliveryId: d.id,
          nextAttemptAt: opened ? now + 1_000 : now,
        });
        continue;
      }
      const ep = target.endpoint;
      if (ep.status === 'disabled') {
        releases.push({ projectId: d.projectId, deliveryId: d.id, nextAttemptAt: now, status: 'parked' });
        continue;
      }
      if (
        slots.ofEndpoint(ep.id) + queues.length(ep.id) >= config.perEndpointConcurrency ||
        projectFull(d.projectId)
      ) {
        // Held here (up to one cap's worth) and started as slots free up, its endpoint's or its
        // project's: releasing them would cost a write per delivery and bring them straight back.
        // The rest go back to the store.
        if (queues.length(ep.id) < config.claimBatch + config.perEndpointConcurrency) {
          const tokenWait = rateWait(ep, now); // a queued delivery needs its token as well
          if (tokenWait > 0) {
            defer(d, rateGate.putBackAt(ep, d.id, now, tokenWait), true);
            continue;
          }
          queues.push(c, target, readAt, projSchedule);
        } else {
          defer(d, now + 50, false);
        }
        continue;
      }
      const wait = rateWait(ep, now);
      if (wait > 0) {
        // Spread one token apart, across claims too: they come back one at a time, as tokens do.
        defer(d, rateGate.putBackAt(ep, d.id, now, wait), true);
        continue;
      }
      const timeoutMs = timeoutOf(ep);
      const schedule = resolveSchedule(ep.retrySchedule, projSchedule, config.retrySchedule);
      launch(ep.id, d.projectId, () => attempt(c, ep, target.secrets, timeoutMs, schedule));
    }
    if (releases.length) await handBack(releases);
    // None opened: the claim's failure (the loop backs off, or pauses when no secret opened lately).
    // Some did: logged, and the loop goes on with the others.
    if (unopened && !opened) throw unopened;
    if (unopened) hooks.onError?.(unopened, 'dispatch endpoints');
  };

  /**
   * The endpoints a claim leaves out: the saturated ones and those failing (failing-endpoints.ts);
   * and for each failing one with free connections, a claim of that many first.
   */
  const leaveOutFailing = (saturated: string[], now: number) => {
    const leftOut = new Set(saturated);
    const failingFirst: ClaimFirst[] = [];
    for (const ep of failing.at(now)) {
      if (leftOut.has(ep.endpointId)) continue;
      leftOut.add(ep.endpointId);
      if (projectFull(ep.projectId)) continue;
      const room =
        config.perEndpointConcurrency - slots.ofEndpoint(ep.endpointId) - queues.length(ep.endpointId);
      if (room > 0) failingFirst.push({ ...ep, limit: room });
    }
    return { leftOut, failingFirst };
  };

  let newWork = true;
  let emptyClaimKey: string | null = null;
  let emptyClaimAt = 0;
  const onDue = () => {
    newWork = true;
    wake();
  };

  const loop = async () => {
    while (running) {
      // Deliveries put back earlier are due: as good a reason to claim as newly accepted work.
      if (deferredWakeups.takeDue(clock())) newWork = true;
      const free = config.concurrency - slots.inFlight;
      // With attempts in flight, wait until a worthwhile batch of slots is free: claiming one
      // delivery per finished attempt costs a transaction each (a 10,000-endpoint fan-out made
      // 9,500 claims of one).
      const minClaim =
        slots.inFlight > 0 ? Math.min(config.claimBatch, Math.ceil(config.concurrency / 8)) : 1;
      if (free < minClaim || recordQueue.full) {
        waitingForSlot = true;
        await sleep(config.pollIntervalMs);
        continue;
      }
      const limit = Math.min(config.claimBatch, free);
      try {
        // Left out of the claim: endpoints with a cap's worth queued that cannot start more, their
        // own slots or their project's taken (a project at its cap: one tenant's slow endpoints do
        // not fill the claims, and so the slots, that other tenants' work needs).
        const saturated = queues.saturated(
          config.perEndpointConcurrency,
          (id, projectId) => slots.ofEndpoint(id) >= config.perEndpointConcurrency || projectFull(projectId),
        );
        const now = clock();
        // Failing endpoints are left out too, but get what their free connections can start.
        const { leftOut, failingFirst } = leaveOutFailing(saturated, now);
        // After a claim that left endpoints out and found nothing, claim again only when the set of
        // saturated endpoints changes, new work arrives (looked for at most every
        // EMPTY_CLAIM_RETRY_MS: a steady stream of accepted events is often for the saturated
        // endpoints too), or the poll interval passes; not after every finished attempt.
        const key = [...leftOut].sort().join(',');
        const retryAfter = newWork ? EMPTY_CLAIM_RETRY_MS : config.pollIntervalMs;
        // Endpoints whose put-backs (no rate token then) are due go first, ahead of older work.
        const gateFirst = rateGate.claimFirst(now, (id) => leftOut.has(id));
        const first = failingFirst.length ? gateFirst.concat(failingFirst) : gateFirst;
        // A failing endpoint's free connections are no reason to claim again: after a claim that
        // found nothing for them, the next comes with new work or the poll (its retries are due
        // later), not after every finished attempt (71 empty claims in 0.6 s in a test).
        if (
          gateFirst.length === 0 &&
          leftOut.size > 0 &&
          key === emptyClaimKey &&
          now - emptyClaimAt < retryAfter
        ) {
          await sleepUntilDue(retryAfter - (now - emptyClaimAt));
          continue;
        }
        // Wake-ups so far are answered by this claim; one that comes while it runs makes another.
        newWork = false;
        signal.clear();
        const claimStarted = performance.now();
        const claimed = await store.claimDueDeliveries({
          limit,
          leaseMs: config.leaseMs,
          now,
          workerId,
          excludeEndpointIds: [...leftOut],
          ...(first.length ? { first } : {}),
        });
        rateGate.claimedFirst(gateFirst, claimed, now, limit);
        hooks.onClaim?.({ durationMs: performance.now() - claimStarted, claimed: claimed.length });
        // A finished attempt is worth a new claim only when capacity held work back: the batch was
        // full (more may be due) or endpoints were left out. Otherwise only new work or the poll wakes it.
        waitingForSlot = claimed.length >= limit || leftOut.size > 0;
        if (claimed.length === 0 && leftOut.size > 0) {
          emptyClaimKey = key;
          emptyClaimAt = clock();
        } else emptyClaimKey = null;
        if (claimed.length) await dispatchBatch(claimed);
        // Not a full batch: sleep until the poll, new work, or the next delivery put back (by this
        // claim or an earlier one: a rate limit's are due one token apart) is due.
        if (claimed.length < limit) await sleepUntilDue(config.pollIntervalMs);
        // A full batch: claim again, but after the event loop has read the responses that came in
        // meanwhile. Claims chained on promises alone would hold it (the store answers without I/O),
        // and attempts would time out with their responses unread.
        else await yieldToIo();
      } catch (error) {
        hooks.onError?.(error, 'claim');
        if (isSecretKeyMismatch(error) && clock() - secretsOpenedAt >= KEY_MISMATCH_PAUSE_MS) {
          await pause.sleep(KEY_MISMATCH_PAUSE_MS);
        } else await sleep(Math.max(config.pollIntervalMs, 1000));
      }
    }
  };

  return {
    async start() {
      if (running) return;
      if (!store.capabilities.multiProcess) await store.releaseClaims('*', clock());
      // Parked deliveries of active endpoints (a resume after an enable cut short by a stop): in
      // the background, a batch per write, whatever process starts.
      void store.resumeStrandedParked(clock()).catch((error: unknown) => hooks.onError?.(error, 'resume'));
      running = true;
      unsubscribe = store.subscribeDue(onDue);
      loopDone = loop();
    },
    async stop({ graceMs = 10_000 } = {}) {
      if (!running) return;
      running = false;
      unsubscribe?.();
      wake();
      pause.end();
      await loopDone;
      const stillRunning = await slots.settle(graceMs);
      if (stillRunning > 0) {
        cutOff = true;
        hooks.onError?.(
          new Error(
            `${stillRunning} attempts still in flight after the ${graceMs} ms grace are not recorded: ` +
              'their deliveries are sent again once their lease runs out (at the next start with SQLite)',
          ),
          'shutdown',
        );
      }
      // Claimed but never started: hand back, due now, so another worker (or the next start) takes them.
      const held = queues.takeAll();
      const now = clock();
      if (held.length) {
        await handBack(releaseItems(held, now)).catch((error: unknown) => hooks.onError?.(error, 'release')); // the lease brings them back anyway
      }
      // Attempts still running keep their lease (their records are not written, see cutOff): the
      // delivery comes back when it ends.
      await recordQueue.flush();
    },
    wake,
    async dispatchClaimed(claimed) {
      // Stopping, or too many attempts wait for their record (the loop would not claim either):
      // handed back, due now, for a later claim.
      if (!running || recordQueue.full) {
        queues.release(claimed);
        return;
      }
      // Deliveries it puts back go into deferredWakeups; the release wakes the loop (both stores
      // wake their own dispatcher on a release), which then sleeps until they are due.
      await dispatchBatch(claimed).catch((error: unknown) => hooks.onError?.(error, 'handoff'));
    },
  };
}
