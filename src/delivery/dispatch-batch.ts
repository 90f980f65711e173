/**
 * The dispatcher's pass over a claimed batch: once its store reads are done (batch-reads.ts), each
 * claimed delivery is launched in a free slot, queued for its endpoint (endpoint-queues.ts), or put
 * back in the store (rate limited, project full, endpoint disabled, secrets that did not open).
 */

import { resolveSchedule } from '../domain/retry-schedule.ts';
import type { Endpoint, RateLimit } from '../domain/types.ts';
import type { ClaimedDelivery, ReleaseItem, Store } from '../store/store.ts';
import { endpointDeletedRecord } from './attempt-outcome.ts';
import type { AttemptSlots } from './attempt-slots.ts';
import { readBatch } from './batch-reads.ts';
import { CALLBACK_RETRY_MS, type CallbackQueues } from './callback-queues.ts';
import type { DeferredWakeups } from './deferred-wakeups.ts';
import type { DispatcherHooks, DispatcherOptions, DispatcherState } from './dispatcher-types.ts';
import type { EndpointQueues } from './endpoint-queues.ts';
import type { ProjectSchedules } from './project-schedules.ts';
import type { RateGate } from './rate-gate.ts';
import type { RecordQueue } from './record-queue.ts';
import { releaseItems, releaseOf } from './release-items.ts';
import type { AttemptSender } from './send-attempt.ts';
import { createSharedPayloads } from './shared-payloads.ts';

export interface BatchDispatchOptions {
  /** The dispatcher's store reads, and its releases (held by this worker only). */
  store: Pick<Store, 'getDispatchEndpoints' | 'releaseDeliveries'>;
  config: DispatcherOptions['config'];
  clock: () => number;
  workerId: string;
  hooks: DispatcherHooks;
  /** Written: when a batch's endpoint secrets last opened. */
  state: DispatcherState;
  projectSchedule: ProjectSchedules;
  rateGate: RateGate;
  deferredWakeups: DeferredWakeups;
  slots: AttemptSlots;
  queues: EndpointQueues;
  /** Callbacks waiting for a slot of their project (callback-queues.ts). */
  callbacks: CallbackQueues;
  /** Takes the bytes of an attempt (byte-budget.ts): the function that gives them back, or null (no room). */
  takeBytes(key: string | null, claimed: ClaimedDelivery, endpoint: Endpoint | null): (() => void) | null;
  /** The endpoint waits for room no more (byte-budget.ts forget). */
  forgetBytes(key: string): void;
  attempt: AttemptSender;
  queueRecord: RecordQueue['add'];
  /** The endpoint's timeout, capped by the installation's. */
  timeoutOf(endpoint: Endpoint): number;
  /** Hands deliveries back to the store, while still leased to this worker. */
  handBack(items: ReleaseItem[]): Promise<unknown>;
  /**
   * Whether the endpoint is held: a failure of it that may have disabled it is still being
   * recorded (failing-endpoints.ts). Its deliveries go back, due after `failingPauseMs`.
   */
  isHeld(endpointId: string): boolean;
  /** The failing endpoints' pause (FAILING_ENDPOINT_PAUSE_MS unless the dispatcher was given another). */
  failingPauseMs: number;
  /**
   * Whether an attempt of this claim is out already (its lease ran out and this process claimed it
   * again, in-flight-deliveries.ts), or was recorded after its lease ran out and this claim read the
   * count from before that record: left as it is, to the attempt out or the record written.
   */
  outAlready(delivery: ClaimedDelivery['delivery']): boolean;
}

/**
 * The function that launches or releases every claimed delivery, once its store reads are done
 * (batch-reads.ts): this pass is synchronous up to the release write. What it puts back is
 * remembered in deferredWakeups.
 */
export function createBatchDispatch(
  options: BatchDispatchOptions,
): (claimed: ClaimedDelivery[]) => Promise<void> {
  const {
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
    forgetBytes,
    attempt,
    queueRecord,
    timeoutOf,
    handBack,
    isHeld,
    failingPauseMs,
    outAlready,
  } = options;
  const { launch } = slots;
  /**
   * Whether the project may start no attempt now: its slots taken, but for those its endpoint
   * queues whose views are being read will start in (endpoint-queues.ts reading), which a claim's
   * deliveries took meanwhile, and such an endpoint found none free when its read ended; and the
   * one its queued callbacks will start in when their project's read ends (callback-queues.ts).
   */
  const projectFull = (projectId: string) =>
    slots.projectAllowance(projectId) - queues.reading(projectId) - callbacks.reading(projectId) <= 0;
  const rateWait = (endpoint: Endpoint, now: number): number => rateGate.take(endpoint, now);

  const share = createSharedPayloads();

  const dispatchBatch = async (all: ClaimedDelivery[]): Promise<void> => {
    // Neither sent, nor handed back, parked or closed while an attempt of it is out: the attempt's
    // record settles it (or its lease, now this claim's, brings it back). Held queued here under a
    // claim whose lease ran out: this claim takes its place (endpoint-queues.ts renew), and its
    // queue's read of the endpoint judges it as it starts. At once, before the reads below: renewed
    // after them, the queued entry could start meanwhile under the old claim, its record settle
    // the delivery, and this claim, finding nothing in its place and nothing of it out, sent it again.
    const claimed = all.filter(
      (c) =>
        !outAlready(c.delivery) && !(c.delivery.endpointId === null ? callbacks.renew(c) : queues.renew(c)),
    );
    for (const c of claimed) share(c); // one copy of each event however many claims brought it
    const { endpoints, schedules, readAt } = await readBatch(
      readsAndReleases,
      claimed,
      projectSchedule,
      rateGate,
      clock,
    );
    // Stopped while the reads ran (a hand-off's, or the loop's last claim): handed back at once,
    // due now, as what the stop finds queued is. Started now, an attempt would go out after the
    // stop had begun waiting for those in flight, or after the stop ended and the process closed
    // its store, its record never written (sent again after the lease).
    if (!state.running) {
      await handBack(releaseItems(claimed, clock())).catch((error: unknown) =>
        hooks.onError?.(error, 'release'),
      ); // the lease brings them back anyway
      return;
    }
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
    if (opened) state.secretsOpenedAt = readAt;
    /**
     * Put back until `at`; `limit`: the endpoint's rate limit, as read for this batch, had no token
     * for it (removing or raising the limit, even while it is out here, makes it due at once).
     */
    const defer = (d: ClaimedDelivery['delivery'], at: number, limit?: RateLimit | null) => {
      const rateLimited = limit !== undefined;
      releases.push({ ...releaseOf(d, at), rateLimited, ...(rateLimited ? { rateLimit: limit } : {}) });
      deferredWakeups.add(at);
    };
    /**
     * No room among the queued bytes for its payload (queued-bytes.ts): handed back, due now, for
     * another worker or this one's claim once there is room (its endpoint is left out until then).
     */
    const turnAway = (d: ClaimedDelivery['delivery']) => releases.push(releaseOf(d, now));
    for (const c of claimed) {
      const d = c.delivery;
      const projSchedule = schedules.get(d.projectId) ?? null;
      if (d.endpointId === null) {
        // Started, or queued for a slot of its project (callback-queues.ts); else, with no room
        // for its body or to wait in, later.
        if (!callbacks.dispatch(c, projSchedule)) defer(d, now + CALLBACK_RETRY_MS);
        continue;
      }
      const target = endpoints.get(d.endpointId);
      if (!target) {
        // Endpoint deleted after the event was accepted: nothing to send it to.
        queueRecord(endpointDeletedRecord(d, c.event, workerId, now), false);
        continue;
      }
      if (target.unopened) {
        releases.push(releaseOf(d, opened ? now + 1_000 : now));
        continue;
      }
      const ep = target.endpoint;
      if (ep.status === 'disabled') {
        releases.push({ ...releaseOf(d, now), status: 'parked' });
        continue;
      }
      // Claimed before a failure that may disable it: nothing more goes to it until that is recorded.
      if (isHeld(ep.id)) {
        defer(d, now + failingPauseMs);
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
            defer(d, rateGate.putBackAt(ep, d.id, now, tokenWait), ep.rateLimit);
            continue;
          }
          if (!queues.push(c, target, readAt, projSchedule)) turnAway(d);
        } else {
          defer(d, now + 50);
        }
        continue;
      }
      const wait = rateWait(ep, now);
      if (wait > 0) {
        // Spread one token apart, across claims too: they come back one at a time, as tokens do.
        defer(d, rateGate.putBackAt(ep, d.id, now, wait), ep.rateLimit);
        continue;
      }
      const give = takeBytes(ep.id, c, ep);
      if (give === null) {
        // No room for its body: it waits in its endpoint's queue (its token taken, as a queued
        // one's is), and the endpoint waits for room in order; its timeout has not begun.
        if (queues.length(ep.id) < config.claimBatch + config.perEndpointConcurrency) {
          if (!queues.push(c, target, readAt, projSchedule)) {
            turnAway(d);
            // Nothing of it left here to wait for room: its place in the line is given up. Kept,
            // it held this process's claims (ByteBudget.full) until the attempts in flight ended,
            // though another worker may have taken and sent the delivery meanwhile.
            if (queues.length(ep.id) === 0) forgetBytes(ep.id);
          }
        } else defer(d, now + 50);
        continue;
      }
      const timeoutMs = timeoutOf(ep);
      const schedule = resolveSchedule(ep.retrySchedule, projSchedule, config.retrySchedule);
      launch(ep.id, d.projectId, () => attempt(c, ep, target.secrets, timeoutMs, schedule).finally(give));
    }
    if (releases.length) await handBack(releases);
    // None opened: the claim's failure (the loop backs off, or pauses when no secret opened lately).
    // Some did: logged, and the loop goes on with the others.
    if (unopened && !opened) throw unopened;
    if (unopened) hooks.onError?.(unopened, 'dispatch endpoints');
  };
  return dispatchBatch;
}
