/**
 * Per-endpoint rate limits (`rateLimit`) shared by every process on the store. Before a claimed
 * batch is dispatched, `prepare` takes from the store (Store.takeRateTokens, GCRA) as many tokens
 * as the batch has deliveries for each rate-limited endpoint: one call per batch, whatever the
 * number of endpoints. `take` then hands them out one delivery at a time; a delivery without a
 * token learns when the next one will be there and is put back until then.
 *
 * Tokens granted but not used (the delivery was parked, or held back by the concurrency cap) are
 * simply lost: the limit errs on the side of sending less, never more.
 */
import type { Endpoint } from '../domain/types.ts';
import type { ClaimedDelivery, DispatchEndpoint, RateTokenGrant, Store } from '../store/store.ts';

export interface RateGate {
  /** Takes the tokens a claimed batch needs (only endpoints with a rateLimit). */
  prepare(claimed: ClaimedDelivery[], endpoints: Map<string, DispatchEndpoint>, now: number): Promise<void>;
  /** 0 when a delivery to `endpoint` may go now (a token is used), else ms until the next token. */
  take(endpoint: Endpoint, now: number): number;
}

export function createRateGate(store: Pick<Store, 'takeRateTokens'>): RateGate {
  let grants = new Map<string, RateTokenGrant>();
  return {
    async prepare(claimed, endpoints, now) {
      const want = new Map<string, number>();
      for (const c of claimed) {
        const id = c.delivery.endpointId;
        const ep = id === null ? undefined : endpoints.get(id)?.endpoint;
        if (!ep?.rateLimit || ep.status !== 'active') continue;
        want.set(ep.id, (want.get(ep.id) ?? 0) + 1);
      }
      if (want.size === 0) {
        grants = new Map();
        return;
      }
      grants = await store.takeRateTokens(
        [...want].map(([endpointId, n]) => {
          const ep = endpoints.get(endpointId)!.endpoint;
          return {
            projectId: ep.projectId,
            endpointId,
            perSecond: ep.rateLimit!.perSecond,
            ...(ep.rateLimit!.burst !== undefined ? { burst: ep.rateLimit!.burst } : {}),
            want: n,
          };
        }),
        now,
      );
    },
    take(endpoint, now) {
      if (!endpoint.rateLimit) return 0;
      const grant = grants.get(endpoint.id);
      // Not prepared for this endpoint (should not happen): wait one interval rather than overshoot.
      if (!grant) return Math.ceil(1000 / endpoint.rateLimit.perSecond);
      if (grant.granted > 0) {
        grant.granted--;
        return 0;
      }
      return Math.max(1, Math.ceil(grant.nextAt - now));
    },
  };
}
