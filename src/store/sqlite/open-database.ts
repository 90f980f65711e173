/** Opens the SQLite store's database file with the settings every connection of it runs with. */
import { DatabaseSync } from 'node:sqlite';
import { BUSY_TIMEOUT_MS } from './group-commit.ts';

/** `checkpointPages`: SqliteStoreOptions.checkpointPages (`wal_autocheckpoint`); SQLite's default when absent. */
export function openDatabaseSqlite(path: string, checkpointPages: number | undefined): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  if (checkpointPages !== undefined) {
    db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(0, Math.floor(checkpointPages))}`);
  }
  // NORMAL by default (no fsync per commit in WAL mode); group commits that carry accepted events
  // switch to FULL, so an acknowledged event survives power loss (see group-commit.ts).
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.exec('PRAGMA foreign_keys = ON');
  return db;
}
