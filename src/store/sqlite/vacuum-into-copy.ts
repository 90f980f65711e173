/**
 * What vacuum-into-thread.ts runs in its worker thread: the `VACUUM INTO` (one synchronous SQLite
 * call), so that the thread that started it stays free to sync the copy as it grows.
 */
import { DatabaseSync } from 'node:sqlite';
import { workerData } from 'node:worker_threads';

const { source, target } = workerData as { source: string; target: string };
// Read-only: the copy never writes the database it reads. The busy timeout covers the moment a
// reader waits while another connection recovers the WAL.
const db = new DatabaseSync(source, { readOnly: true, timeout: 5_000 });
try {
  // VACUUM INTO gives the copy the source's `synchronous` (FULL by default): one fsync of the whole
  // copy at its end. The caller syncs it as it grows instead, and once more at the end.
  db.exec('PRAGMA synchronous = OFF');
  db.prepare('VACUUM INTO ?').run(target);
} finally {
  db.close();
}
