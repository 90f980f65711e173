/**
 * Per-endpoint rate limits (`rateLimit`) shared by every process on the store. Before a claimed
 * batch is dispatched, `prepare` takes from the store (Store.takeRateTokens, GCRA) as many tokens
 * as the batch has deliveries for each rate-limited endpoint: one call per batch, whatever the
 * number of endpoints. `take` then hands them out one delivery at a time; a delivery without a
 * token learns when the next one will be there and is put back until then.
 *
 * Several batches can be between `prepare` and their launch pass at once (the claim loop and the
 * hand-off of newly accepted deliveries each run one: Dispatcher.dispatchClaimed), so the tokens are
 * not kept per batch but added up per endpoint: each `prepare` adds what the store granted it to its
 * endpoints' counts, and each `take` uses one, whichever batch it belongs to. A batch's deliveries ask
 * for one each, so the batches together ask for exactly the tokens they took from the store: none is
 * lost to another batch, none is used twice. (A single shared map that each `prepare` replaced lost
 * the other batch's tokens: its deliveries found none, were put back for an interval, and the tokens
 * they had taken in the store went unused.)
 *
 * The tokens are for now: a batch's launch pass runs in the same turn of the event loop as the end of
 * its `prepare` (it is synchronous after the reads, batch-reads.ts). Those left when the turn ends
 * (counted for a delivery that did not ask: put back for a full queue) are dropped then, so they are
 * never spent later on top of newer ones (a burst over the limit): the limit errs on the side of
 * sending less, never more. An endpoint whose secrets did not open takes none (its deliveries go back
 * without asking).
 */
import type { Endpoint } from '../domain/types.ts';
import type { ClaimedDelivery, ClaimFirst, DispatchEndpoint, RateTokenGrant, Store } from '../store/store.ts';

export interface RateGate {
  /**
   * Takes the tokens a claimed batch needs (only active endpoints with a rateLimit whose secrets
   * opened), as of `now`: give the clock, read once the store takes them (Store.takeRateTokens).
   * They are added to those of other batches prepared in the same turn of the event loop; the
   * batch's `take`s must come in that turn (what is left is dropped when it ends).
   */
  prepare(
    claimed: ClaimedDelivery[],
    endpoints: Map<string, DispatchEndpoint>,
    now: number | (() => number),
  ): Promise<void>;
  /**
   * 0 when a delivery to `endpoint` may go now (a token is used, of those prepared this turn for the
   * endpoint by any batch), else ms until the next token.
   */
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
  /**
   * The endpoints whose deliveries this process put back are due by `now`, for the next claim to
   * take first (ClaimOptions.first): oldest due first, claims would leave them behind any older
   * backlog of other endpoints until their tokens were gone. Each at most the tokens it can have
   * now (those since its first put-back came due, up to its burst). `skip`: endpoints that cannot
   * take more now (saturated).
   */
  claimFirst(now: number, skip: (endpointId: string) => boolean): ClaimFirst[];
  /**
   * After a claim that asked for `first`: unless the claim was `full` (its limit reached, or cut by
   * its bytes: it may have stopped before some of them), an endpoint of it that got nothing had its
   * put-backs due by `now` claimed by another process (or deleted, or parked), so they are no longer
   * asked for.
   */
  claimedFirst(first: ClaimFirst[], claimed: ClaimedDelivery[], now: number, full: boolean): void;
  /**
   * The endpoints a claim at `now` leaves out: those with put-backs by this process whose next
   * token, by the last grant this process took, comes after `now` but within TOKEN_WAIT_MAX_MS
   * (what it took of them would only go back; at the token, claimFirst asks for them first); and
   * `until`, the earliest of those tokens (claim again then), or null when none.
   */
  noTokenYet(now: number): { endpointIds: string[]; until: number | null };
  /**
   * After the batch of a claim that asked for `first` has taken its tokens: when its next token is
   * there for an endpoint that got all it asked for (more of it may be due: the rest of the claim
   * left it out), the earliest of them; null when none. The loop claims again then.
   */
  nextClaimAt(): number | null;
}

/** Endpoints with put-backs held before those whose last is already due are dropped. */
const PUT_BACK_ENDPOINTS_PRUNE_AT = 1_000;
/** Deliveries put back and not claimed since, remembered at most (past it, put-backs bunch up more). */
const PUT_BACK_IDS_MAX = 65_536;

/** Endpoints one claim takes first at most (ClaimOptions.first); the others wait their turn. */
const FIRST_ENDPOINTS_MAX = 32;

/**
 * How far ahead a known next token leaves its endpoint out of claims (noTokenYet). Its put-backs
 * are due one token apart as the tokens were when they were put back, but a token taken late (a
 * claim's own time, with burst 1 it is not made up) moves every later one: each came due a little
 * before its token, was claimed, found none and went back (two writes), and met the next one at
 * its token (at 20/s, burst 1: 2.9 put-backs per delivery). Capped, so that a limit removed or
 * raised (the grant was under the old one) holds its deliveries back this long at most.
 */
export const TOKEN_WAIT_MAX_MS = 250;

/** One endpoint's put-backs by this process. */
interface PutBacks {
  projectId: string;
  /** Its limit, as of the last put-back: tokens a second, and burst. */
  perSecond: number;
  burst: number;
  /** When the next one (after the first of a batch) should be due. */
  horizon: number;
  /** Deliveries put back and not claimed since, and when each is due. */
  waiting: Map<string, number>;
  /** When the first of `waiting` is due; null when it must be found again (some were claimed). */
  firstDue: number | null;
  /** When a claim last took it first: the tokens it could use then are counted from there on. */
  askedAt: number;
  /** When its next token is there, by the last grant this process took (tokens are counted from it). */
  tokenAt: number;
}

/** One endpoint's tokens taken from the store this turn of the event loop, by every batch prepared in it. */
interface Tokens {
  /** Granted and not used yet. */
  left: number;
  /** When the store's next token is there: the latest of its grants (the last to take saw the others). */
  nextAt: number;
}

export function createRateGate(store: Pick<Store, 'takeRateTokens'>): RateGate {
  let tokens = new Map<string, Tokens>();
  let dropScheduled = false;
  /** At the end of the turn: every batch prepared in it has had its launch pass. */
  const dropLeftTokens = () => {
    dropScheduled = false;
    tokens = new Map();
  };
  const addGrants = (grants: Map<string, RateTokenGrant>) => {
    for (const [endpointId, grant] of grants) {
      const mine = tokens.get(endpointId);
      if (!mine) tokens.set(endpointId, { left: grant.granted, nextAt: grant.nextAt });
      else {
        mine.left += grant.granted;
        mine.nextAt = Math.max(mine.nextAt, grant.nextAt);
      }
      // Kept past the turn for an endpoint with put-backs: until then none is worth claiming.
      const waiting = putBacks.get(endpointId);
      if (waiting) waiting.tokenAt = Math.max(waiting.tokenAt, grant.nextAt);
    }
    if (!dropScheduled && grants.size > 0) {
      dropScheduled = true;
      setImmediate(dropLeftTokens).unref();
    }
  };
  /** Per endpoint, what this process put back (putBackAt). */
  const putBacks = new Map<string, PutBacks>();
  let putBackIds = 0;
  let putBackThisBatch = new Set<string>();
  let firstRotation = 0;
  /** Endpoints that got all a claim asked for first (claimedFirst), for nextClaimAt. */
  let gotAll: string[] = [];
  return {
    async prepare(claimed, endpoints, now) {
      putBackThisBatch = new Set();
      if (putBacks.size > 0) {
        for (const c of claimed) {
          const mine = c.delivery.endpointId ? putBacks.get(c.delivery.endpointId) : undefined;
          if (mine?.waiting.delete(c.delivery.id)) {
            putBackIds--;
            mine.firstDue = null;
          }
        }
      }
      const want = new Map<string, number>();
      for (const c of claimed) {
        const id = c.delivery.endpointId;
        const target = id === null ? undefined : endpoints.get(id);
        const ep = target?.endpoint;
        // Secrets not opened: handed back without a take (dispatcher.ts); its token would be lost.
        if (!ep?.rateLimit || ep.status !== 'active' || target!.unopened) continue;
        want.set(ep.id, (want.get(ep.id) ?? 0) + 1);
      }
      if (want.size === 0) return;
      const grants = await store.takeRateTokens(
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
      addGrants(grants);
    },
    take(endpoint, now) {
      if (!endpoint.rateLimit) return 0;
      const mine = tokens.get(endpoint.id);
      // Not prepared for this endpoint this turn (should not happen): wait one interval rather than overshoot.
      if (!mine) return Math.ceil(1000 / endpoint.rateLimit.perSecond);
      if (mine.left > 0) {
        mine.left--;
        return 0;
      }
      return Math.max(1, Math.ceil(mine.nextAt - now));
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
        mine = {
          projectId: endpoint.projectId,
          perSecond: 1,
          burst: 1,
          horizon: 0,
          waiting: new Map(),
          firstDue: null,
          askedAt: Number.NEGATIVE_INFINITY,
          tokenAt: Number.NEGATIVE_INFINITY,
        };
        putBacks.set(endpoint.id, mine);
      }
      // The grant of this turn that left it without a token (putBackAt follows take).
      mine.tokenAt = Math.max(mine.tokenAt, tokens.get(endpoint.id)?.nextAt ?? Number.NEGATIVE_INFINITY);
      if (endpoint.rateLimit) {
        mine.perSecond = endpoint.rateLimit.perSecond;
        // A whole number of deliveries (perSecond may be 1.5; burst defaults to it).
        mine.burst = Math.max(1, Math.floor(endpoint.rateLimit.burst ?? endpoint.rateLimit.perSecond));
      }
      let at = next;
      if (putBackThisBatch.has(endpoint.id)) {
        const interval = endpoint.rateLimit ? 1000 / endpoint.rateLimit.perSecond : 0;
        at = Math.min(Math.max(mine.horizon, next + interval), next + interval * (mine.waiting.size + 1));
        mine.horizon = at + interval;
      }
      putBackThisBatch.add(endpoint.id);
      const due = Math.ceil(at);
      const had = mine.waiting.has(deliveryId);
      if (putBackIds < PUT_BACK_IDS_MAX || had) {
        if (!had) putBackIds++;
        mine.waiting.set(deliveryId, due);
        mine.firstDue = had || mine.firstDue === null ? null : Math.min(mine.firstDue, due);
      }
      return due;
    },
    claimFirst(now, skip) {
      const first: ClaimFirst[] = [];
      // At most FIRST_ENDPOINTS_MAX, from one further round each time: every endpoint gets its turn.
      let order: Iterable<[string, PutBacks]> = putBacks;
      if (putBacks.size > FIRST_ENDPOINTS_MAX) {
        const all = [...putBacks];
        const start = firstRotation++ % all.length;
        order = all.slice(start).concat(all.slice(0, start));
      }
      for (const [endpointId, mine] of order) {
        if (first.length >= FIRST_ENDPOINTS_MAX) break;
        if (mine.waiting.size === 0) continue;
        if (mine.firstDue === null) {
          let min = Number.POSITIVE_INFINITY;
          for (const due of mine.waiting.values()) if (due < min) min = due;
          mine.firstDue = min;
        }
        // No token yet by the last grant: taken now, they would only go back.
        if (mine.firstDue > now || mine.tokenAt > now || skip(endpointId)) continue;
        // Tokens since its first put-back came due, since the last claim took it first or since
        // its next token by the last grant, whichever is later: a claim that found its put-backs
        // taken elsewhere (an older backlog left) does not make every later claim ask for a whole
        // burst, only to put most of it back.
        const since = Math.max(mine.firstDue, mine.askedAt, mine.tokenAt);
        const tokens = Math.floor(((now - since) * mine.perSecond) / 1000) + 1;
        mine.askedAt = now;
        first.push({ projectId: mine.projectId, endpointId, limit: Math.min(tokens, mine.burst) });
      }
      return first;
    },
    claimedFirst(first, claimed, now, full) {
      // A full claim may have stopped before some of them: nothing is known of those. Full by its
      // count alone, a claim cut by its bytes (the first endpoints' large events filled
      // HERALD_DELIVERY_BYTES_IN_FLIGHT) made the later ones forget their put-backs.
      if (first.length === 0) return;
      const got = new Map<string | null, number>();
      for (const c of claimed) got.set(c.delivery.endpointId, (got.get(c.delivery.endpointId) ?? 0) + 1);
      for (const { endpointId, limit } of first)
        if ((got.get(endpointId) ?? 0) >= limit) gotAll.push(endpointId);
      if (full) return;
      for (const { endpointId } of first) {
        const mine = putBacks.get(endpointId);
        if (!mine || got.has(endpointId)) continue;
        for (const [id, due] of mine.waiting) {
          if (due > now) continue;
          mine.waiting.delete(id);
          putBackIds--;
        }
        mine.firstDue = null;
      }
    },
    noTokenYet(now) {
      const endpointIds: string[] = [];
      let until: number | null = null;
      for (const [endpointId, mine] of putBacks) {
        const at = mine.tokenAt;
        if (mine.waiting.size === 0 || at <= now || at - now > TOKEN_WAIT_MAX_MS) continue;
        endpointIds.push(endpointId);
        if (until === null || at < until) until = at;
      }
      return { endpointIds, until };
    },
    nextClaimAt() {
      let at: number | null = null;
      for (const endpointId of gotAll) {
        const next = putBacks.get(endpointId)?.tokenAt;
        if (next !== undefined && (at === null || next < at)) at = next;
      }
      gotAll = [];
      return at;
    },
  };
}
