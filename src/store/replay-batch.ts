import type { ReplayRequest, ReplayResult } from './store-types.ts';

/**
 * Store.replayMissing looks at the project's events in batches of at most `events`, each its own
 * short write transaction, other writers and the event loop getting their turn between two (as
 * recover-batch.ts: one statement over a large range would hold the write lock for seconds).
 * An object, so a test can make batches small.
 */
export const replayBatch = { events: 1_000 };

/** Where a replay goes on: after this event in (created_at, id) order (index events_created). */
export interface ReplayCursor {
  createdAt: number;
  id: string;
}

/** Before every event created at or after `since`. */
export const replayStart = (since: number): ReplayCursor => ({ createdAt: since, id: '' });

/** What one batch did (both stores' batch functions answer this). */
export interface ReplayBatch {
  replayed: number;
  /** Where the next batch starts; null when the range is done or the replay stops here. */
  next: ReplayCursor | null;
  /**
   * Where a replay stopped short goes on from: the creation time of the first event left for lack
   * of room when the room ran out, or where this batch starts when the endpoint is no longer active.
   */
  leftAt: number | null;
}

/**
 * Store.replayMissing from its batches: runs `batch` from the start of the range, each with the room
 * left, until the range is done, the room is, or the endpoint is gone (null) or no longer active
 * (which leaves the rest of the range, as the room running out does).
 * The event loop turns between two batches: writes queued meanwhile go first.
 */
export async function replayInBatches(
  request: ReplayRequest,
  batch: (from: ReplayCursor, room: number) => Promise<ReplayBatch | null>,
): Promise<ReplayResult | null> {
  let replayed = 0;
  let from: ReplayCursor | null = replayStart(request.since);
  while (from) {
    const done = await batch(from, request.maxDeliveries - replayed);
    if (!done) return replayed ? { replayed, nextSince: null } : null;
    replayed += done.replayed;
    if (done.leftAt !== null) return { replayed, nextSince: done.leftAt };
    from = done.next;
    if (from) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { replayed, nextSince: null };
}
