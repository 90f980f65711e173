/**
 * Checkpoints of a connection that would otherwise run them inside its commits (the API thread's).
 * With `wal_autocheckpoint`, the commit that takes the WAL past the threshold copies the whole WAL
 * into the database file and fsyncs it before it returns, so whichever request made that commit
 * waits for it: a 10,000-endpoint fan-out accepted right after another one's deliveries had filled
 * the WAL took 186-253 ms, against 125-149 with no checkpoints at all (bench, session 19). Here the
 * connection's automatic checkpoints are off, and a commit schedules a PASSIVE checkpoint for after
 * its callers have been answered (setImmediate: promise callbacks, the reply included, run first),
 * at most one per `everyMs`: 250 ms keeps the WAL near SQLite's 1,000 pages in a closed loop (one a
 * second measured 0.21× raw against 0.22× for checkpoints in the commits; 250 ms 0.23× both). PASSIVE never waits for other connections: it copies what it can and the next one
 * goes on. The dispatcher thread's connection keeps its own automatic threshold as a backstop
 * (dispatcher-thread.ts).
 */
import type { DatabaseSync } from 'node:sqlite';

/** Shortest time between two checkpoints scheduled by commits. */
export const CHECKPOINT_EVERY_MS = 250;

/** Returns what a commit calls: schedules a checkpoint when the last one is `everyMs` old. */
export function checkpointAfterCommit(
  db: DatabaseSync,
  isClosed: () => boolean,
  everyMs = CHECKPOINT_EVERY_MS,
  now: () => number = () => performance.now(),
): () => void {
  let last = now();
  let scheduled = false;
  return () => {
    if (scheduled || now() - last < everyMs) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      last = now();
      if (isClosed()) return;
      try {
        db.exec('PRAGMA wal_checkpoint(PASSIVE)');
      } catch {
        // Busy or closing: the next commit schedules another.
      }
    });
  };
}
