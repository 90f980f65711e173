/**
 * Claimed callback deliveries (an event's `callbackUrl`, no endpoint) of a project with no free
 * slot, held per project as an endpoint's claimed deliveries are (endpoint-queues.ts), and started
 * in turn with the project's endpoint queues as its slots free up. Without a queue, a project held
 * at its cap by a steady overload gave each freed slot to its endpoints' queued deliveries, and its
 * callbacks, claimed and handed back or left out of claims, waited until those queues emptied (58 s
 * in a soak at a cap of 12). Now a freed slot of the project goes to its callbacks when they have
 * no more attempts in flight than the endpoint with work held that has the fewest: under a steady
 * overload they keep about an equal share of the project's slots, as each endpoint does
 * (endpoint-queues.ts, startProject). Turns of one start each (a slot to the callbacks once the
 * endpoint queues had one each) held the endpoints answering at once to the rate of the callbacks
 * and of the slowest endpoint, and halved the project's throughput in the soak at a cap of 12.
 * A callback waits here at most as long as an endpoint's queued delivery may (half its lease, less
 * when its timeout would outlast what is left), also for room for its body among the bytes in
 * flight (it takes no place in the endpoints' line for room: the project's attempts ending look at
 * it again, and a timer hands it back at its longest wait if nothing did), and goes back to the
 * store, due 50 ms later, when there is none to queue it in.
 * As an endpoint's queue reads its endpoint again, a project's callbacks that waited longer than
 * QUEUED_VIEW_MAX_AGE_MS read their project again before they start (one read for all of them,
 * a slot left for them meanwhile): a project deleted since, or whose delete is under way, has them
 * handed back (its delete closed them), not sent. Before, they went out up to half a lease after
 * the delete.
 */
import { type DeliveryConfig, LEASE_MARGIN_MS } from '../config/config-types.ts';
import { resolveSchedule } from '../domain/retry-schedule.ts';
import type { Endpoint, Envelope } from '../domain/types.ts';
import type { ClaimedDelivery } from '../store/store.ts';
import { QUEUED_VIEW_MAX_AGE_MS, sameDelivery } from './endpoint-queues.ts';
import { oldestClaim, takeOverdue } from './overdue-claims.ts';
import type { QueuedBytes } from './queued-bytes.ts';
import type { AttemptSender } from './send-attempt.ts';

/** How long a callback that could neither start nor wait here stays in the store before it is due again. */
export const CALLBACK_RETRY_MS = 50;
/** How long a project's callbacks wait after its read again failed (as a claimed batch's failed read). */
const READ_FAILURE_RETRY_MS = 1_000;

/** Settings for one-off callbackUrl deliveries: POST, unsigned (webhook-id still sent), per envelope. */
const CALLBACK_SETTINGS: Record<Envelope, Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'>> = {
  standard: { method: 'POST', headers: {}, envelope: 'standard', signature: { scheme: 'none' } },
  'event-data': { method: 'POST', headers: {}, envelope: 'event-data', signature: { scheme: 'none' } },
  raw: { method: 'POST', headers: {}, envelope: 'raw', signature: { scheme: 'none' } },
};

export interface CallbackQueuesOptions {
  config: Pick<
    DeliveryConfig,
    'leaseMs' | 'defaultTimeoutMs' | 'retrySchedule' | 'perEndpointConcurrency' | 'claimBatch'
  >;
  clock: () => number;
  attempt: AttemptSender;
  /** Whether the dispatcher is running (else queues are held for its stop to take). */
  running(): boolean;
  /** How many more attempts of the project may start now (its slots, the record queue). */
  projectRoom(projectId: string): number;
  /** How many of the project's attempts are in flight. */
  inFlight(projectId: string): number;
  /** Takes the bytes of an attempt of `claimed` (byte-budget.ts): the function that gives them back, or null. */
  takeBytes(claimed: ClaimedDelivery): (() => void) | null;
  /** The payloads queued deliveries hold, bounded (queued-bytes.ts). */
  queuedBytes: QueuedBytes;
  /** Starts `run` as one of the project's attempts in flight (a callback: no endpoint). */
  launch(projectId: string, run: () => Promise<void>): void;
  /** Hands `claimed` back to the store, due `delayMs` from now. */
  handBack(claimed: ClaimedDelivery[], delayMs: number): void;
  /** The project's callbacks in flight. */
  callbacksInFlight(projectId: string): number;
  /**
   * The fewest attempts in flight of the project's endpoints with deliveries queued that can start
   * (endpoint-queues.ts; Infinity: none).
   */
  fewestInFlight(projectId: string): number;
  /** Whether the callback's body has room among the bytes in flight now (takeBytes would take it). */
  bytesFit(claimed: ClaimedDelivery): boolean;
  /**
   * Whether the project is still there: not deleted, and no delete of it under way (Store.getProject
   * finds neither).
   */
  projectExists(projectId: string): Promise<boolean>;
  /** The project's read again ended (its callbacks started in the slot left for them, or went back). */
  onRead?(projectId: string): void;
  onError(error: unknown, during: string): void;
}

interface Queued {
  claimed: ClaimedDelivery;
  claimedAt: number;
  projectSchedule: number[] | null;
}

export interface CallbackQueues {
  /** How many of the project's callbacks wait here. */
  length(projectId: string): number;
  /**
   * Whether the project's callbacks wait for their project to be read again (1) or not (0): they
   * start in a free slot of the project when it ends, which the rest leave them (the dispatcher's
   * projectRoom), as an endpoint queue's read (EndpointQueues.reading).
   */
  reading(projectId: string): number;
  /**
   * How many more of the project's callbacks a claim may bring to wait here (a cap's worth,
   * perEndpointConcurrency, as an endpoint is left out of claims at); none while the last one
   * refused for want of room among the queued bytes would still not fit (forgotten once the project
   * has nothing here: none queued, none in flight).
   */
  space(projectId: string): number;
  /**
   * A claimed callback: started if its project has a free slot and none of its callbacks wait,
   * else queued behind them (also when its body has no room yet). False (neither): none to queue
   * it in; the caller hands it back, due CALLBACK_RETRY_MS later.
   */
  dispatch(claimed: ClaimedDelivery, projectSchedule: number[] | null): boolean;
  /**
   * One of the project's slots freed: one of its queued callbacks starts in it when they have no
   * more attempts in flight than its endpoint with work held that has the fewest, before the
   * endpoints'.
   */
  freed(projectId: string): void;
  /** Starts the project's queued callbacks while it has free slots. */
  start(projectId: string): void;
  /** Starts every project's queued callbacks while it has free slots. */
  startAll(): void;
  /**
   * Starts the queued callbacks of projects with none of their attempts in flight (queued while
   * the process's slots were all taken by other projects'): no attempt of their own ends to start
   * them, so any attempt's end does.
   */
  startStranded(): void;
  /**
   * This worker claimed again a callback it holds queued here (its lease ran out while it waited:
   * the process stalled, or its clock stepped): the new claim takes the queued one's place, with a
   * fresh wait (true). False: not queued here.
   */
  renew(claimed: ClaimedDelivery): boolean;
  /** Everything queued, taken out (the dispatcher's stop hands it back). */
  takeAll(): ClaimedDelivery[];
}

export function createCallbackQueues(options: CallbackQueuesOptions): CallbackQueues {
  const { config, clock, attempt, running, projectRoom, inFlight, takeBytes, queuedBytes, launch, handBack } =
    options;
  const queued = new Map<string, Queued[]>();
  /**
   * Projects a callback of which found no room among the queued bytes, and the bytes it needed:
   * `space` is 0 for them until those bytes fit (claims leave their callbacks out meanwhile, as an
   * endpoint turned away is, endpoint-queues.ts turnedAway). Before, a project at its cap had its
   * callbacks claimed first at every claim, each handed back due 50 ms later: while a turn held the
   * queued bytes (queued-bytes.ts), 4 callbacks were handed back 110 times in 94 claims in 1.5 s.
   */
  const noRoom = new Map<string, number>();
  /**
   * When each project with callbacks here was last read and found (its claim read it too): its
   * callbacks claimed or read since then less than QUEUED_VIEW_MAX_AGE_MS ago start without a read.
   */
  const foundAt = new Map<string, number>();
  /** Projects being read again; their callbacks wait for it. */
  const reading = new Set<string>();
  /**
   * Projects whose callbacks wait with none of their attempts in flight: the process's slots were
   * all taken (by other projects') when they came. Their own slots freeing cannot start them; any
   * attempt's end does (startStranded). Before, such a callback waited until its lease ran out.
   */
  const stranded = new Set<string>();
  /** Notes whether the project's waiting callbacks have an attempt of their own to wait for. */
  const note = (projectId: string) => {
    if (inFlight(projectId) === 0) stranded.add(projectId);
    else stranded.delete(projectId);
  };
  /**
   * The longest a callback may have waited and still start: half its lease, and less when its
   * timeout and record would not fit in what is left of it (as endpoint-queues.ts).
   */
  const waitMax = Math.min(config.leaseMs / 2, config.leaseMs - config.defaultTimeoutMs - LEASE_MARGIN_MS);

  const forget = (projectId: string) => {
    queued.delete(projectId);
    stranded.delete(projectId);
    foundAt.delete(projectId);
    disarm(projectId);
  };

  /**
   * When the longest-waiting callback of each project's queue has waited its longest: it goes back
   * to the store then (`expire`), if nothing looked at it before. A queue is looked at only when an
   * attempt ends (or a read of its project, or a claim of its callbacks): one waiting for room for
   * its body, when what held the room went without an attempt ending (the bytes taken for an
   * endpoint queue whose view was read again, that queue then handed back), waited in an idle
   * process past its lease; its own process claimed it again and queued the new claim behind it,
   * and the old claim handed back as the new one was sent freed the new one's row (the callback
   * due again while its attempt was out, for any worker to send again).
   */
  const expiries = new Map<string, NodeJS.Timeout>();
  const disarm = (projectId: string) => {
    const timer = expiries.get(projectId);
    if (timer === undefined) return;
    clearTimeout(timer);
    expiries.delete(projectId);
  };
  const arm = (projectId: string) => {
    const q = queued.get(projectId);
    if (!q?.length || expiries.has(projectId)) return;
    const timer = setTimeout(
      () => {
        expiries.delete(projectId);
        expire(projectId);
      },
      Math.max(0, oldestClaim(q) + waitMax - clock()) + 1,
    );
    timer.unref();
    expiries.set(projectId, timer);
  };
  /**
   * Hands back the project's callbacks that waited their longest, wherever they are in its queue (a
   * renewed claim ahead of them is newer: renew); the rest start if they can (the room the first
   * waited for may be there for them), else wait on. A queue whose project is being read is looked
   * at as the read ends. Until 2026-12-07 it looked only at the first ones, and its timer at the
   * first one's time: an older claim behind a renewed one stayed queued past its longest wait,
   * unclaimable by any other worker and holding its queued bytes, until the renewed one had waited
   * its own (as endpoint queues' expire did before).
   */
  const expire = (projectId: string) => {
    const q = queued.get(projectId);
    if (!q || !running() || reading.has(projectId)) return;
    const now = clock();
    const stale = takeOverdue(q, now, waitMax);
    for (const claimed of stale) queuedBytes.remove(claimed);
    if (stale.length === 0) {
      arm(projectId);
      return;
    }
    handBack(stale, 0);
    if (q.length === 0) forget(projectId);
    else start(projectId);
  };

  /** The project's callbacks, taken out, handed back due `delayMs` from now. */
  const handBackAll = (projectId: string, delayMs: number) => {
    const q = queued.get(projectId);
    forget(projectId);
    if (!q?.length) return;
    for (const x of q) queuedBytes.remove(x.claimed);
    handBack(
      q.map((x) => x.claimed),
      delayMs,
    );
  };

  /**
   * Reads the project again for its callbacks, then starts them in the slot left for them: handed
   * back if it was deleted or its delete is under way (the delete closed them, so the hand-back
   * changes nothing), or if the read failed.
   */
  const readProject = (projectId: string) => {
    reading.add(projectId);
    const readAt = clock();
    options.projectExists(projectId).then(
      (found) => {
        reading.delete(projectId);
        // Stopping: the stop takes what waits here (takeAll).
        if (running()) {
          if (!found) handBackAll(projectId, 0);
          else if (queued.has(projectId)) {
            foundAt.set(projectId, readAt);
            start(projectId, 1, true);
          }
        }
        options.onRead?.(projectId);
      },
      (error: unknown) => {
        reading.delete(projectId);
        options.onError(error, 'callback project');
        if (running()) handBackAll(projectId, READ_FAILURE_RETRY_MS);
        options.onRead?.(projectId);
      },
    );
  };

  const send = (claimed: ClaimedDelivery, projectSchedule: number[] | null, give: () => void) => {
    const settings = CALLBACK_SETTINGS[claimed.event.callbackEnvelope ?? 'standard'];
    const schedule = resolveSchedule(null, projectSchedule, config.retrySchedule);
    launch(claimed.delivery.projectId, () =>
      attempt(claimed, settings, [], config.defaultTimeoutMs, schedule).finally(give),
    );
  };

  /**
   * Starts up to `most` of the project's queued callbacks while it has free slots: how many started
   * (none while the project is read again). `justRead`: the project was just read for them, and is
   * taken as found whatever the read took (else one that took longer than QUEUED_VIEW_MAX_AGE_MS
   * was read again at every slot).
   */
  const start = (projectId: string, most = Number.POSITIVE_INFINITY, justRead = false): number => {
    const q = queued.get(projectId);
    // Stopping: the stop takes what waits here (takeAll) and hands it back.
    if (!q || !running() || reading.has(projectId)) return 0;
    const now = clock();
    const stale: ClaimedDelivery[] = [];
    let started = 0;
    while (q.length && started < most && projectRoom(projectId) > 0) {
      const next = q[0]!;
      // Waited that long already: handed back rather than risk sending it after its lease ran out.
      if (now - next.claimedAt > waitMax) {
        queuedBytes.remove(q.shift()!.claimed);
        stale.push(next.claimed);
        continue;
      }
      // Its project seen (by its claim, or read again) longer ago than a queued endpoint's view may
      // be: read again first, in case it was deleted meanwhile; the read's end starts it. Only when
      // its body has room: read while it had none, it went back to waiting after each read, and a
      // read slower than QUEUED_VIEW_MAX_AGE_MS came back too old, so it read again at once, back
      // to back for as long as the room did not come (an attempt's timeout).
      if (!justRead && now - Math.max(next.claimedAt, foundAt.get(projectId) ?? 0) > QUEUED_VIEW_MAX_AGE_MS) {
        if (options.bytesFit(next.claimed)) readProject(projectId);
        break;
      }
      q.shift();
      queuedBytes.remove(next.claimed);
      const give = takeBytes(next.claimed);
      if (give === null) {
        // No room for its body (behind an endpoint owed the room, or the budget taken): it stays
        // first here, and the project's attempts ending (any attempt's, with none of its own out)
        // look at it again. Handed back, due 50 ms later, it was claimed and handed back ~20
        // times a second for as long as the room did not come (an attempt's timeout).
        queuedBytes.add(next.claimed);
        q.unshift(next);
        break;
      }
      send(next.claimed, next.projectSchedule, give);
      started++;
    }
    if (stale.length) handBack(stale, 0);
    if (q.length === 0) forget(projectId);
    else {
      note(projectId);
      // Its first callback goes back once it has waited its longest, if nothing starts it before.
      arm(projectId);
    }
    return started;
  };

  return {
    length: (projectId) => queued.get(projectId)?.length ?? 0,
    reading: (projectId) => (reading.has(projectId) ? 1 : 0),
    space(projectId) {
      const bytes = noRoom.get(projectId);
      if (bytes !== undefined) {
        const fits = queuedBytes.fitsBytes(projectId, bytes, null);
        // Nothing of the project here (none queued, none in flight): the claim loop forgets it
        // after this look, so nothing would ask again. Kept until its bytes fitted, the entry of a
        // project deleted or idle since stayed for the process's life (~150 bytes each), and a
        // project that came back had its callbacks left out of claims, though they started at once.
        if (fits || (!queued.has(projectId) && inFlight(projectId) === 0)) noRoom.delete(projectId);
        if (!fits) return 0;
      }
      return Math.max(0, config.perEndpointConcurrency - (queued.get(projectId)?.length ?? 0));
    },
    dispatch(claimed, projectSchedule) {
      const projectId = claimed.delivery.projectId;
      const q = queued.get(projectId);
      if (!q && projectRoom(projectId) > 0) {
        const give = takeBytes(claimed);
        if (give !== null) {
          send(claimed, projectSchedule, give);
          return true;
        }
        // No room for its body: it waits here, as for a slot (start).
      }
      // As an endpoint's: up to a claim's and a cap's worth (claims leave the callbacks out, or
      // take only what fits, once a cap's worth waits).
      if ((q?.length ?? 0) >= config.claimBatch + config.perEndpointConcurrency) return false;
      if (!queuedBytes.fits(claimed)) {
        noRoom.set(projectId, queuedBytes.bytesOf(claimed));
        return false;
      }
      noRoom.delete(projectId);
      queuedBytes.add(claimed);
      const list = q ?? [];
      list.push({ claimed, claimedAt: clock(), projectSchedule });
      queued.set(projectId, list);
      // Behind others that wait for a slot: they go first, then this one, as slots allow.
      if (q) start(projectId);
      else {
        note(projectId);
        arm(projectId);
      }
      return true;
    },
    freed(projectId) {
      if (!queued.has(projectId)) return;
      if (options.callbacksInFlight(projectId) <= options.fewestInFlight(projectId)) start(projectId, 1);
    },
    start: (projectId) => {
      start(projectId);
    },
    startAll() {
      for (const projectId of [...queued.keys()]) start(projectId);
    },
    startStranded() {
      if (stranded.size === 0) return;
      for (const projectId of [...stranded]) start(projectId);
    },
    renew(claimed) {
      const entry = queued.get(claimed.delivery.projectId)?.find((x) => sameDelivery(x.claimed, claimed));
      if (!entry) return false;
      // As an endpoint's (EndpointQueues.renew): the old claim handed back at its longest wait
      // freed the row of the new one, queued behind it, as that was sent. Its event stays the copy
      // counted among the queued bytes.
      entry.claimed = { ...claimed, event: entry.claimed.event, payloadJson: entry.claimed.payloadJson };
      entry.claimedAt = clock();
      return true;
    },
    takeAll() {
      const out: ClaimedDelivery[] = [];
      for (const q of queued.values())
        for (const x of q) {
          queuedBytes.remove(x.claimed);
          out.push(x.claimed);
        }
      queued.clear();
      noRoom.clear();
      stranded.clear();
      foundAt.clear();
      for (const timer of expiries.values()) clearTimeout(timer);
      expiries.clear();
      return out;
    },
  };
}
