/**
 * One serving process per SQLite file. A process that serves a SQLite database takes back, at
 * start, every claim in it (the last process crashed: its leases would otherwise wait out their
 * time). A second process started on the same file took the first one's claims in flight: their
 * deliveries were sent twice, and a second process with other settings (HERALD_ALLOW_NETWORKS
 * left out) recorded them as blocked and disabled working endpoints, without a word (a tester).
 *
 * So `herald serve` holds a lock beside the database for as long as it runs: `<file>.lock`, an empty
 * SQLite database of its own in which it keeps an exclusive transaction open, so SQLite holds the
 * file's lock until the connection closes. The kernel drops it when the process ends, however it ends: a start after
 * a crash or a kill -9 finds it free at once. A start that finds it held fails, naming the file. It
 * is a POSIX lock, as SQLite's own: good on one machine's file systems, as SQLite is, not over NFS.
 * (A lock on the database file itself would not do: its other connections are this process's own.)
 */
import { accessSync, closeSync, constants, openSync, realpathSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

export interface ServingLock {
  /** Gives the lock up (the store is closed; another process may serve the file). */
  release(): void;
}

/** SQLite's result code when another connection holds the lock (timeout 0: no waiting). */
const SQLITE_BUSY = 5;

export class DatabaseInUseError extends Error {
  constructor(file: string, lockFile: string) {
    super(
      `another Herald process is serving the SQLite database ${file} (it holds ${lockFile}): run exactly one process per SQLite file (stop the other one first), or use PostgreSQL for several processes`,
    );
    this.name = 'DatabaseInUseError';
  }
}

/**
 * Takes the serving lock of the SQLite database `file` (an absolute path to a file that exists; serve
 * takes it before opening and migrating the database: open-store.ts beforeOpen), or throws
 * DatabaseInUseError.
 */
export function takeServingLock(file: string): ServingLock {
  // Beside the file itself, not a symbolic link to it: two paths to one database share one lock.
  const lockFile = `${realpathSync(file)}.lock`;
  try {
    closeSync(openSync(lockFile, 'wx', 0o600)); // the owner's only, as the database (open-store.ts)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotCreate(file, lockFile, error);
  }
  // SQLite opens a file it cannot write read-only, without a word, and a read-only connection's
  // exclusive transaction locks nothing: refused here instead.
  try {
    accessSync(lockFile, constants.R_OK | constants.W_OK);
  } catch (cause) {
    throw new Error(
      `cannot write ${lockFile}, which a serving process holds as its lock on the SQLite database: give this user write access to it (or remove it while no Herald process runs)`,
      { cause },
    );
  }
  const db = new DatabaseSync(lockFile, { timeout: 0 });
  try {
    // An exclusive transaction left open: SQLite holds the file's lock until the connection closes.
    // Nothing is ever written, so no journal is needed (it would sit beside the database meanwhile).
    db.exec('PRAGMA journal_mode = OFF');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { errcode?: number }).errcode === SQLITE_BUSY) throw new DatabaseInUseError(file, lockFile);
    throw error;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}

/**
 * A lock file that cannot be made (a read-only data directory): Node's `EACCES: permission denied,
 * open '….lock'` alone says neither what the file is nor which setting names its directory.
 */
function cannotCreate(file: string, lockFile: string, cause: unknown): Error {
  return new Error(
    `cannot create ${lockFile}, the lock a serving process holds on the SQLite database ${file}: ${(cause as Error)?.message ?? String(cause)}; its directory must be writable by this user (the data directory, HERALD_DATA_DIR or --data-dir, or the sqlite: path of HERALD_DATABASE_URL)`,
    { cause },
  );
}
