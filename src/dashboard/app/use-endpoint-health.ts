/** Success rate of each endpoint over the last 24 hours, from …/stats (failures tolerated). */
import type { HeraldClient } from './api/client.ts';
import type { StatsBucket } from './api/types.ts';
import { usePerEndpoint } from './use-per-endpoint.ts';

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

/** Each listed endpoint's totals (usePerEndpoint: null when its stats failed to load). */
export function useEndpointHealth(client: HeraldClient, projectId: string, ids: string[], scope: unknown) {
  return usePerEndpoint(
    ids,
    async (id) => {
      const until = new Date();
      const since = new Date(until.getTime() - HEALTH_WINDOW_MS);
      const buckets = await client.stats(projectId, id, {
        since: since.toISOString(),
        until: until.toISOString(),
        bucket: '1d',
      });
      return totals(buckets);
    },
    scope,
  );
}
