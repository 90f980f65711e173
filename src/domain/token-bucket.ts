/** A token bucket for per-endpoint rate limits. Pure: the clock is passed in. */
export interface TokenBucket {
  /** Takes a token if one is there (returns 0), else returns ms until one will be. */
  take(now: number): number;
}

export function createTokenBucket(options: { perSecond: number; burst?: number }): TokenBucket {
  const rate = options.perSecond / 1000; // tokens per ms
  const capacity = Math.max(1, options.burst ?? options.perSecond);
  let tokens = capacity;
  let last: number | null = null;
  return {
    take(now) {
      if (last !== null) tokens = Math.min(capacity, tokens + (now - last) * rate);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - tokens) / rate);
    },
  };
}
