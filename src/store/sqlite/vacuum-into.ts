/**
 * `VACUUM INTO` a file while another process serves the database: a consistent copy in one read
 * transaction, which in WAL mode does not block the server's writes. What did hold them up was the
 * disk: SQLite writes the copy into the page cache and syncs it all at the end, and on ext4 every
 * fsync the server made meanwhile (each commit of accepted events) waited behind that one: accepts
 * at 200 events/s during the backup of a 1.1 GB database took p95 420-660 ms, max 880 ms. So the
 * copy runs in a worker thread, and this thread syncs it every SYNC_EVERY_BYTES it grows, keeping
 * what is left to write out at any moment small: p95 36-37 ms, max 102 ms (docs/operations.md,
 * Backups).
 */
import { closeSync, fdatasyncSync, fstatSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export const SYNC_EVERY_BYTES = 32 * 1024 * 1024;
const POLL_MS = 20;

/** Copies the database `source` into `target`, an empty file that exists, synced when it resolves. */
export async function vacuumInto(source: string, target: string): Promise<void> {
  const fd = openSync(target, 'r+');
  let synced = 0;
  const syncIfGrown = () => {
    const size = fstatSync(fd).size;
    if (size - synced < SYNC_EVERY_BYTES) return;
    fdatasyncSync(fd);
    synced = size;
  };
  const timer = setInterval(syncIfGrown, POLL_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      const worker = new Worker(new URL('./vacuum-into-thread.ts', import.meta.url), {
        workerData: { source, target },
      });
      worker.once('error', reject);
      worker.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`the copy's thread stopped with exit code ${code}`)),
      );
    });
    fdatasyncSync(fd);
  } finally {
    clearInterval(timer);
    // Only now: closing a descriptor of a file drops every POSIX lock this process holds on it, and
    // SQLite held the copy's until the worker closed it.
    closeSync(fd);
  }
}
