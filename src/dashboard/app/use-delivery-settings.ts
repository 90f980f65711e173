/**
 * The installation's delivery settings (GET /api/v1/installation: default and largest timeout,
 * default retry schedule), loaded once per client. The endpoint form validates and explains with
 * them; it works without them too (data stays undefined while loading, or null when the server's
 * answer does not hold them), leaving the upper limit to the API.
 */
import type { DeliverySettings } from './api/types.ts';
import { useApp } from './app-context.ts';
import { clientCache } from './client-cache.ts';
import { type AsyncState, useAsync } from './use-async.ts';

const settings = clientCache((client) => client.getDeliverySettings());

export function useDeliverySettings(): AsyncState<DeliverySettings | null> {
  const { client } = useApp();
  return useAsync(() => settings.get(client), [client]);
}
