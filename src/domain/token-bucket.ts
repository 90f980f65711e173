/** A token bucket for per-endpoint rate limits. Pure: the clock is passed in. */
export interface TokenBucket {
  /** Takes a token if one is there (returns 0), else returns ms until one will be. */
  take(now: number): number;
}

/**
 * A bucket holding up to `burst` tokens (default: one second's worth, at least one), refilled at
 * `perSecond`. Starts full.
 */
export function createTokenBucket(options: { perSecond: number; burst?: number }): TokenBucket {
  // A non-positive or non-finite rate would mean "never": treat it as one request a minute instead
  // of returning an infinite wait the store cannot hold.
  const perSecond = Number.isFinite(options.perSecond) && options.perSecond > 0 ? options.perSecond : 1 / 60;
  const rate = perSecond / 1000; // tokens per ms
  const burst = options.burst !== undefined && Number.isFinite(options.burst) ? options.burst : perSecond;
  const capacity = Math.max(1, burst);
  let tokens = capacity;
  let last: number | null = null;
  return {
    take(now) {
      // a clock that steps back must not drain the bucket
      if (last !== null && now > last) tokens = Math.min(capacity, tokens + (now - last) * rate);
      if (last === null || now > last) last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - tokens) / rate);
    },
  };
}
