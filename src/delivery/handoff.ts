/**
 * Hand-off: at light load, the deliveries an accept creates go to the dispatcher thread in memory
 * instead of being claimed from the database. The accept stores them already leased to the thread's
 * worker (`AcceptLease`, stores with `capabilities.leaseOnAccept`), exactly as a claim would leave
 * them, and the main thread posts them to the thread after the commit. That takes the claim (a
 * write transaction, which waits for the write lock while an accept's fsync holds it) off the path
 * from acceptance to sending: p99 at 1,000 events/s fell by 37-60 % in interleaved scratch runs.
 *
 * Only at light load: at most HANDOFF_MAX_LOAD deliveries in flight or on their way, so a busy
 * dispatcher keeps claiming in batches (a closed loop handing everything off ran ~5 % slower). A
 * handed-off delivery the thread never takes (it stopped, or crashed) is leased like a claimed one:
 * it is due again when the lease runs out, and a SQLite dispatcher releases every lease at start.
 */
import type { HeraldEvent } from '../domain/types.ts';
import type { AcceptedEvent, AcceptLease, ClaimedDelivery } from '../store/store.ts';

/** Deliveries in flight on the thread plus those on their way to it, above which nothing is handed off. */
export const HANDOFF_MAX_LOAD = 32;

/** Two counters shared by the threads: [IN_TRANSIT] posted but not yet taken, [IN_FLIGHT] the thread's attempts. */
export const IN_TRANSIT = 0;
export const IN_FLIGHT = 1;
export const newHandoffCounters = (): SharedArrayBuffer =>
  new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);

/** A handed-off delivery as it crosses to the thread: the event without its payload (the text is there). */
export interface HandedOff {
  delivery: ClaimedDelivery['delivery'];
  event: Omit<HeraldEvent, 'payload'>;
  payloadJson: string;
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
      const load = Atomics.load(counters, IN_TRANSIT) + Atomics.load(counters, IN_FLIGHT);
      const max = HANDOFF_MAX_LOAD - load;
      return max > 0 ? { workerId: options.workerId, leaseMs: options.leaseMs, max } : null;
    },
    send(accepted) {
      const items: HandedOff[] = [];
      for (const a of accepted) {
        if (!a.leased || a.payloadJson === undefined) continue;
        const { payload: _payload, ...event } = a.event;
        for (let i = 0; i < a.leased; i++) {
          items.push({ delivery: a.deliveries[i]!, event, payloadJson: a.payloadJson });
        }
      }
      if (items.length === 0) return 0;
      Atomics.add(counters, IN_TRANSIT, items.length);
      options.post(items);
      return items.length;
    },
  };
}

/** The thread's side: what arrived, as claimed deliveries (the payload decoded only if read). */
export function takeHandedOff(counters: Int32Array, items: HandedOff[]): ClaimedDelivery[] {
  Atomics.sub(counters, IN_TRANSIT, items.length);
  return items.map(({ delivery, event, payloadJson }) => {
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
    };
  });
}
