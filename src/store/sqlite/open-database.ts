/** Opens the SQLite store's database file with the settings every connection of it runs with. */
import { DatabaseSync } from 'node:sqlite';
import { BUSY_TIMEOUT_MS } from './group-commit.ts';

/**
 * The size the WAL file is cut back to once a checkpoint has copied it all back (`journal_size_limit`).
 * Without it the file stays as large as it ever grew (103 MB after a churn run, to the next clean
 * shutdown). 64 MiB is above what normal operation fills between checkpoints (the dispatcher's
 * connection checkpoints at 10,000 pages, ~40 MiB), so the file is not cut and regrown each time.
 */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** `checkpointPages`: SqliteStoreOptions.checkpointPages (`wal_autocheckpoint`); SQLite's default when absent. */
export function openDatabaseSqlite(
  path: string,
  checkpointPages: number | undefined,
  walSizeLimitBytes = WAL_SIZE_LIMIT_BYTES,
): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA journal_size_limit = ${Math.floor(walSizeLimitBytes)}`);
  if (checkpointPages !== undefined) {
    db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(0, Math.floor(checkpointPages))}`);
  }
  // NORMAL by default (no fsync per commit in WAL mode); group commits that carry accepted events
  // switch to FULL, so an acknowledged event survives power loss (see group-commit.ts).
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.exec('PRAGMA foreign_keys = ON');
  // Statement and savepoint journals (every group-commit job runs in a savepoint; a multi-row
  // UPDATE keeps one), sorts and temporary indexes stay in memory: by default a journal past
  // 64 KiB spills to a new file in the temp directory, and a process out of file descriptors then
  // fails writes with "unable to open database file" although its database is open.
  db.exec('PRAGMA temp_store = MEMORY');
  return db;
}
