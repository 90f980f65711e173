/** Success rate of each endpoint over the last 24 hours, from …/stats (loaded in parallel, failures tolerated). */
import type { HeraldClient } from './api/client.ts';
import type { Endpoint, StatsBucket } from './api/types.ts';
import { useAsync } from './use-async.ts';

export interface Health {
  succeeded: number;
  failed: number;
}

/** Stats window of the endpoints list. */
export const HEALTH_WINDOW_MS = 24 * 3600_000;

/** Sums buckets into totals. */
export function totals(buckets: StatsBucket[]): Health {
  return buckets.reduce(
    (sum, b) => ({ succeeded: sum.succeeded + b.succeeded, failed: sum.failed + b.failed }),
    { succeeded: 0, failed: 0 },
  );
}

/** Map endpoint id → totals; endpoints whose stats failed to load are absent. */
export function useEndpointHealth(
  client: HeraldClient,
  projectId: string,
  endpoints: Endpoint[] | undefined,
) {
  const ids = (endpoints ?? []).slice(0, 100).map((endpoint) => endpoint.id);
  return useAsync(async () => {
    const until = new Date();
    const since = new Date(until.getTime() - HEALTH_WINDOW_MS);
    const results = await Promise.allSettled(
      ids.map((id) =>
        client.stats(projectId, id, {
          since: since.toISOString(),
          until: until.toISOString(),
          bucket: '1d',
        }),
      ),
    );
    const health = new Map<string, Health>();
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') health.set(ids[index]!, totals(result.value));
    });
    return health;
  }, [client, projectId, ids.join(',')]);
}
