/**
 * What waits for each endpoint of a list (pending and parked deliveries, counted by the API up to its
 * cap), read from …/deliveries?limit=1 like the list's success rates (usePerEndpoint: null when its
 * counts failed to load).
 */
import type { HeraldClient } from './api/client.ts';
import type { WaitingCounts } from './api/types.ts';
import { usePerEndpoint } from './use-per-endpoint.ts';

export function useEndpointBacklog(client: HeraldClient, projectId: string, ids: string[], scope: unknown) {
  return usePerEndpoint<WaitingCounts>(ids, (id) => client.endpointBacklog(projectId, id), scope);
}
