import type { DatabaseSync } from 'node:sqlite';
import { writesSucceeded } from '../store-unavailable.ts';

interface Job {
  run: () => unknown;
  /** Must survive power loss before its caller hears back (accepted events). */
  durable: boolean;
  /** Makes deliveries due now: the dispatcher is woken after the commit. */
  wakes: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** busy_timeout of Herald's connections: how long a blocking BEGIN IMMEDIATE waits for the lock. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * BEGIN IMMEDIATE without waiting: false when another connection (the other thread, or a process)
 * holds the write lock. SQLite's own busy handler would block the whole thread in sleeps of 1, 2,
 * 5, 10… ms; a caller that gets false can do other work (send webhooks) and try again shortly.
 */
export function tryBeginImmediate(db: DatabaseSync): boolean {
  db.exec('PRAGMA busy_timeout = 0');
  try {
    db.exec('BEGIN IMMEDIATE');
    return true;
  } catch (error) {
    if ((error as { errcode?: number }).errcode === SQLITE_BUSY) return false;
    throw error;
  } finally {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}
const SQLITE_BUSY = 5;
/** A scheduled flush that finds the lock taken tries again this soon... */
const RETRY_MS = 1;
/** ...and waits for the lock (blocking) once it has been put off this long, so it cannot starve. */
const MAX_DEFER_MS = 25;

/**
 * Gathers writes issued in the same tick (or while a flush runs) into one transaction, so the
 * durable commit (synchronous=FULL) is paid once per batch, not once per event. Each job runs in
 * its own savepoint: one failing job rolls back alone and rejects only its caller.
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #afterCommit: () => void;
  readonly #committed: () => void;
  #queue: Job[] = [];
  #scheduled = false;
  /** When the first flush of the queued jobs found the lock taken (0: not deferred). */
  #deferredSince = 0;

  /** `afterCommit`: a commit made deliveries due; `committed`: after every commit (checkpoint-after-commit.ts). */
  constructor(db: DatabaseSync, afterCommit: () => void, committed: () => void = () => {}) {
    this.#db = db;
    this.#afterCommit = afterCommit;
    this.#committed = committed;
  }

  /** Runs `run` inside the next group transaction; resolves after that transaction commits. */
  submit<T>(run: () => T, options: { durable: boolean; wakes?: boolean } = { durable: true }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        run,
        durable: options.durable,
        wakes: options.wakes ?? true,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush({ wait: false }));
      }
    });
  }

  /**
   * Writes everything queued now (also called on close). `quiet`: the caller is the claim, about to
   * look for due work itself, so the wake-up after the commit would only make it look twice.
   */
  flush(options: { quiet?: boolean; wait?: boolean } = {}): void {
    this.#scheduled = false;
    const jobs = this.#queue;
    if (jobs.length === 0) return;
    const wait =
      (options.wait ?? true) ||
      (this.#deferredSince > 0 && performance.now() - this.#deferredSince > MAX_DEFER_MS);
    this.#queue = [];
    const results: { job: Job; ok: boolean; value: unknown }[] = [];
    try {
      // fsync only batches that hold something a caller was promised is durable; bookkeeping
      // (attempt records, releases) rides along without one: losing it to a power cut only means a
      // redelivery, which at-least-once allows.
      this.#db.exec(`PRAGMA synchronous = ${jobs.some((j) => j.durable) ? 'FULL' : 'NORMAL'}`);
      if (wait) this.#db.exec('BEGIN IMMEDIATE');
      else if (!tryBeginImmediate(this.#db)) {
        // Another connection is writing: keep the jobs (more will join them) and come back.
        this.#queue = jobs.concat(this.#queue);
        this.#deferredSince ||= performance.now();
        this.#scheduled = true;
        setTimeout(() => this.flush({ wait: false }), RETRY_MS);
        return;
      }
      this.#deferredSince = 0;
      for (const job of jobs) {
        this.#db.exec('SAVEPOINT job');
        try {
          const value = job.run();
          this.#db.exec('RELEASE job');
          results.push({ job, ok: true, value });
        } catch (error) {
          // A full disk, an I/O error or an out-of-memory makes SQLite roll the whole transaction
          // back: the jobs before this one are undone too, and all fail with this error.
          if (!this.#db.isTransaction) throw error;
          this.#db.exec('ROLLBACK TO job');
          this.#db.exec('RELEASE job');
          results.push({ job, ok: false, value: error });
        }
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // the transaction may not have started
      }
      for (const job of jobs) job.reject(error);
      return;
    }
    for (const r of results) (r.ok ? r.job.resolve : r.job.reject)(r.value);
    if (results.some((r) => r.ok)) writesSucceeded(); // a line after a full disk (store-unavailable.ts)
    this.#committed();
    if (!options.quiet && jobs.some((j) => j.wakes)) this.#afterCommit();
  }
}
