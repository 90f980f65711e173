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
  /**
   * Takes the tokens a claimed batch needs (only endpoints with a rateLimit), as of `now`: give the
   * clock, read once the store takes them (Store.takeRateTokens).
   */
  prepare(
    claimed: ClaimedDelivery[],
    endpoints: Map<string, DispatchEndpoint>,
    now: number | (() => number),
  ): Promise<void>;
  /** 0 when a delivery to `endpoint` may go now (a token is used), else ms until the next token. */
  take(endpoint: Endpoint, now: number): number;
  /**
   * When a delivery of this batch that got no token (`take` said `wait`) should be due again. The
   * first of the batch: when the next token is there (a delivery that came back a moment before its
   * token keeps its turn). The others: one token apart, after those this process put back before,
   * over any number of claims, so they come due one at a time as the tokens do instead of many at
   * once only to be put back again; but never later than one token for each delivery put back and
   * not claimed since (an enable, a raised limit or a retry makes them due early: they give up
   * their places).
   */
  putBackAt(endpoint: Endpoint, deliveryId: string, now: number, wait: number): number;
}

/** Endpoints with put-backs held before those whose last is already due are dropped. */
const PUT_BACK_ENDPOINTS_PRUNE_AT = 1_000;
/** Deliveries put back and not claimed since, remembered at most (past it, put-backs bunch up more). */
const PUT_BACK_IDS_MAX = 65_536;

/** One endpoint's put-backs by this process. */
interface PutBacks {
  /** When the next one (after the first of a batch) should be due. */
  horizon: number;
  /** Deliveries put back and not claimed since. */
  waiting: Set<string>;
}

export function createRateGate(store: Pick<Store, 'takeRateTokens'>): RateGate {
  let grants = new Map<string, RateTokenGrant>();
  /** Per endpoint, what this process put back (putBackAt). */
  const putBacks = new Map<string, PutBacks>();
  let putBackIds = 0;
  let putBackThisBatch = new Set<string>();
  return {
    async prepare(claimed, endpoints, now) {
      putBackThisBatch = new Set();
      if (putBacks.size > 0) {
        for (const c of claimed) {
          const waiting = c.delivery.endpointId ? putBacks.get(c.delivery.endpointId)?.waiting : undefined;
          if (waiting?.delete(c.delivery.id)) putBackIds--;
        }
      }
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
    putBackAt(endpoint, deliveryId, now, wait) {
      const next = now + wait;
      let mine = putBacks.get(endpoint.id);
      if (!mine) {
        if (putBacks.size >= PUT_BACK_ENDPOINTS_PRUNE_AT) {
          for (const [id, p] of putBacks) {
            if (p.horizon > now) continue;
            putBackIds -= p.waiting.size;
            putBacks.delete(id);
          }
        }
        mine = { horizon: 0, waiting: new Set() };
        putBacks.set(endpoint.id, mine);
      }
      let at = next;
      if (putBackThisBatch.has(endpoint.id)) {
        const interval = endpoint.rateLimit ? 1000 / endpoint.rateLimit.perSecond : 0;
        at = Math.min(Math.max(mine.horizon, next + interval), next + interval * (mine.waiting.size + 1));
        mine.horizon = at + interval;
      }
      putBackThisBatch.add(endpoint.id);
      if (putBackIds < PUT_BACK_IDS_MAX && !mine.waiting.has(deliveryId)) {
        mine.waiting.add(deliveryId);
        putBackIds++;
      }
      return Math.ceil(at);
    },
  };
}
