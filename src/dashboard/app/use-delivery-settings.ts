/**
 * The installation's delivery settings (GET /api/v1/installation: default and largest timeout,
 * default retry schedule), loaded once per client. The endpoint form validates and explains with
 * them; it works without them too (data stays undefined while loading, or null when the server's
 * answer does not hold them), leaving the upper limit to the API.
 */
import type { HeraldClient } from './api/client.ts';
import type { DeliverySettings } from './api/types.ts';
import { useApp } from './app-context.ts';
import { type AsyncState, useAsync } from './use-async.ts';

const cache = new WeakMap<HeraldClient, Promise<DeliverySettings | null>>();

export function useDeliverySettings(): AsyncState<DeliverySettings | null> {
  const { client } = useApp();
  return useAsync(() => {
    let pending = cache.get(client);
    if (!pending) {
      pending = client.getDeliverySettings();
      // A failed load is not kept: the next form asks again.
      pending.catch(() => cache.delete(client));
      cache.set(client, pending);
    }
    return pending;
  }, [client]);
}
