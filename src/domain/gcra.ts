/**
 * Per-endpoint rate limits shared by every process: GCRA (the generic cell rate algorithm, a token
 * bucket written as one number). Each endpoint keeps a "theoretical arrival time" (TAT) in the
 * store; a request at `now` is allowed while TAT − now ≤ tolerance, and each allowed request moves
 * TAT one emission interval further. Taking n tokens at once is one atomic update of that number,
 * which is what lets several processes share one limit. The PostgreSQL store computes the step in
 * SQL under the row's lock (src/store/postgres/rate-limit.ts); the single-process SQLite store
 * calls gcraTake below. Pure.
 */
import type { RateLimit } from './types.ts';

export interface GcraParams {
  /** Milliseconds between two tokens (1000 / perSecond). */
  intervalMs: number;
  /** How far TAT may run ahead of now: (capacity − 1) × interval, capacity = burst (default perSecond, at least 1). */
  toleranceMs: number;
}

/** How `rateLimit` reads: `burst` defaults to one second's worth (at least 1); a non-positive rate is one a minute. */
export function gcraParams(limit: RateLimit): GcraParams {
  // A non-positive or non-finite rate would mean "never": one request a minute instead.
  const perSecond = Number.isFinite(limit.perSecond) && limit.perSecond > 0 ? limit.perSecond : 1 / 60;
  const burst = limit.burst !== undefined && Number.isFinite(limit.burst) ? limit.burst : perSecond;
  const capacity = Math.max(1, burst);
  const intervalMs = 1000 / perSecond;
  return { intervalMs, toleranceMs: (capacity - 1) * intervalMs };
}

/** Guards floor() against 2.9999999 where the arithmetic meant 3. */
export const GCRA_EPSILON = 1e-9;

export interface GcraStep {
  /** Tokens granted, 0..want. */
  granted: number;
  /** The new theoretical arrival time. */
  tat: number;
  /** When the next token will be there (≤ now when one is there already). */
  nextAt: number;
}

/**
 * Takes up to `want` tokens at `now` from an endpoint whose TAT is `tat` (null: never used), last
 * computed under the limit `previous`. When the limit changed, a TAT further ahead than one full
 * bucket of the new limit (left by a stricter one) is clamped; under an unchanged limit it never
 * is, since callers' clocks may lag a little behind each other and a clamp would hand out extra.
 */
export function gcraTake(
  tat: number | null,
  now: number,
  want: number,
  p: GcraParams,
  previous: GcraParams | null = null,
): GcraStep {
  const changed =
    previous !== null && (previous.intervalMs !== p.intervalMs || previous.toleranceMs !== p.toleranceMs);
  const ahead = changed ? Math.min(tat ?? now, now + p.toleranceMs + p.intervalMs) : (tat ?? now);
  const base = Math.max(now, ahead);
  const free = Math.floor((p.toleranceMs - (base - now)) / p.intervalMs + 1 + GCRA_EPSILON);
  const granted = Math.max(0, Math.min(want, free));
  const next = base + granted * p.intervalMs;
  return { granted, tat: next, nextAt: next - p.toleranceMs };
}

/**
 * Whether going from limit `before` to `after` lets more through: removed, a shorter interval or a
 * larger burst. Deliveries the old limit put off are then due at once (Store.updateEndpoint) and
 * paced by the new limit when claimed; a stricter limit leaves them where they are, since each is
 * paced again when it comes due.
 */
export function rateLimitLoosened(before: RateLimit | null, after: RateLimit | null): boolean {
  if (before === null) return false;
  if (after === null) return true;
  const a = gcraParams(before);
  const b = gcraParams(after);
  return b.intervalMs < a.intervalMs || b.toleranceMs > a.toleranceMs;
}
