/**
 * The dispatcher's claim loop: claims due deliveries in batches while slots are free, leaving out
 * saturated and failing endpoints, and hands each batch to the batch pass (dispatch-batch.ts); it
 * sleeps until the poll interval, new work, or the next delivery put back is due.
 */

import { CALLBACKS_ID } from '../store/claim-turns.ts';
import { isSecretKeyMismatch } from '../store/secret-cipher.ts';
import type { ClaimedDelivery, ClaimFirst, Store } from '../store/store.ts';
import type { AttemptSlots } from './attempt-slots.ts';
import type { ByteBudget } from './byte-budget.ts';
import type { CallbackQueues } from './callback-queues.ts';
import type { DeferredWakeups } from './deferred-wakeups.ts';
import type { DispatcherHooks, DispatcherOptions, DispatcherState } from './dispatcher-types.ts';
import type { EndpointQueues } from './endpoint-queues.ts';
import type { FailingEndpoints } from './failing-endpoints.ts';
import type { RateGate } from './rate-gate.ts';
import type { RecordQueue } from './record-queue.ts';
import { OPENED_LATELY_MS } from './secret-key-readiness.ts';
import type { Pause, WakeSignal } from './wake-signal.ts';

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
/** The claims' pause after a batch none of whose secrets opened, while others opened lately. */
export const KEY_MISMATCH_RETRY_MS = 1_000;

/**
 * The most the first claim takes, before any claim told what payloads weigh (the limit then doubles
 * at each claim of small ones): a process started on a backlog of 200 distinct 1 MiB events (an
 * `api` process accepted them, or a restart released them) claimed 256 at once, and under
 * `--max-old-space-size=160` its dispatcher thread ran out of heap before the process was ready.
 */
const FIRST_CLAIM_MAX = 16;

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The characters of payload a claim brought per delivery: one copy per event read (deliveries of
 * one event in a claim share it), the rest each their own.
 */
export function payloadPerClaimed(claimed: readonly ClaimedDelivery[]): number {
  const events = new Set<unknown>();
  let chars = 0;
  for (const c of claimed) {
    if (events.has(c.event)) continue;
    events.add(c.event);
    chars += c.payloadJson?.length ?? 0;
  }
  return claimed.length ? chars / claimed.length : 0;
}

/**
 * Whether the payloads a claim brought (one copy per event) hold `room` bytes of UTF-8: the store
 * stops a claim there (ClaimOptions.maxBytes), so more may be due. Counted in characters, a claim
 * of non-ASCII payloads cut by its bytes looked short, and the loop waited for the poll after each:
 * 24 events of 100,000 bytes ('é' × 50,000) under a 400 KiB budget took 20 s with a 5 s poll
 * instead of 0.3 s. Bytes are counted only when the characters leave it in doubt (a UTF-16 unit is
 * at most 3 bytes of UTF-8).
 */
export function payloadsFill(claimed: readonly ClaimedDelivery[], room: number): boolean {
  const events = new Set<unknown>();
  const payloads: string[] = [];
  let chars = 0;
  for (const c of claimed) {
    if (events.has(c.event) || c.payloadJson === undefined) continue;
    events.add(c.event);
    payloads.push(c.payloadJson);
    chars += c.payloadJson.length;
  }
  if (chars >= room) return true;
  if (chars * 3 < room) return false;
  let bytes = 0;
  for (const p of payloads) bytes += Buffer.byteLength(p, 'utf8');
  return bytes >= room;
}

export interface ClaimLoopOptions {
  store: Pick<Store, 'claimDueDeliveries'>;
  config: DispatcherOptions['config'];
  clock: () => number;
  workerId: string;
  hooks: DispatcherHooks;
  /** Read: whether the dispatcher runs, when secrets last opened; written: whether it waits for a slot. */
  state: DispatcherState;
  slots: AttemptSlots;
  queues: EndpointQueues;
  /** Callbacks waiting for a slot of their project (callback-queues.ts). */
  callbacks: Pick<CallbackQueues, 'length' | 'space'>;
  recordQueue: RecordQueue;
  /** Bytes of the attempts in flight (byte-budget.ts): no claims while it is full. */
  budget: Pick<ByteBudget, 'full'>;
  failing: FailingEndpoints;
  rateGate: RateGate;
  signal: WakeSignal;
  /** The loop's pause after a key mismatch (KEY_MISMATCH_PAUSE_MS): only stop() ends it early. */
  pause: Pause;
  deferredWakeups: DeferredWakeups;
  /** The batch pass (dispatch-batch.ts). */
  dispatchBatch(claimed: ClaimedDelivery[]): Promise<void>;
}

export interface ClaimLoop {
  /** Runs until `state.running` is false. */
  loop(): Promise<void>;
  /** The store's wake-up for newly due work (subscribeDue). */
  onDue(): void;
}

export function createClaimLoop(options: ClaimLoopOptions): ClaimLoop {
  const {
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
  } = options;
  const { projectFull } = slots;
  const wake = signal.wake;
  const sleep = signal.sleep;
  /** Sleeps `ms`, or until the next delivery this process put back is due. */
  const sleepUntilDue = (ms: number) => sleep(deferredWakeups.sleepFor(ms, clock(), DEFERRED_CLAIM_MIN_MS));

  /**
   * The endpoints a claim leaves out: the saturated ones and those failing (failing-endpoints.ts);
   * and for each failing one with free connections, a claim of that many first; and the turned
   * away ones their project's queued bytes have room for now (`turnedFirst`), one delivery each.
   */
  const leaveOutFailing = (saturated: string[], turnedFirst: ClaimFirst[], now: number) => {
    // Held (a failure that may have disabled it, its record on its way): left out whole.
    const held = failing.held();
    const leftOut = new Set(saturated.concat(held));
    const failingFirst: ClaimFirst[] = [];
    const failingNow = failing.at(now);
    // Turned away for want of queued room, and given a delivery of that room (turnedAway): but a
    // held endpoint gets none, and neither does a failing one (its turn passes: it is left out below
    // with the rest of `saturated`, until its pause ends, FAILING_ENDPOINT_PAUSE_MS after its last
    // failure, or its project has room for one of each).
    if (turnedFirst.length) {
      const not = new Set(held.concat(failingNow.map((ep) => ep.endpointId)));
      for (const ep of turnedFirst) if (!not.has(ep.endpointId)) failingFirst.push(ep);
    }
    for (const ep of failingNow) {
      if (leftOut.has(ep.endpointId)) continue;
      leftOut.add(ep.endpointId);
      if (projectFull(ep.projectId)) continue;
      const room =
        config.perEndpointConcurrency - slots.ofEndpoint(ep.endpointId) - queues.length(ep.endpointId);
      if (room > 0) failingFirst.push({ ...ep, limit: room });
    }
    return { leftOut, failingFirst };
  };

  /**
   * The payload each claimed delivery held lately (payloadPerClaimed), halved at each claim that
   * brought less: a claim reads every payload it takes at once, so its size is bounded by the
   * bytes in flight too. Counted by number alone, claims of up to 256 distinct 1 MiB events (to
   * endpoints whose project's bytes were taken, only to be handed back) ran a 160 MiB heap out.
   * Nothing claimed yet, the sizes are unknown: the first claim takes at most FIRST_CLAIM_MAX.
   */
  let perClaimed = config.bytesInFlight / FIRST_CLAIM_MAX;
  /**
   * Projects whose callbacks (callbackUrl, no endpoint) claims brought, kept while they have
   * attempts in flight or callbacks queued. A project's callbacks wait for its slots in a queue of
   * their own, a cap's worth at most (callback-queues.ts); beyond that they go back to the store,
   * due 50 ms later. So the callbacks of such a project with no room to start or queue more are
   * left out of a claim, as its endpoints with a cap's worth queued are, and those of one with
   * less room (free slots and queue) than the claim takes are left out of its oldest due and
   * claimed first, up to that room: claims took them and handed them back, claim after claim while
   * the project stayed near its cap (634 claims for 40 callbacks, 594 handed back, in
   * project-cap-callbacks.test.ts). Without callbacks the set stays empty, and claims are as
   * before. A project with nothing in flight or queued is forgotten (after one more claim that
   * takes its callbacks first, which brings it back if it has more): kept while it had less room
   * than a claim takes (a cap below the claim's size, or a busy process: most of the time), every
   * project that ever had a callback, deleted ones too, stayed for good, each claim probing for its
   * callbacks and waking at every attempt's end.
   */
  const callbackProjects = new Set<string>();
  const callbacksLeftOut = (limit: number): { out: string[]; first: ClaimFirst[] } => {
    const out: string[] = [];
    const first: ClaimFirst[] = [];
    for (const projectId of callbackProjects) {
      if (slots.ofProject(projectId) === 0 && callbacks.length(projectId) === 0)
        callbackProjects.delete(projectId);
      const room = slots.projectAllowance(projectId) + callbacks.space(projectId);
      if (room >= limit) continue;
      out.push(projectId);
      if (room > 0) first.push({ projectId, endpointId: CALLBACKS_ID, limit: room });
    }
    return { out, first };
  };
  let newWork = true;
  let emptyClaimKey: string | null = null;
  let emptyClaimAt = 0;
  const onDue = () => {
    newWork = true;
    wake();
  };

  const loop = async () => {
    while (state.running) {
      // Deliveries put back earlier are due: as good a reason to claim as newly accepted work.
      if (deferredWakeups.takeDue(clock())) newWork = true;
      const free = config.concurrency - slots.inFlight;
      // With attempts in flight, wait until a worthwhile batch of slots is free: claiming one
      // delivery per finished attempt costs a transaction each (a 10,000-endpoint fan-out made
      // 9,500 claims of one).
      const minClaim =
        slots.inFlight > 0 ? Math.min(config.claimBatch, Math.ceil(config.concurrency / 8)) : 1;
      // Attempts wait for room for their bodies: claiming more would only hold more bodies,
      // waiting. Attempts ending wake the loop.
      if (free < minClaim || recordQueue.full || budget.full) {
        state.waitingForSlot = true;
        await sleep(config.pollIntervalMs);
        continue;
      }
      const byBytes = perClaimed > 0 ? Math.max(1, Math.floor(config.bytesInFlight / perClaimed)) : free;
      const limit = Math.min(config.claimBatch, free, byBytes);
      try {
        // Left out of the claim: endpoints with a cap's worth queued, enough to fill every slot
        // they may have (a project at its cap: one tenant's slow endpoints do not fill the claims,
        // and so the slots, that other tenants' work needs). Whether they can start more now is
        // not asked: a queue of a cap's worth that can start more is one whose view is being read
        // again (endpoint-queues.ts), its project's slot free meanwhile, and a claim made then took
        // every such endpoint of the project at its cap, beyond what its queue holds (a claim and a
        // cap's worth): the rest went back to the store, due 50 ms later, behind the whole due
        // backlog, and was claimed again and again (~700 a second in a soak at a cap of 12).
        // Queues below a cap's worth take a claim's worth without overflowing.
        // And those whose deliveries found no room to wait in (their project at its share of the
        // queued bytes, queued-bytes.ts): claiming more of them would only hand them back.
        // Those the room of their project's queued bytes holds now are claimed first, one
        // delivery each (endpoint-queues.ts turnedAway).
        const turned = queues.turnedAway();
        const saturated = queues.saturated(config.perEndpointConcurrency).concat(turned.out);
        const now = clock();
        // Failing endpoints are left out too, but get what their free connections can start.
        const { leftOut, failingFirst } = leaveOutFailing(saturated, turned.first, now);
        // And the callbacks of projects at their cap with a cap's worth queued, or near it (claimed
        // first, up to their room: free slots and queue).
        const callbacks = callbackProjects.size ? callbacksLeftOut(limit) : null;
        const callbacksOut = callbacks?.out ?? [];
        const leavesOut = leftOut.size > 0 || callbacksOut.length > 0;
        // After a claim that left endpoints out and found nothing, claim again only when the set of
        // saturated endpoints changes, new work arrives (looked for at most every
        // EMPTY_CLAIM_RETRY_MS: a steady stream of accepted events is often for the saturated
        // endpoints too), or the poll interval passes; not after every finished attempt.
        // Callbacks of a project at its cap are claimed again once it has room (the key changes).
        // Endpoints turned away whose project's queued bytes have room again are claimed again
        // when that room comes (the key changes: they are given a delivery first).
        const given = turned.first.length ? `+${turned.first.map((f) => f.endpointId).join(',')}` : '';
        const key = callbacks
          ? `${[...leftOut].sort().join(',')}${given}/${callbacksOut.sort().join(',')}/${callbacks.first
              .map((f) => f.projectId)
              .sort()
              .join(',')}`
          : [...leftOut].sort().join(',') + given;
        const retryAfter = newWork ? EMPTY_CLAIM_RETRY_MS : config.pollIntervalMs;
        // Endpoints whose put-backs (no rate token then) are due go first, ahead of older work.
        const gateFirst = rateGate.claimFirst(now, (id) => leftOut.has(id));
        // The rest of the claim leaves those out (only their tokens' worth is taken, above), and
        // the endpoints whose next token is a moment away until it comes (claimed again then):
        // what it took of them beyond their tokens would only go back (rate-gate.ts noTokenYet).
        const noToken = rateGate.noTokenYet(now);
        if (noToken.until !== null) deferredWakeups.add(noToken.until);
        const rateOut =
          gateFirst.length || noToken.endpointIds.length
            ? gateFirst.map((f) => f.endpointId).concat(noToken.endpointIds)
            : null;
        const others = callbacks?.first.length ? failingFirst.concat(callbacks.first) : failingFirst;
        const first = others.length ? gateFirst.concat(others) : gateFirst;
        // A failing endpoint's free connections are no reason to claim again: after a claim that
        // found nothing for them, the next comes with new work or the poll (its retries are due
        // later), not after every finished attempt (71 empty claims in 0.6 s in a test).
        if (gateFirst.length === 0 && leavesOut && key === emptyClaimKey && now - emptyClaimAt < retryAfter) {
          await sleepUntilDue(retryAfter - (now - emptyClaimAt));
          continue;
        }
        // Wake-ups so far are answered by this claim; one that comes while it runs makes another.
        newWork = false;
        signal.clear();
        // A claim that leaves work out is answered by the attempts ending while it runs too: a
        // project's callbacks left out while it was full were claimed at the next poll when its
        // attempts ended during the claim that left them out (they have no queue to start from).
        if (leavesOut) state.waitingForSlot = true;
        const claimStarted = performance.now();
        const claimed = await store.claimDueDeliveries({
          limit,
          leaseMs: config.leaseMs,
          now,
          workerId,
          excludeEndpointIds: rateOut ? [...leftOut, ...rateOut] : [...leftOut],
          ...(callbacksOut.length ? { excludeCallbackProjectIds: callbacksOut } : {}),
          ...(first.length ? { first } : {}),
          // The store stops reading payloads past this (always one event): sized by count alone,
          // after claims of small events a burst of 200 distinct 1 MiB events was claimed 256 at
          // once (perClaimed had halved to a few bytes) and ran a 160 MiB heap out.
          maxBytes: config.bytesInFlight,
        });
        // Stopped by its bytes: more may be due, as after a full batch.
        const full = claimed.length >= limit || payloadsFill(claimed, config.bytesInFlight);
        // A claim cut by its bytes may have stopped before some endpoints asked for first, as a full one.
        rateGate.claimedFirst(gateFirst, claimed, now, full);
        if (claimed.length) perClaimed = Math.max(payloadPerClaimed(claimed), perClaimed / 2);
        for (const c of claimed)
          if (c.delivery.endpointId === null) callbackProjects.add(c.delivery.projectId);
        hooks.onClaim?.({ durationMs: performance.now() - claimStarted, claimed: claimed.length });
        // A finished attempt is worth a new claim only when capacity held work back: the batch was
        // full (more may be due) or endpoints were left out. Otherwise only new work or the poll wakes it.
        state.waitingForSlot = full || leavesOut;
        if (claimed.length === 0 && leavesOut) {
          emptyClaimKey = key;
          emptyClaimAt = clock();
        } else emptyClaimKey = null;
        if (claimed.length) await dispatchBatch(claimed);
        // An endpoint that got all its tokens' worth may have more due: claimed again at its next token.
        const tokenAt = rateGate.nextClaimAt();
        if (tokenAt !== null) deferredWakeups.add(tokenAt);
        // Not a full batch: sleep until the poll, new work, or the next delivery put back (by this
        // claim or an earlier one: a rate limit's are due one token apart) is due.
        if (!full) await sleepUntilDue(config.pollIntervalMs);
        // A full batch: claim again, but after the event loop has read the responses that came in
        // meanwhile. Claims chained on promises alone would hold it (the store answers without I/O),
        // and attempts would time out with their responses unread.
        else await yieldToIo();
      } catch (error) {
        hooks.onError?.(error, 'claim');
        if (isSecretKeyMismatch(error)) {
          // Nothing of the batch opened. Secrets that opened lately: one endpoint's secret, or a
          // reseal a moment ago; either way a second, which new work does not cut short (it did:
          // a worker on the old key under load claimed and handed back at every event accepted,
          // racing the new-key worker for the same deliveries until its 10 s pause began).
          const opened = clock() - state.secretsOpenedAt < OPENED_LATELY_MS;
          await pause.sleep(opened ? KEY_MISMATCH_RETRY_MS : KEY_MISMATCH_PAUSE_MS);
        } else await sleep(Math.max(config.pollIntervalMs, 1000));
      }
    }
  };

  return { loop, onDue };
}
