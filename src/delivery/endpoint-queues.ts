/**
 * Claimed deliveries a worker holds for a free connection of their endpoint. A claim may bring more
 * of one endpoint's deliveries than it has free slots (`perEndpointConcurrency`); releasing them
 * would cost a write each and bring them straight back, so they wait here and start as slots free
 * up. Each endpoint's queue starts with a view of the endpoint (settings, secrets, status) never
 * older than QUEUED_VIEW_MAX_AGE_MS: an older one is read again first, so a change made in any
 * process reaches them; a disabled endpoint's are parked, a deleted one's handed back. A delivery
 * that waited half its lease, or so long that its timeout would outlast the lease left, goes back to
 * the store rather than risk another worker taking it.
 */
import { type DeliveryConfig, LEASE_MARGIN_MS } from '../config/config-types.ts';
import { resolveSchedule } from '../domain/retry-schedule.ts';
import type { Endpoint } from '../domain/types.ts';
import type { ClaimedDelivery, ClaimFirst, DispatchEndpoint, Store } from '../store/store.ts';
import { oldestClaim, takeOverdue } from './overdue-claims.ts';
import type { QueuedBytes } from './queued-bytes.ts';
import { releaseItems } from './release-items.ts';
import type { AttemptSender } from './send-attempt.ts';

/**
 * The oldest view of an endpoint (settings, secrets, status) that its queued deliveries may start
 * with: an older one is read again first, so a PATCH, a rotation, a disable or a delete made in any
 * process reaches the deliveries this worker already holds within about this long.
 */
export const QUEUED_VIEW_MAX_AGE_MS = 100;
/** How long the queued work of an endpoint that just failed waits before it is claimable again. */
export const FAILING_ENDPOINT_PAUSE_MS = 1_000;

export interface EndpointQueuesOptions {
  store: Pick<Store, 'getDispatchEndpoints' | 'releaseDeliveries'>;
  config: Pick<DeliveryConfig, 'leaseMs' | 'retrySchedule'>;
  clock: () => number;
  attempt: AttemptSender;
  /** The endpoint's timeout, capped by the installation's. */
  timeoutOf(endpoint: Endpoint): number;
  /** Whether the dispatcher is running (else queues are held for its stop to release). */
  running(): boolean;
  /** Whether one more attempt to the endpoint may start now (its slots, its project's, the record queue). */
  canStart(endpointId: string, projectId: string): boolean;
  /** How many more attempts of the project may start now (its slots, the record queue). */
  projectRoom(projectId: string): number;
  /** How many of the project's attempts are in flight. */
  inFlight(projectId: string): number;
  /** Attempts of the endpoint in flight. */
  ofEndpoint(endpointId: string): number;
  /** A queue's view read again ended (its queue started, or handed back): room may be left. */
  onRead?(projectId: string): void;
  /**
   * Takes the bytes of an attempt of `claimed` to the endpoint (byte-budget.ts): the function that
   * gives them back, or null when there is no room (the endpoint then waits for it, in order).
   */
  takeBytes(endpointId: string, claimed: ClaimedDelivery, endpoint: Endpoint | null): (() => void) | null;
  /** The endpoint waits for room no more (it waits for a slot instead, or has nothing queued). */
  forgetBytes(endpointId: string): void;
  /** Whether the endpoint waits for room for its first queued delivery's body (byte-budget.ts). */
  waitsForBytes(endpointId: string): boolean;
  /**
   * An endpoint waiting for room left that wait without an attempt ending (its deliveries went back
   * at their half lease): the endpoints waiting behind it may fit now (the dispatcher's
   * startWaitingForBytes, once the caller is done).
   */
  leftWaitForBytes?(): void;
  /** The payloads queued deliveries hold, bounded (queued-bytes.ts). */
  queuedBytes: QueuedBytes;
  /** Starts `run` as one of the endpoint's (and its project's) attempts in flight. */
  launch(endpointId: string, projectId: string, run: () => Promise<void>): void;
  /**
   * How long a failing endpoint's queue, or one whose view could not be read, waits in the store
   * before it is claimable again (FAILING_ENDPOINT_PAUSE_MS unless the dispatcher was given another).
   */
  failingPauseMs?: number;
  onError(error: unknown, during: string): void;
}

/** How long a delivery given a turn takes no other (in leases): one a lease would hold the reserve half the time. */
const TURNED_KEPT_LEASES = 10;

interface Refused {
  projectId: string;
  bytes: number;
  /** The delivery refused (the last of its endpoint's). */
  deliveryId: string;
  /** When it was refused, or its turn ended (forgotten a quarter of a lease after, once it had a turn). */
  at: number;
  turned?: boolean;
}

interface Queued {
  claimed: ClaimedDelivery;
  claimedAt: number;
  projectSchedule: number[] | null;
}

export interface EndpointQueues {
  /** How many of the endpoint's deliveries wait here. */
  length(endpointId: string): number;
  /**
   * The fewest attempts in flight of the project's endpoints with deliveries waiting here that can
   * start (not being read, not waiting for room for a body: Infinity when none).
   */
  fewestInFlight(projectId: string): number;
  /**
   * How many of the project's queues have their view read again before they start, each with a
   * free slot to start in when it ends: the project's other queues, its callbacks and a claim's
   * deliveries leave them that room (the dispatcher's projectRoom and canStart).
   */
  reading(projectId: string): number;
  /**
   * Queues a claimed delivery with the view its claim read at `readAt`: false, and not queued, when
   * its payload has no room among the queued bytes (queued-bytes.ts); its endpoint is then left out
   * of claims (`turnedAway`) until it would have, or a quarter of a lease after its turn (if any),
   * or until that delivery is queued here.
   */
  push(
    claimed: ClaimedDelivery,
    target: DispatchEndpoint,
    readAt: number,
    projectSchedule: number[] | null,
  ): boolean;
  /**
   * Endpoints a delivery of which found no room among the queued bytes (`out`, with the other
   * endpoints of their projects that have a queue), and what of them a claim may take first
   * (`first`): one delivery each, in turn, as many as their project's room holds now.
   */
  turnedAway(): { out: string[]; first: ClaimFirst[] };
  /** Starts the endpoint's queued deliveries while it has free slots. */
  start(endpointId: string): void;
  /**
   * Starts queued deliveries of the project's endpoints while the project has free slots, in turn:
   * the endpoints looked at last go after the others next time.
   */
  startProject(projectId: string): void;
  /** Starts queued deliveries of up to `budget` endpoints (the process's free slots). */
  startAll(budget: number): void;
  /**
   * Starts the queues of projects with none of their attempts in flight (queued while the
   * process's slots were all taken by other projects'): no attempt of their own ends to start them,
   * so any attempt's end does.
   */
  startStranded(): void;
  /** Endpoints with at least `atLeast` queued. */
  saturated(atLeast: number): string[];
  /** A failing endpoint's queue goes back to the store after a short pause. */
  drop(endpointId: string): void;
  /**
   * This worker claimed again a delivery it holds queued here (its lease ran out while it waited):
   * the new claim takes the queued one's place, with a fresh wait (true; the caller does nothing
   * more with it). False: not queued here.
   */
  renew(claimed: ClaimedDelivery): boolean;
  /** Hands `claimed` back to the store, due now. */
  release(claimed: ClaimedDelivery[]): void;
  /** Everything queued or held, taken out (the dispatcher's stop releases it). */
  takeAll(): ClaimedDelivery[];
}

/** Whether two claims are of one delivery (a claim and one of the same delivery taken again). */
export const sameDelivery = (a: ClaimedDelivery, b: ClaimedDelivery) =>
  a.delivery.id === b.delivery.id && a.delivery.projectId === b.delivery.projectId;

export function createEndpointQueues(options: EndpointQueuesOptions): EndpointQueues {
  const {
    store,
    config,
    clock,
    attempt,
    timeoutOf,
    running,
    canStart,
    projectRoom,
    inFlight,
    ofEndpoint,
    takeBytes,
    forgetBytes,
    queuedBytes,
    launch,
    failingPauseMs = FAILING_ENDPOINT_PAUSE_MS,
    onError,
  } = options;
  const queued = new Map<string, Queued[]>();
  /**
   * Endpoints whose delivery found no room among the queued bytes, and the room it needed
   * (`turned`: it had a turn, which ended without it queued: no other for that delivery).
   */
  const refused = new Map<string, Refused>();
  /**
   * The deliveries given a turn, and when: refused again (claimed back by this worker), one had its
   * turn already and takes no other. Kept for TURNED_KEPT_LEASES leases.
   */
  const turnedIds = new Map<string, number>();
  /**
   * When the turn (queuedBytes.turn, a payload larger than the reserve) began, and whether a claim
   * has been asked for its delivery first (the room was there): the next claim finds it queued, or
   * started without waiting (its endpoint had a free slot and room in flight), or not brought (due
   * later, claimed by another worker, its endpoint failing): either way the turn is over. It is over
   * too once it has waited half a lease, as long as any delivery queued when it began may wait: if
   * the room has not come by then, something other than the queues holds it, and the reserve goes
   * back to the others rather than stall their queues for longer.
   */
  let turnSince = 0;
  let turnAsked = false;
  const endTurn = () => {
    const turn = queuedBytes.turn;
    if (turn === null) return;
    queuedBytes.endTurn();
    // Behind the others refused, who may take the next turn first.
    const r = refused.get(turn.key);
    if (r) {
      refused.delete(turn.key);
      refused.set(turn.key, r);
      r.at = clock();
    }
  };
  /** Takes the first of the endpoint's queue out of it (and out of the queued bytes). */
  const shift = (q: Queued[]) => {
    const entry = q.shift()!;
    queuedBytes.remove(entry.claimed);
    return entry;
  };
  /** The endpoints with a queue, by project (startProject). */
  const byProject = new Map<string, Set<string>>();
  /**
   * Projects whose endpoints' queues wait with none of the project's attempts in flight: the
   * process's slots were all taken (by other projects') when they were queued or looked at. No
   * attempt of their own ends to start them; any attempt's end does (startStranded). Before, such a
   * queue waited until its deliveries' lease ran out and a claim took them again.
   */
  const stranded = new Set<string>();
  /** Notes whether the project's queues have an attempt of their own to wait for. */
  const note = (projectId: string) => {
    if (byProject.has(projectId) && inFlight(projectId) === 0) stranded.add(projectId);
    else stranded.delete(projectId);
  };
  /** Forgets the endpoint's queue and its view. */
  const remove = (key: string, projectId: string | undefined) => {
    for (const entry of queued.get(key) ?? []) queuedBytes.remove(entry.claimed);
    queued.delete(key);
    views.delete(key);
    forgetBytes(key);
    unreserve(key);
    disarm(key);
    if (projectId === undefined) return;
    const keys = byProject.get(projectId);
    keys?.delete(key);
    if (keys?.size === 0) {
      byProject.delete(projectId);
      stranded.delete(projectId);
    } else note(projectId);
  };
  const projectOf = (q: Queued[] | undefined) => q?.[0]?.claimed.delivery.projectId;
  /**
   * The view each endpoint's queued deliveries start with, and when it was read: never older than
   * QUEUED_VIEW_MAX_AGE_MS when one starts. Kept while the endpoint has a queue.
   */
  const views = new Map<string, { target: DispatchEndpoint; readAt: number }>();
  /** Endpoints whose view is being read again; their queues wait for it. */
  const refreshing = new Set<string>();
  /** How many of each project's endpoints are in `refreshing`. */
  const readingOf = new Map<string, number>();
  const doneReading = (key: string, projectId: string) => {
    refreshing.delete(key);
    const left = (readingOf.get(projectId) ?? 1) - 1;
    if (left > 0) readingOf.set(projectId, left);
    else readingOf.delete(projectId);
  };
  /**
   * The bytes taken for the first queued delivery of an endpoint whose view is read again before it
   * starts (takeBytes): taken before the read, so that the endpoints waiting for room behind it go
   * on meanwhile; given back if that delivery does not start next.
   */
  const reserved = new Map<string, { entry: Queued; give: () => void }>();
  const unreserve = (key: string) => {
    const r = reserved.get(key);
    if (!r) return;
    reserved.delete(key);
    r.give();
  };
  /**
   * Endpoints whose queue emptied at their turn by handing back deliveries that had waited their
   * longest, and when: queued again within a lease (this worker's claim of them, most often), they
   * go first in their project's turns, not last. Queued last, such a delivery waited a whole round
   * of the project's queued endpoints again, and when a round took longer than half its lease (and
   * less than its lease) it went back at every turn and was never sent while the traffic went on.
   */
  const owed = new Map<string, number>();
  const owe = (key: string, at: number) => {
    for (const [k, since] of owed) if (at - since > config.leaseMs) owed.delete(k);
    owed.set(key, at);
  };
  /** Queued deliveries not started because the dispatcher is stopping: released on stop. */
  const held: ClaimedDelivery[] = [];

  /**
   * The longest a delivery may have waited and still start: half its lease, and less when its
   * timeout and record would not fit in what is left of it (a lease may be as short as the longest
   * timeout plus LEASE_MARGIN_MS): one that waited half a 35 s lease, then took its whole 30 s
   * timeout, ran past its lease, and another worker sent it too.
   */
  const waitMaxOf = (key: string) => {
    const view = views.get(key);
    return view
      ? Math.min(config.leaseMs / 2, config.leaseMs - timeoutOf(view.target.endpoint) - LEASE_MARGIN_MS)
      : config.leaseMs / 2;
  };
  /**
   * When the first delivery of each endpoint waiting for room for its body (byte-budget.ts) has
   * waited its longest: it goes back to the store then (`expire`). Such a queue starts only when
   * the room is there (the budget's next()), and its deliveries' age was looked at only then: held
   * back past their lease, they were claimed again by this process and queued behind themselves,
   * and the old claim handed back at the start freed the row of the new one being sent (the
   * delivery due again while its attempt was out, for any worker to send again).
   */
  const expiries = new Map<string, NodeJS.Timeout>();
  const disarm = (key: string) => {
    const timer = expiries.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    expiries.delete(key);
  };
  const arm = (key: string) => {
    const q = queued.get(key);
    if (!q?.length || expiries.has(key)) return;
    const timer = setTimeout(
      () => {
        expiries.delete(key);
        expire(key);
      },
      Math.max(0, oldestClaim(q) + waitMaxOf(key) - clock()) + 1,
    );
    timer.unref();
    expiries.set(key, timer);
  };
  /**
   * Hands back the deliveries of a queue waiting for room that waited their longest, wherever they
   * are in it (a renewed claim ahead of them is newer: renew); the endpoint keeps its place in the
   * wait for room with what is left (started ones, or those of a queue whose view is being read, are
   * looked at as they start). Until 2026-12-07 it looked only at the first ones, and its timer at
   * the first one's time: an older claim behind a renewed one stayed queued past its half lease,
   * holding its bytes, until the renewed one had waited its own.
   */
  const expire = (key: string) => {
    const q = queued.get(key);
    const projectId = projectOf(q);
    if (!q || projectId === undefined || !running() || refreshing.has(key) || !options.waitsForBytes(key))
      return;
    const now = clock();
    const waitMax = waitMaxOf(key);
    for (const claimed of takeOverdue(q, now, waitMax)) {
      queuedBytes.remove(claimed);
      held.push(claimed);
    }
    if (held.length === 0) {
      arm(key);
      return;
    }
    releaseHeld();
    // What is left asks for room with its own first delivery's body (its wait was for the body of
    // the one that went back), and the endpoints waiting behind it go on if the room is there: the
    // first one held back by the whole budget stops every one behind it, and they waited for an
    // attempt to end (up to its timeout) with the room there, going back at their own half lease.
    if (q.length === 0) remove(key, projectId);
    else start(key);
    options.leftWaitForBytes?.();
  };

  const releaseHeld = (delayMs = 0, status?: 'parked') => {
    const items = releaseItems(held.splice(0), clock() + delayMs, status);
    void store.releaseDeliveries(items).catch((error: unknown) => onError(error, 'release'));
  };

  /** Hands the endpoint's queue back to the store (`parked`: its endpoint is disabled). */
  const releaseQueue = (key: string, delayMs = 0, status?: 'parked') => {
    const q = queued.get(key);
    remove(key, projectOf(q));
    if (q) held.push(...q.map((x) => x.claimed));
    if (held.length) releaseHeld(delayMs, status);
  };

  /**
   * Reads the endpoint's view again for its queue, then starts it: with the endpoint's settings and
   * secrets as they are now; parked if it was disabled; handed back if it or its project was
   * deleted (the delete closed or removed those deliveries, so the release changes nothing).
   */
  const refreshView = (key: string, projectId: string) => {
    if (refreshing.has(key)) return;
    refreshing.add(key);
    readingOf.set(projectId, (readingOf.get(projectId) ?? 0) + 1);
    const readAt = clock();
    store.getDispatchEndpoints([{ projectId, endpointId: key }], readAt).then(
      (found) => {
        doneReading(key, projectId);
        const target = found.get(key);
        if (target?.unopened) {
          // Its secrets no longer open with this process's key: not sent unsigned, handed back.
          onError(target.unopened, 'dispatch endpoints');
          releaseQueue(key, failingPauseMs);
        } else if (!target) releaseQueue(key);
        else if (target.endpoint.status === 'disabled') releaseQueue(key, 0, 'parked');
        else if (queued.has(key)) {
          views.set(key, { target, readAt });
          start(key, true);
        }
        // Its queue went meanwhile (handed back: failing, or the dispatcher stopped): the view is
        // not kept, nor its decrypted secrets, and what was taken for it is given back. Kept, they
        // stayed until the endpoint queued again, for a deleted one the process's life.
        else remove(key, undefined);
        options.onRead?.(projectId);
      },
      (error: unknown) => {
        doneReading(key, projectId);
        onError(error, 'dispatch endpoints');
        releaseQueue(key, failingPauseMs);
        options.onRead?.(projectId);
      },
    );
  };

  /**
   * Starts the endpoint's queued deliveries while it has free slots, its view read again first
   * when older than QUEUED_VIEW_MAX_AGE_MS; `justRead`: the view was just read for them, and is
   * used whatever its age. A read that takes longer than that came back too old to start with:
   * it was read again, and again, and the queue never started (a distant database, or a thread
   * busy for 100 ms).
   */
  const start = (key: string, justRead = false) => {
    if (!running()) {
      const rest = queued.get(key);
      if (rest) held.push(...rest.map((x) => x.claimed));
      remove(key, projectOf(rest));
      return;
    }
    const q = queued.get(key);
    if (!q) {
      forgetBytes(key);
      return;
    }
    if (refreshing.has(key)) return;
    const projectId = projectOf(q);
    if (projectId === undefined) {
      remove(key, undefined);
      return;
    }
    const now = clock();
    const view = views.get(key);
    if (
      q.length > 0 &&
      (view === undefined || (!justRead && now - view.readAt > QUEUED_VIEW_MAX_AGE_MS)) &&
      canStart(key, projectId)
    ) {
      // A slot is free for a queued delivery, and the view it would start with is old: read it
      // again first (the claim's read was as fresh as a claim; a queue can wait up to half a lease).
      // Its body's room is taken first: without room it waits (a read each for the hundreds of
      // queues a freed project slot looks at made 1 MiB events crawl, ~10/s), and with it the
      // endpoints waiting for room behind it start while it is read (one read at a time: ~20/s).
      const head = q[0]!;
      const give = reserved.has(key) ? null : takeBytes(key, head.claimed, view?.target.endpoint ?? null);
      if (give) reserved.set(key, { entry: head, give });
      if (reserved.has(key)) refreshView(key, head.claimed.delivery.projectId);
      // No room: it waits for it, and its first delivery goes back once it has waited its longest
      // (as below). Not armed here, one queued behind its endpoint's own attempts that then waited
      // for room stayed queued past its lease, and this process claimed it again while it waited.
      else arm(key);
      return;
    }
    let waitsForBytes = false;
    let wentBack = false;
    const waitMax = waitMaxOf(key);
    while (q.length && canStart(key, projectId)) {
      const next = q[0]!;
      // Waited that long already (a slow endpoint, or no room for its body): hand it back rather
      // than risk sending it after the lease ran out and another worker took it.
      if (now - next.claimedAt > waitMax) {
        held.push(shift(q).claimed);
        wentBack = true;
        continue;
      }
      // No room for its body: it stays first in the queue, and the endpoint waits for room.
      const kept = reserved.get(key);
      if (kept && kept.entry !== next) unreserve(key);
      else reserved.delete(key);
      const give =
        kept?.entry === next ? kept.give : takeBytes(key, next.claimed, view?.target.endpoint ?? null);
      if (give === null) {
        waitsForBytes = true;
        break;
      }
      shift(q);
      const { endpoint: ep, secrets } = view!.target;
      const schedule = resolveSchedule(ep.retrySchedule, next.projectSchedule, config.retrySchedule);
      launch(key, projectId, () => attempt(next.claimed, ep, secrets, timeoutOf(ep), schedule).finally(give));
    }
    // Taken for a delivery that did not start (a slot was no longer free): given back.
    unreserve(key);
    if (q.length === 0) {
      if (wentBack) owe(key, now);
      remove(key, projectId);
    }
    // Held back by a slot (its own, its project's, the record queue): that slot freed starts it,
    // and meanwhile it must not hold up the endpoints waiting for room behind it.
    else if (!waitsForBytes) {
      forgetBytes(key);
      note(projectId);
    }
    // Waiting for room: the bytes that come back start it (the dispatcher's startWaitingForBytes),
    // not a slot; looked at at every attempt's end, each would ask for room again behind the others.
    // Its first delivery goes back once it has waited its longest, if the room has not come.
    else {
      stranded.delete(projectId);
      arm(key);
    }
    if (held.length) releaseHeld();
  };

  /**
   * The next endpoints of the project a pass visits, at most `room` (startProject): those not
   * visited in this pass yet that can start, the ones with none in flight first. Passed over: an
   * endpoint whose view is being read (the read's end starts it), one that waits for room for its
   * body (the bytes that come back start it, the dispatcher's startWaitingForBytes), and one with
   * no free slot of its own (`slotBound`: its attempts ending start it).
   */
  const nextVisits = (projectId: string, keys: Set<string>, room: number, visited: Set<string>) => {
    const visit: string[] = [];
    const busy: string[] = [];
    let slotBound = false;
    for (const key of keys) {
      if (visit.length >= room) break;
      if (visited.has(key) || refreshing.has(key) || options.waitsForBytes(key)) continue;
      if (!canStart(key, projectId)) slotBound = true;
      else if (ofEndpoint(key) === 0) visit.push(key);
      else busy.push(key);
    }
    if (visit.length < room) {
      busy.sort((a, b) => ofEndpoint(a) - ofEndpoint(b));
      visit.push(...busy.slice(0, room - visit.length));
    }
    return { visit, slotBound };
  };

  /**
   * Starts queued deliveries of the project's endpoints while the project has free slots, in turn
   * (EndpointQueues.startProject).
   */
  const startProject = (projectId: string) => {
    // As many endpoints as the project has free slots: each starts at least one delivery, or
    // reads its view first (one read each, not one per queued endpoint of a large fan-out).
    // The ones with the fewest attempts in flight first, and among those in turn: each one looked
    // at goes to the back, so the slot that frees goes to the endpoint that waited longest, not to
    // the first ones again (whose queues, under a steady overload, never empty: the others waited
    // for them). Fewest in flight: turns of one start each gave an endpoint answering in 1 ms one
    // delivery for each of a slow one's, its backlog held to the slow one's rate; now each
    // endpoint with work held keeps about an equal share of the project's slots, and one that
    // needs less leaves the rest to the others. Those with none in flight are taken as they come
    // (the first `room` of them end the pass): the others are at most the project's cap.
    // An endpoint that cannot start (its view being read, no room for its body) takes no place,
    // nor one that turns out unable to when looked at (no room for its body): the next one takes
    // it. Counted, one with nothing in flight that waited for room was looked at first every
    // time, and the slot went back to the endpoint that freed it.
    let room = projectRoom(projectId);
    const visited = new Set<string>();
    while (room > 0) {
      const keys = byProject.get(projectId);
      if (!keys) return;
      const { visit, slotBound } = nextVisits(projectId, keys, room, visited);
      if (visit.length === 0) {
        // None waits for a slot: the ends of reads and the bytes that come back start them, not
        // an attempt's end (startStranded would look at them all again at every one).
        if (!slotBound && inFlight(projectId) === 0) stranded.delete(projectId);
        return;
      }
      for (const key of visit) {
        visited.add(key);
        const before = ofEndpoint(key);
        start(key);
        const now = byProject.get(projectId);
        if (now?.delete(key)) now.add(key);
        if (ofEndpoint(key) > before || refreshing.has(key)) room--;
      }
    }
  };

  return {
    length: (key) => queued.get(key)?.length ?? 0,
    reading: (projectId) => readingOf.get(projectId) ?? 0,
    fewestInFlight(projectId) {
      let fewest = Number.POSITIVE_INFINITY;
      for (const key of byProject.get(projectId) ?? []) {
        // One that cannot start takes no turn (startProject passes it over): counted, one with
        // none in flight waiting for room for its body held the callbacks to none in flight.
        if (refreshing.has(key) || options.waitsForBytes(key)) continue;
        fewest = Math.min(fewest, ofEndpoint(key));
        if (fewest === 0) break;
      }
      return fewest;
    },
    push(claimed, target, readAt, projectSchedule) {
      const key = target.endpoint.id;
      const projectId = claimed.delivery.projectId;
      if (!queuedBytes.fits(claimed)) {
        const deliveryId = claimed.delivery.id;
        const turned = turnedIds.has(deliveryId);
        refused.set(key, { projectId, bytes: queuedBytes.bytesOf(claimed), deliveryId, at: clock(), turned });
        return false;
      }
      queuedBytes.add(claimed);
      // Its turn's delivery queued: the others fit in the whole bound again.
      if (queuedBytes.turn?.key === key) endTurn();
      // The delivery refused is here now: its endpoint is claimed as any other. Kept, it was left
      // out (with its project's other endpoints that have a queue) a quarter of a lease after its
      // turn, or until its bytes would fit among the queued bytes, though its delivery had started.
      if (refused.get(key)?.deliveryId === claimed.delivery.id) refused.delete(key);
      const q = queued.get(key) ?? [];
      q.push({ claimed, claimedAt: clock(), projectSchedule });
      queued.set(key, q);
      const keys = byProject.get(projectId) ?? new Set<string>();
      const since = owed.get(key);
      owed.delete(key);
      // Owed the turn it lost (`owed`): first, ahead of the endpoints queued meanwhile.
      if (since !== undefined && !keys.has(key) && clock() - since <= config.leaseMs)
        byProject.set(projectId, new Set([key, ...keys]));
      else {
        keys.add(key);
        byProject.set(projectId, keys);
      }
      // As fresh as this claim's read: the queue starts with it (a newer read replaces it).
      views.set(key, { target, readAt });
      note(projectId);
      // Queued as it waits for room (the claim's hand-off found none): no start looks at it.
      if (options.waitsForBytes(key)) arm(key);
      return true;
    },
    turnedAway() {
      const now = clock();
      if (queuedBytes.turn !== null && (turnAsked || now - turnSince > config.leaseMs / 2)) endTurn();
      // A quarter of a lease after its turn ended (or it was refused again after it), an entry that
      // had its turn is forgotten: its delivery was not brought here meanwhile (another worker sent
      // it, or it is due later), and the endpoint is claimed again. Kept until its bytes would fit
      // (a payload larger than the bound: nothing queued at all), a worker whose queues never
      // emptied left the endpoint out of its claims for good while other workers sent its stream.
      // Claimed back and refused again, the same delivery takes no other turn (turnedIds).
      for (const [key, r] of refused)
        if (r.turned && key !== queuedBytes.turn?.key && now - r.at > config.leaseMs / 4) refused.delete(key);
      for (const [id, at] of turnedIds)
        if (now - at > TURNED_KEPT_LEASES * config.leaseMs) turnedIds.delete(id);
      // The first refused payload larger than the reserve that does not fit now, and has not had a
      // turn since it was refused, takes the turn: the others queue only in what it leaves.
      if (queuedBytes.turn === null) {
        for (const [key, r] of refused) {
          if (r.turned || r.bytes <= queuedBytes.reserve || queuedBytes.fitsBytes(r.projectId, r.bytes, key))
            continue;
          queuedBytes.takeTurn(key, r.projectId, r.bytes);
          r.turned = true;
          turnedIds.set(r.deliveryId, now);
          turnSince = now;
          turnAsked = false;
          break;
        }
      }
      const turnKey = queuedBytes.turn?.key;
      const out = new Set<string>();
      const first: ClaimFirst[] = [];
      // Each project's refused endpoints, in the order they were refused (or last given a turn).
      const lines = new Map<string, [string, Refused][]>();
      for (const entry of refused) {
        const line = lines.get(entry[1].projectId);
        if (line) line.push(entry);
        else lines.set(entry[1].projectId, [entry]);
      }
      for (const [projectId, line] of lines) {
        // The room the project's queued bytes have now, one delivery of each endpoint's refused
        // size at a time, in order (one too large for what is left is passed over: a project's
        // small events do not wait for room for its large ones).
        let taken = 0;
        const given: [string, Refused][] = [];
        for (const entry of line) {
          if (!queuedBytes.fitsBytes(projectId, taken + entry[1].bytes, entry[0])) continue;
          taken += entry[1].bytes;
          given.push(entry);
          if (entry[0] === turnKey) turnAsked = true;
        }
        // Room for one of each: claimed as any other endpoints are (but the turn's, asked for
        // first: claimed in due order, others could take its room before it came).
        if (given.length === line.length && (turnKey === undefined || !line.some(([k]) => k === turnKey))) {
          for (const [key] of line) refused.delete(key);
          continue;
        }
        // Else every one is left out, and the project's other endpoints with a queue: each claim
        // of theirs would read payloads only to hand them back (a claim of 60 such 1 MiB deliveries
        // ran a 160 MiB heap out). Cleared at the first delivery that fitted, every endpoint came
        // back at once: the next claim read a claim's worth of their payloads (the whole
        // HERALD_DELIVERY_BYTES_IN_FLIGHT) for one that fitted, and handed the rest back, the same
        // 1 MiB events read again at every attempt's end (~830 MiB a minute for 150 of them).
        for (const [key] of line) out.add(key);
        for (const key of byProject.get(projectId) ?? []) out.add(key);
        // Those the room holds are claimed first, one delivery each, and go to the back of the line.
        for (const [key, r] of given) {
          first.push({ projectId, endpointId: key, limit: 1 });
          refused.delete(key);
          refused.set(key, r);
        }
      }
      return { out: [...out], first };
    },
    start,
    startProject,
    startAll(budget) {
      // As startProject: at most one endpoint per free slot, so a large fan-out's queued endpoints
      // do not each read their view at once; one that cannot start takes no place.
      let room = budget;
      for (const key of [...queued.keys()]) {
        if (room <= 0) break;
        if (refreshing.has(key) || options.waitsForBytes(key)) continue;
        const before = ofEndpoint(key);
        start(key);
        if (ofEndpoint(key) > before || refreshing.has(key)) room--;
      }
    },
    startStranded() {
      if (stranded.size === 0) return;
      for (const projectId of [...stranded]) startProject(projectId);
    },
    saturated(atLeast) {
      const out: string[] = [];
      for (const [key, q] of queued) if (q.length >= atLeast) out.push(key);
      return out;
    },
    drop(key) {
      const q = queued.get(key);
      if (!q) return;
      remove(key, projectOf(q));
      held.push(...q.map((x) => x.claimed));
      // A short pause: the failure is recorded (and may disable the endpoint) before they come back.
      if (running()) releaseHeld(failingPauseMs);
    },
    renew(claimed) {
      const key = claimed.delivery.endpointId;
      const entry = key === null ? undefined : queued.get(key)?.find((x) => sameDelivery(x.claimed, claimed));
      if (!entry) return false;
      // In its place, its endpoint keeping its turn: queued again at the back, as the claim alone
      // would, it went back again at its next turn after waiting as long, and was never sent. Its
      // event stays the copy counted (queued bytes, a reservation for a read under way: one event
      // is as good as another, shared-payloads.ts), so nothing is counted twice or given back.
      // Neither handed back nor queued twice: a hand-back went by worker, so the old claim's freed
      // the row of the new one as it was sent, and any worker could send it again (a hand-back now
      // names its claim, release-items.ts, and the old one's would change nothing).
      entry.claimed = { ...claimed, event: entry.claimed.event, payloadJson: entry.claimed.payloadJson };
      entry.claimedAt = clock();
      return true;
    },
    release(claimed) {
      held.push(...claimed);
      releaseHeld();
    },
    takeAll() {
      for (const q of queued.values()) {
        for (const x of q) queuedBytes.remove(x.claimed);
        held.push(...q.map((x) => x.claimed));
      }
      queued.clear();
      refused.clear();
      turnedIds.clear();
      queuedBytes.endTurn();
      views.clear();
      for (const timer of expiries.values()) clearTimeout(timer);
      expiries.clear();
      byProject.clear();
      stranded.clear();
      owed.clear();
      return held.splice(0);
    },
  };
}
