/**
 * A SQLite database's write lock held by another thread, as the API thread's accept commit or the
 * dispatcher thread's records hold it. Held on the test's own thread it could never be let go once
 * the store waits for it blocking (the group commit does after MAX_DEFER_MS of tries, which a
 * loaded machine reaches): the test then failed with 'database is locked'.
 */
import { Worker } from 'node:worker_threads';

export interface WriteLockHolder {
  /** Lets the lock go; resolves with the time (performance.timeOrigin + now) it was held until. */
  release(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Takes the write lock of `file` (BEGIN IMMEDIATE) on a worker thread and resolves once it holds
 * it. It lets go when asked, or after `fallbackMs`, within SQLite's busy timeout (5 s here), so that
 * a write waiting for it blocking gets it and the test fails on its assertions, not on a timeout.
 * `EXCLUSIVE` on a file not in WAL mode also keeps readers out, as a process switching a new file
 * to WAL does for a moment.
 */
export async function holdWriteLock(
  file: string,
  fallbackMs = 3_000,
  begin: 'IMMEDIATE' | 'EXCLUSIVE' = 'IMMEDIATE',
): Promise<WriteLockHolder> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { DatabaseSync } = require('node:sqlite');
     const db = new DatabaseSync(workerData.file);
     db.exec('BEGIN ' + workerData.begin);
     let held = 0;
     const release = () => {
       if (db.isTransaction) {
         held = performance.timeOrigin + performance.now(); // held until here
         db.exec('COMMIT');
       }
       parentPort.postMessage(held);
     };
     const fallback = setTimeout(release, workerData.fallbackMs);
     parentPort.once('message', () => { clearTimeout(fallback); release(); });
     parentPort.postMessage('locked');`,
    { eval: true, workerData: { file, fallbackMs, begin } },
  );
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const locked = await next();
  if (locked !== 'locked') throw new Error(`the lock holder said ${String(locked)}`);
  let released: Promise<number> | null = null;
  return {
    release() {
      released ??= (async () => {
        const answer = next();
        worker.postMessage('release');
        return Number(await answer);
      })();
      return released;
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** Turns of the event loop (setImmediate): each one this thread gets, it was not held meanwhile. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}
