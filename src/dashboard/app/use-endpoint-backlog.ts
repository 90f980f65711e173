/**
 * What waits for each endpoint of a list (pending and parked deliveries, counted by the API up to its
 * cap), read in parallel from …/deliveries?limit=1 like the list's success rates; an endpoint whose
 * counts failed to load is absent.
 */
import type { HeraldClient } from './api/client.ts';
import type { Endpoint, WaitingCounts } from './api/types.ts';
import { useAsync } from './use-async.ts';

/** Map endpoint id → its counts, for the first 100 endpoints (as useEndpointHealth). */
export function useEndpointBacklog(
  client: HeraldClient,
  projectId: string,
  endpoints: Endpoint[] | undefined,
) {
  const ids = (endpoints ?? []).slice(0, 100).map((endpoint) => endpoint.id);
  return useAsync(async () => {
    const results = await Promise.allSettled(ids.map((id) => client.endpointBacklog(projectId, id)));
    const backlog = new Map<string, WaitingCounts>();
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') backlog.set(ids[index]!, result.value);
    });
    return backlog;
  }, [client, projectId, ids.join(',')]);
}
