/**
 * Whether the SQLite file this process opened is still the one at its path. Deleting the data
 * directory (or replacing the file) under a running server leaves it writing to an unlinked file:
 * every write still succeeds, every event is still answered 202, and all of it is gone at the next
 * start, which makes a new empty database without a word. So writes and /readyz check the path
 * (a stat, at most once per CHECK_EVERY_MS) and fail with DatabaseFileGoneError from the first
 * check that finds it gone or replaced: the API answers 503, readiness turns false, and nothing
 * more is accepted that a restart would lose. It does not come back: restart the process.
 */
import { statSync } from 'node:fs';

/** How often at most the path is looked at again. */
export const CHECK_EVERY_MS = 1_000;

export class DatabaseFileGoneError extends Error {
  constructor(path: string, what: string) {
    super(
      `the database file ${path} ${what} since this process opened it: nothing more is stored (it would be lost at the next start); restore the file, then restart the process`,
    );
    this.name = 'DatabaseFileGoneError';
  }
}

export function isDatabaseFileGone(error: unknown): error is DatabaseFileGoneError {
  return error instanceof DatabaseFileGoneError;
}

export interface DatabaseFileWatch {
  /** Throws DatabaseFileGoneError once the file is gone or replaced (looked at most every CHECK_EVERY_MS). */
  check(now?: number): void;
}

/** Watches `path` (a file already open); `null` paths (in-memory databases) are never gone. */
export function watchDatabaseFile(path: string | null): DatabaseFileWatch {
  if (path === null) return { check() {} };
  const identity = (): { dev: number; ino: number } | null => {
    try {
      const s = statSync(path);
      return { dev: s.dev, ino: s.ino };
    } catch {
      return null;
    }
  };
  const opened = identity();
  let gone: DatabaseFileGoneError | null = null;
  let checkedAt = Number.NEGATIVE_INFINITY;
  return {
    check(now = Date.now()) {
      if (gone) throw gone;
      if (opened === null || now - checkedAt < CHECK_EVERY_MS) return;
      checkedAt = now;
      const current = identity();
      if (current === null) gone = new DatabaseFileGoneError(path, 'was deleted');
      else if (current.dev !== opened.dev || current.ino !== opened.ino)
        gone = new DatabaseFileGoneError(path, 'was replaced by another file');
      if (gone) throw gone;
    },
  };
}
