/** Claimed deliveries handed back to the store, held until `at` in their place in the due order (`parked`: their endpoint is disabled). */
import type { ClaimedDelivery, ReleaseItem } from '../store/store.ts';

export function releaseItems(
  claimed: readonly ClaimedDelivery[],
  at: number,
  status?: 'parked',
): ReleaseItem[] {
  return claimed.map((c) => ({
    projectId: c.delivery.projectId,
    deliveryId: c.delivery.id,
    nextAttemptAt: at,
    ...(status ? { status } : {}),
  }));
}
