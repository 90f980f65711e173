/** An open endpoint page's state, read again while it is shown (endpoint-screen.tsx). */
import type { Endpoint } from './api/types.ts';

/**
 * How often an open endpoint's state (active or disabled, failures in a row) is read again: an
 * endpoint enabled here whose parked deliveries fail again is disabled again within seconds, and
 * the page must not go on saying it is active.
 */
export const STATE_REFRESH_MS = 5_000;

/** The endpoint with `fresh`'s state; the same object when nothing of it changed (no re-render). */
export function withState(current: Endpoint, fresh: Endpoint): Endpoint {
  if (
    current.status === fresh.status &&
    current.consecutiveFailures === fresh.consecutiveFailures &&
    current.disabledReason === fresh.disabledReason &&
    // Enabled and disabled again between two reads reads the same but for when.
    current.disabledAt === fresh.disabledAt
  ) {
    return current;
  }
  const { status, consecutiveFailures, disabledReason, disabledAt } = fresh;
  return { ...current, status, consecutiveFailures, disabledReason, disabledAt };
}
