/**
 * Store failures the API answers 503 for, because the same call can succeed later: the database
 * is busy, or its disk is full.
 *
 * A store call that failed because the database is busy, not broken: SQLite's write lock stayed
 * taken for longer than the busy timeout, or PostgreSQL gave up on a lock, a serialization or a
 * deadlock. The same call made again shortly is expected to succeed, so the API answers 503 with
 * Retry-After instead of 500.
 */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
/** lock_not_available, serialization_failure, deadlock_detected. */
const POSTGRES_BUSY = new Set(['55P03', '40001', '40P01']);

const SQLITE_FULL = 13;
/** disk_full. */
const POSTGRES_FULL = '53100';

/** The database's disk is full: nothing more can be stored until an operator frees space. */
export function isStoreFull(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { errcode, code } = error as { errcode?: unknown; code?: unknown };
  if (typeof errcode === 'number') return (errcode & 0xff) === SQLITE_FULL;
  return code === POSTGRES_FULL;
}

export function isStoreBusy(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { errcode, code } = error as { errcode?: unknown; code?: unknown };
  if (typeof errcode === 'number') {
    const primary = errcode & 0xff; // extended result codes keep the primary one in the low byte
    return primary === SQLITE_BUSY || primary === SQLITE_LOCKED;
  }
  return typeof code === 'string' && POSTGRES_BUSY.has(code);
}
