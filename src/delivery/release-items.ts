/** Claimed deliveries handed back to the store, held until `at` in their place in the due order (`parked`: their endpoint is disabled). */
import type { Delivery } from '../domain/types.ts';
import type { ClaimedDelivery, ReleaseItem } from '../store/store.ts';

/**
 * One claimed delivery handed back, due (held until) `at`, naming its claim by its lease's end
 * (ReleaseItem.leasedUntil): the store frees it only while still under that claim, not a newer
 * claim of it this process took since (the older one's lease ran out while it waited here). With
 * the attempts the claim read (ReleaseItem.attempts): a row leased to nobody changes only while they
 * are still its attempts, not once another worker's record scheduled a retry of it.
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
