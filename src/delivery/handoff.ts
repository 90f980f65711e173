/**
 * Hand-off: at light load, the deliveries an accept creates go to the dispatcher thread in memory
 * instead of being claimed from the database. The accept stores them already leased to the thread's
 * worker (`AcceptLease`, stores with `capabilities.leaseOnAccept`), exactly as a claim would leave
 * them, and the main thread posts them to the thread after the commit. That takes the claim (a
 * write transaction, which waits for the write lock while an accept's fsync holds it) off the path
 * from acceptance to sending: p99 at 1,000 events/s fell by 37-60 % in interleaved scratch runs.
 *
 * Only at light load: at most HANDOFF_MAX_LOAD deliveries started and not yet recorded, or on their
 * way, so a busy dispatcher keeps claiming in batches (a closed loop handing everything off ran ~5 %
 * slower). A handed-off delivery the thread never takes (it stopped, or crashed) is leased like a
 * claimed one: it is due again when the lease runs out, and a SQLite dispatcher releases every lease
 * at start. Both stores lease on accept; on PostgreSQL the hand-off took p50 at 1,000 events/s from
 * 9.2-9.6 to 5.3-5.8 ms in scratch pairs.
 */
import type { HeraldEvent } from '../domain/types.ts';
import type { AcceptedEvent, AcceptLease, ClaimedDelivery } from '../store/store.ts';

/** Deliveries started on the thread and not yet recorded, plus those on their way to it, above which nothing is handed off. */
export const HANDOFF_MAX_LOAD = 32;

/**
 * Two counters shared by the threads: [IN_TRANSIT] posted but not yet started, [STARTED] the
 * thread's attempts started and not yet recorded. Attempts waiting for their record count: when
 * record writes fall behind (PostgreSQL at ~2,400/s) the thread hands hand-offs back instead of
 * starting them, and handing off more then only adds writes.
 */
export const IN_TRANSIT = 0;
export const STARTED = 1;
export const newHandoffCounters = (): SharedArrayBuffer =>
  new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);

/** A handed-off delivery as it crosses to the thread: the event without its payload (the text is there). */
export interface HandedOff {
  delivery: ClaimedDelivery['delivery'];
  event: Omit<HeraldEvent, 'payload'>;
  payloadJson: string;
  /** ClaimedDelivery.leaseEndsAt, from the accept (AcceptedEvent.leaseEndsAt). */
  leaseEndsAt?: number;
}

/** The main thread's side, offered to the API routes. */
export interface Handoff {
  /** The lease for the next accept, or null when nothing should be handed off now. */
  lease(): AcceptLease | null;
  /** Posts the leased deliveries of `accepted` to the thread; returns how many. */
  send(accepted: readonly AcceptedEvent[]): number;
}

export function createHandoff(options: {
  counters: SharedArrayBuffer;
  workerId: string;
  leaseMs: number;
  /** False while the thread is starting or stopping. */
  open: () => boolean;
  post: (items: HandedOff[]) => void;
}): Handoff {
  const counters = new Int32Array(options.counters);
  return {
    lease() {
      if (!options.open()) return null;
      const load = Atomics.load(counters, IN_TRANSIT) + Atomics.load(counters, STARTED);
      const max = HANDOFF_MAX_LOAD - load;
      return max > 0 ? { workerId: options.workerId, leaseMs: options.leaseMs, max } : null;
    },
    send(accepted) {
      const items: HandedOff[] = [];
      for (const a of accepted) {
        if (!a.leased || a.payloadJson === undefined) continue;
        const { payload: _payload, ...event } = a.event;
        for (let i = 0; i < a.leased; i++) {
          items.push({
            delivery: a.deliveries[i]!,
            event,
            payloadJson: a.payloadJson,
            ...(a.leaseEndsAt === undefined ? {} : { leaseEndsAt: a.leaseEndsAt }),
          });
        }
      }
      if (items.length === 0) return 0;
      Atomics.add(counters, IN_TRANSIT, items.length);
      options.post(items);
      return items.length;
    },
  };
}

/**
 * The thread's side: what arrived, as claimed deliveries (the payload decoded only if read). They
 * still count as in transit until `settleHandedOff`, once the dispatcher has started or handed them
 * back: while it reads their endpoints (a query on PostgreSQL) they are neither in flight nor
 * visible as load, and accepts meanwhile would hand off more than the room there is.
 */
export function takeHandedOff(items: HandedOff[]): ClaimedDelivery[] {
  return items.map(({ delivery, event, payloadJson, leaseEndsAt }) => {
    let decoded: { value: HeraldEvent['payload'] } | null = null;
    return {
      delivery,
      event: {
        ...event,
        get payload() {
          decoded ??= { value: JSON.parse(payloadJson) as HeraldEvent['payload'] };
          return decoded.value;
        },
      },
      payloadJson,
      ...(leaseEndsAt === undefined ? {} : { leaseEndsAt }),
    };
  });
}

/** `count` handed-off deliveries were started or handed back: no longer in transit. */
export function settleHandedOff(counters: Int32Array, count: number): void {
  Atomics.sub(counters, IN_TRANSIT, count);
}
