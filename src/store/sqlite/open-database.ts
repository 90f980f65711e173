/** Opens the SQLite store's database file with the settings every connection of it runs with. */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { foreignMigrationsTable } from '../foreign-migrations.ts';
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
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    // First: switching a new file to WAL takes its exclusive lock, and another process creating or
    // migrating the same file at the same moment (several `herald migrate` or serve starts) holds
    // it for a while; without a busy timeout yet, this open failed at once, "database is locked".
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Another program's database (its own schema_migrations) is refused before the switch to WAL,
    // which rewrites its header and leaves a log beside it: it is left as that program left it.
    refuseForeignMigrations(db);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA journal_size_limit = ${Math.floor(walSizeLimitBytes)}`);
    if (checkpointPages !== undefined) {
      db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(0, Math.floor(checkpointPages))}`);
    }
    // NORMAL by default (no fsync per commit in WAL mode); group commits that carry accepted events
    // switch to FULL, so an acknowledged event survives power loss (see group-commit.ts).
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    // Statement and savepoint journals (every group-commit job runs in a savepoint; a multi-row
    // UPDATE keeps one), sorts and temporary indexes stay in memory: by default a journal past
    // 64 KiB spills to a new file in the temp directory, and a process out of file descriptors then
    // fails writes with "unable to open database file" although its database is open.
    db.exec('PRAGMA temp_store = MEMORY');
    return db;
  } catch (error) {
    db?.close();
    throw explainFullFileSystem(path, error);
  }
}

/**
 * Throws foreign-migrations.ts's refusal when the file `path` holds a schema_migrations that is not
 * Herald's, on a connection of its own that only reads: before a serving lock is made beside the
 * file (open-store.ts), so that a refused file is left with nothing created beside it. A file that
 * cannot be read so (a WAL-mode database in a read-only directory: no -shm can be made) is left to
 * the open after the lock, which says what is wrong with it as it always has.
 */
export function refuseForeignDatabaseSqlite(path: string): void {
  let columns: { name: string }[];
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    columns = db.prepare('PRAGMA table_info(schema_migrations)').all() as { name: string }[];
  } catch {
    return;
  } finally {
    db?.close();
  }
  if (columns.length === 0) return;
  const foreign = foreignMigrationsTable(columns.map((c) => c.name));
  if (foreign) throw foreign;
}

/** Throws foreign-migrations.ts's refusal when `db` holds a schema_migrations that is not Herald's (reading only). */
function refuseForeignMigrations(db: DatabaseSync): void {
  const columns = db.prepare('PRAGMA table_info(schema_migrations)').all() as { name: string }[];
  if (columns.length === 0) return; // no such table: a new file, or one Herald has not migrated yet
  const foreign = foreignMigrationsTable(columns.map((c) => c.name));
  if (foreign) throw foreign;
}

/** Below this much free space on the database's file system, a failure to open is put down to it. */
const FULL_BELOW_BYTES = 1024 * 1024;

/** What statfs says of a file system (fs.statfsSync's fields that matter here). */
export type FileSystemSpace = Pick<ReturnType<typeof statfsSync>, 'bavail' | 'bsize' | 'ffree'>;

/**
 * An error opening `path` on a file system that is full (less than 1 MiB free to this user, or no
 * free inode) says so, naming the directory and the free bytes: SQLite's own word for it is often
 * "disk I/O error" (the -shm or -wal file could not be grown), which sends an operator looking for a
 * broken disk. The error is returned as it is otherwise, or when statfs itself fails.
 */
export function explainFullFileSystem(
  path: string,
  error: unknown,
  statfs: (dir: string) => FileSystemSpace = statfsSync,
  /** What to do about it, after the file system's name and free space. */
  advice = 'free space there and start again',
): unknown {
  if (path === '' || path === ':memory:' || !(error instanceof Error)) return error;
  const dir = dirname(path);
  let space: FileSystemSpace;
  try {
    space = statfs(dir);
  } catch {
    return error;
  }
  const freeBytes = Number(space.bavail) * Number(space.bsize);
  const noInodes = Number(space.ffree) === 0;
  if (freeBytes >= FULL_BELOW_BYTES && !noInodes) return error;
  const what = noInodes ? 'has no free inodes' : `has ${freeBytes} bytes free`;
  const explained = new Error(
    `${error.message}: the file system holding ${dir} is full (it ${what}); ${advice}`,
    { cause: error },
  );
  // The codes callers classify by (open-store.ts, store-unavailable.ts) stay as they were.
  const { code, errcode, errstr } = error as { code?: unknown; errcode?: unknown; errstr?: unknown };
  Object.assign(explained, { code, errcode, errstr });
  return explained;
}
