import type { ReplayRequest, ReplayResult } from './store-types.ts';

/**
 * Store.replayMissing looks at the project's events in batches of at most `events`, each its own
 * short write transaction, other writers and the event loop getting their turn between two (as
 * recover-batch.ts: one statement over a large range would hold the write lock for seconds).
 * `requestMs` bounds one request: past it, a replay stops after its batch and answers where to go on
 * (nextSince), as when the room runs out. Without it a long range ran on for as long as it took
 * (1,000,000 events that all had a delivery: 18 s on PostgreSQL under load), and past 60 s the API
 * closed the silent connection (its connection timeout) while the replay went on, so the caller
 * got no answer and no nextSince. An object, so a test can make batches small and requests short.
 */
export const replayBatch = { events: 1_000, requestMs: 20_000 };

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
  const deadline = performance.now() + replayBatch.requestMs;
  let from: ReplayCursor | null = replayStart(request.since);
  while (from) {
    const done = await batch(from, request.maxDeliveries - replayed);
    if (!done) return replayed ? { replayed, nextSince: null } : null;
    replayed += done.replayed;
    if (done.leftAt !== null) return { replayed, nextSince: done.leftAt };
    from = done.next;
    // Out of time: a replay from the last event looked at goes on (those looked at again have their
    // delivery and are passed over). Only once past `since`, so that every request moves on.
    if (from && from.createdAt > request.since && performance.now() >= deadline) {
      return { replayed, nextSince: from.createdAt };
    }
    if (from) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { replayed, nextSince: null };
}
