import type { RecoverResult } from './store-types.ts';

/**
 * Store.recoverDeliveries works in batches of at most `rows` deliveries, each its own short write
 * transaction, other writers and the event loop getting their turn between two: one statement over
 * 49,584 failed deliveries held SQLite's write lock for 3.3 s, stalling every accept meanwhile.
 * `requestMs` bounds one request, as replay-batch.ts does: past it, a recover stops after its batch
 * and answers where to go on (nextSince). Without it a long range ran on for as long as it took
 * (100,000 failed deliveries: 2.6 s on SQLite, 10.5 s on PostgreSQL under load), and past 60 s the
 * API closed the silent connection (its connection timeout) while the recover went on, so the
 * caller got no answer. An object, so a test can make batches small and requests short.
 */
export const recoverBatch = { rows: 1_000, requestMs: 20_000 };

/**
 * Where a recover goes on: after this delivery in (created_at, id) order, the order of index
 * deliveries_failed, which holds the failed deliveries alone. A delivery recovered by an earlier
 * batch that fails again meanwhile is behind the cursor: never recovered twice in one request.
 */
export interface RecoverCursor {
  createdAt: number;
  id: string;
}

/** What one batch did (both stores' batch functions answer this). */
export interface RecoverBatchDone {
  recovered: number;
  /** Where the next batch starts; null when the range is done (or the endpoint is gone). */
  next: RecoverCursor | null;
  /**
   * The endpoint was disabled (after the caller found it active): none recovered, the recover stops
   * here. Recovered, they were pending on a disabled endpoint, left for the claims to park.
   */
  disabled?: true;
}

/**
 * Store.recoverDeliveries from its batches: runs `batch` from the start of the range until the range
 * is done, the request's time is up, or a batch finds the endpoint disabled. The event loop turns between two batches: writes queued
 * meanwhile go first.
 */
export async function recoverInBatches(
  since: number,
  batch: (from: RecoverCursor) => Promise<RecoverBatchDone>,
): Promise<RecoverResult> {
  let recovered = 0;
  const deadline = performance.now() + recoverBatch.requestMs;
  // Before every delivery created at or after `since`.
  let from: RecoverCursor | null = { createdAt: since, id: '' };
  while (from) {
    const done = await batch(from);
    recovered += done.recovered;
    // Where a recover goes on once the endpoint is enabled again: this batch's start.
    if (done.disabled) return { recovered, nextSince: from.createdAt };
    from = done.next;
    // Out of time: a recover from the last delivery looked at goes on. Only once past `since`, so
    // that every request moves on.
    if (from && from.createdAt > since && performance.now() >= deadline) {
      return { recovered, nextSince: from.createdAt };
    }
    if (from) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { recovered, nextSince: null };
}
