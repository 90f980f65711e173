/**
 * The claims in a dispatcher queue (an endpoint's, a project's callbacks) that waited past their
 * longest wait. `renew` gives a claim taken again a fresh time in its place, so a queue is not in
 * claim-time order: the oldest may be anywhere, and each entry is looked at.
 */
import type { ClaimedDelivery } from '../store/store.ts';

export interface QueuedClaim {
  claimed: ClaimedDelivery;
  /** When this process claimed it (last: renew moves it). */
  claimedAt: number;
}

/** The earliest claim time in `q` (Infinity when empty): when its longest wait ends first. */
export function oldestClaim(q: readonly QueuedClaim[]): number {
  let oldest = Number.POSITIVE_INFINITY;
  for (const entry of q) oldest = Math.min(oldest, entry.claimedAt);
  return oldest;
}

/**
 * Takes out of `q`, in place and in queue order, every claim that waited more than `waitMax` at
 * `now`, and returns them (each one's bytes are for the caller to give back).
 */
export function takeOverdue(q: QueuedClaim[], now: number, waitMax: number): ClaimedDelivery[] {
  const overdue: ClaimedDelivery[] = [];
  for (let i = 0; i < q.length; ) {
    const entry = q[i]!;
    if (now - entry.claimedAt <= waitMax) i++;
    else {
      q.splice(i, 1);
      overdue.push(entry.claimed);
    }
  }
  return overdue;
}
