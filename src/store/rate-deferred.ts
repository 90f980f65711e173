/**
 * A hand-back put off by its endpoint's rate limit (ReleaseItem.rateLimit) whose limit was removed
 * or raised since the caller read it: the change came while the delivery was leased, and
 * updateEndpoint, which makes the deliveries the old limit put off due at once, left it alone (it
 * was in flight). Without this it waited out the old limit's time (a batch put off a token apart
 * under one a minute: hours) after the limit was gone. Both stores read the endpoint in the write
 * that hands it back, the endpoint's changes coming before it (seen) or after (finding it handed back).
 */
import { rateLimitLoosened } from '../domain/gcra.ts';
import type { RateLimit } from '../domain/types.ts';
import type { ReleaseItem } from './store-types.ts';

/** The endpoint as the hand-back's write reads it (null: gone). */
export interface CurrentLimit {
  rateLimit: RateLimit | null;
  /** When it was last changed (updatedAt): the change's time, or a later one's. */
  updatedAt: number;
}

/** Whether the hand-back depends on its endpoint's limit as it is now. */
export const putOffByLimit = (it: ReleaseItem): boolean =>
  it.rateLimited === true && it.rateLimit !== undefined;

/** `it` as written: due as of the change, at the latest, when its limit was removed or raised since. */
export function dueUnderLimit(it: ReleaseItem, current: CurrentLimit | null): ReleaseItem {
  if (!putOffByLimit(it) || !current || !rateLimitLoosened(it.rateLimit ?? null, current.rateLimit))
    return it;
  return { ...it, nextAttemptAt: Math.min(it.nextAttemptAt, current.updatedAt), rateLimited: false };
}
