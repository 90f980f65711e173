/**
 * The deliveries whose attempt this process has started and not yet settled: recorded (the record's
 * write finished, or was given up), or ended without a record (handed back after a local failure,
 * cut off by a stop). A claim's lease can run out while its attempt is still out: the clock stepped
 * forward past the lease's unused part, or the attempt waited (for a slot, for room for its body)
 * longer than the lease left. The process's next claim then finds the delivery due again, leased to
 * itself, and sent it again: a receiver holding a request 1 s under a 300 ms lease got it 4 times,
 * and the history showed 4 successes. Such a claim is skipped instead: it only moved the lease (to
 * this worker), and the attempt out settles the delivery as its record always would (a record
 * moves a delivery leased to its own worker), or its lease brings it back.
 *
 * Each entry is the attempt count the claim read: a claim that read more came after the attempt's
 * record was written (the delivery is due again, a retry) and is no duplicate, even before the
 * record's write has been seen here.
 *
 * A record written after its claim's lease ran out may have moved a claim this process took of the
 * delivery meanwhile (a record moves a delivery leased to its own worker), one whose claim was
 * still being written or read when the attempt settled: that claim, with the count from before the
 * record, found nothing out here and was sent again. Such a record is remembered for a lease
 * (`overran`), and a claim with a count before it is one too.
 */
import type { Delivery } from '../domain/types.ts';

type Claim = Pick<Delivery, 'id' | 'attempts'> & { leasedUntil?: number | null };

export interface InFlightDeliveries {
  /**
   * Whether an attempt of this claim (its delivery, at the count the claim read) is out and
   * unsettled, or was recorded after its lease ran out (the claim read the count from before it).
   */
  has(claim: Claim): boolean;
  add(claim: Claim): void;
  /** The attempt of the delivery at the count `attempts` was recorded at `now` (its record written). */
  recorded(deliveryId: string, attempts: number, now: number): void;
  /** The attempt of the delivery at the count `attempts` has settled. */
  settle(deliveryId: string, attempts: number): void;
  readonly size: number;
}

/** `keepMs`: how long a record written after its lease ran out is remembered (the lease's length). */
export function createInFlightDeliveries(keepMs: number): InFlightDeliveries {
  const counts = new Map<string, { attempts: number; leasedUntil: number | null }>();
  /** Records written after their lease ran out: the count they left, and until when it is kept. */
  const overran = new Map<string, { attempts: number; until: number }>();
  return {
    has(claim) {
      if (counts.get(claim.id)?.attempts === claim.attempts) return true;
      const after = overran.get(claim.id);
      return after !== undefined && claim.attempts < after.attempts;
    },
    add(claim) {
      counts.set(claim.id, { attempts: claim.attempts, leasedUntil: claim.leasedUntil ?? null });
    },
    recorded(deliveryId, attempts, now) {
      const entry = counts.get(deliveryId);
      if (entry?.attempts !== attempts || entry.leasedUntil === null || now < entry.leasedUntil) return;
      // Rare (a lease ran out under its attempt): those past their time are dropped as one comes.
      for (const [id, o] of overran) if (o.until <= now) overran.delete(id);
      overran.set(deliveryId, { attempts: attempts + 1, until: now + keepMs });
    },
    settle(deliveryId, attempts) {
      // Only its own entry: a later attempt's (a retry started before this record's write was
      // seen) stays until that one settles.
      if (counts.get(deliveryId)?.attempts === attempts) counts.delete(deliveryId);
    },
    get size() {
      return counts.size;
    },
  };
}

/** What a skipped claim reports (hooks.onError, during 'lease'): the lease was too short for the attempt. */
export function leaseOverrun(deliveryId: string): Error {
  return new Error(
    `delivery ${deliveryId} was claimed again while its attempt was still in flight (its lease ran out: ` +
      'the clock stepped forward, or the attempt waited longer than HERALD_LEASE_MS left); not sent twice by this process, ' +
      'but another worker may have taken it too',
  );
}
