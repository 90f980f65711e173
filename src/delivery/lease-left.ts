/**
 * What is left of a claim's lease, on this process's clock: an attempt must end inside it (with
 * LEASE_MARGIN_MS for its record), or another worker may claim the delivery and send it again.
 */
import { LEASE_MARGIN_MS } from '../config/config-types.ts';
import type { ClaimedDelivery } from '../store/store.ts';

/**
 * When this process counts the claim's lease over: from the claim's `now`, on its own clock
 * (ClaimedDelivery.leaseEndsAt), not the stored end, which on PostgreSQL is the database's time
 * (store/lease-clock.ts). Null: no lease (a delivery not claimed).
 */
export const leaseEndOf = (claimed: ClaimedDelivery): number | null =>
  claimed.leaseEndsAt ?? claimed.delivery.leasedUntil;

/**
 * Pure: how much of the time this thread could not run may be left out of an attempt's timeout
 * (sender.ts), started at `now`: what the lease leaves past the timeout and the margin, at least 0.
 */
export function stallAllowanceMs(leaseEnd: number | null, now: number, timeoutMs: number): number {
  const leaseLeft = leaseEnd === null ? 0 : leaseEnd - now;
  return Math.max(0, leaseLeft - timeoutMs - LEASE_MARGIN_MS);
}
