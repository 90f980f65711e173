/** Claimed deliveries handed back to the store, held until `at` in their place in the due order (`parked`: their endpoint is disabled). */
import type { Delivery } from '../domain/types.ts';
import type { ClaimedDelivery, ReleaseItem } from '../store/store.ts';

/**
 * One claimed delivery handed back, due (held until) `at`, naming its claim by its lease's end
 * (ReleaseItem.leasedUntil): the store changes it only while that claim is still its last, not
 * once a newer claim of it took over, this process's (the older one's lease ran out while it waited
 * here) or another worker's (and that one's hand-back or record set when it is due). With the
 * attempts the claim read (ReleaseItem.attempts): a row leased to nobody changes only while they
 * are still its attempts.
 */
export const releaseOf = (d: Delivery, at: number): ReleaseItem => ({
  projectId: d.projectId,
  deliveryId: d.id,
  nextAttemptAt: at,
  leasedUntil: d.leasedUntil,
  attempts: d.attempts,
});

export function releaseItems(
  claimed: readonly ClaimedDelivery[],
  at: number,
  status?: 'parked',
): ReleaseItem[] {
  return claimed.map((c) => ({ ...releaseOf(c.delivery, at), ...(status ? { status } : {}) }));
}
