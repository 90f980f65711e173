import type { DatabaseSync } from 'node:sqlite';
import { GROUP_DELIVERIES } from '../accept-group.ts';
import { StoreQueueWaitError, writesSucceeded } from '../store-unavailable.ts';
import type { WriteTurns } from './write-turns.ts';

interface Job {
  run: () => unknown;
  /** Must survive power loss before its caller hears back (accepted events). */
  durable: boolean;
  /** Makes deliveries due now: the dispatcher is woken after the commit. */
  wakes: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** The deliveries an accept may create, read when a group is formed (null: not an accept). */
  size: (() => number) | null;
  /** When it is given up if no transaction has taken it yet (submit's waitMs), or null. */
  deadline: number | null;
  waitMs: number;
}

export interface SubmitOptions {
  durable: boolean;
  wakes?: boolean;
  /** An accept: the deliveries it may create (GROUP_DELIVERIES bounds a group's). */
  size?: () => number;
  /**
   * Given up when no transaction has taken it this long after the call: it rejects with
   * StoreQueueWaitError, nothing of it written (accepts; records and releases wait however long).
   */
  waitMs?: number;
}

/** busy_timeout of Herald's connections: how long a blocking BEGIN IMMEDIATE waits for the lock. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * BEGIN IMMEDIATE without waiting: false when another connection (the other thread, or a process)
 * holds the write lock. SQLite's own busy handler would block the whole thread in sleeps of 1, 2,
 * 5, 10… ms; a caller that gets false can do other work (send webhooks) and try again shortly.
 */
export function tryBeginImmediate(db: DatabaseSync): boolean {
  try {
    beginNow(db);
    return true;
  } catch (error) {
    if ((error as { errcode?: number }).errcode === SQLITE_BUSY) return false;
    throw error;
  }
}

/** BEGIN IMMEDIATE without waiting, throwing SQLite's own error ('database is locked') when refused. */
function beginNow(db: DatabaseSync): void {
  db.exec('PRAGMA busy_timeout = 0');
  try {
    db.exec('BEGIN IMMEDIATE');
  } finally {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}

/**
 * BEGIN IMMEDIATE, waiting for the lock up to BUSY_TIMEOUT_MS as SQLite's busy handler would, but
 * with this connection's name down for its turn (write-turns.ts), and trying again as soon as
 * another connection of the process ends a transaction (or every POLL_MS, for a writer of another
 * process): SQLite's handler sleeps up to 100 ms between two tries, and the other connection would
 * take the lock back meanwhile. Past the timeout, SQLite's own busy error, as before.
 */
function beginWaiting(db: DatabaseSync, turns: WriteTurns): void {
  const deadline = performance.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    const seen = turns.ends;
    const left = deadline - performance.now();
    if (left <= 0) {
      turns.done();
      beginNow(db);
      return;
    }
    if (tryBeginImmediate(db)) return;
    turns.waitFor();
    turns.waitForEnd(seen, Math.min(POLL_MS, left));
  }
}
/** How often beginWaiting tries when no transaction of this process ends (another process holds the lock). */
const POLL_MS = 5;
const SQLITE_BUSY = 5;
/** A scheduled flush that finds the lock taken tries again this soon... */
const RETRY_MS = 1;
/** ...and waits for the lock (blocking) once it has been put off this long, so it cannot starve. */
const MAX_DEFER_MS = 25;

/**
 * Gathers writes issued in the same tick (or while a flush runs) into one transaction, so the
 * durable commit (synchronous=FULL) is paid once per batch, not once per event. Each job runs in
 * its own savepoint: one failing job rolls back alone and rejects only its caller.
 *
 * A group takes its accepts (jobs with a size) in order up to `groupDeliveries` new deliveries,
 * the first whatever its size; the others wait for the next group, the event loop turning between
 * two. A group is written synchronously on the thread: without the bound, concurrent large batches
 * (1,000 events to 100 endpoints, 100,000 deliveries each) queued while one was written made one
 * group of 800,000 that held the API's thread 20 s, every request of every project waiting; its
 * clients' requests took up to 99 s, and some got 408 or a reset connection. An accept no group has
 * taken within its waitMs is given up (503 HERALD_ERR_BUSY, nothing stored), as on PostgreSQL.
 *
 * With `turns` (write-turns.ts: the process's other connections to the file), a group refused the
 * lock puts its connection's name down, and the others' next groups wait until it has had it.
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #afterCommit: () => void;
  readonly #committed: () => void;
  #queue: Job[] = [];
  #scheduled = false;
  /** When the first flush of the queued jobs found the lock taken (0: not deferred). */
  #deferredSince = 0;
  readonly #groupDeliveries: number;
  /** This connection's turns at the write lock with the process's others (write-turns.ts), or null. */
  readonly #turns: WriteTurns | null;

  /** `afterCommit`: a commit made deliveries due; `committed`: after every commit (checkpoint-after-commit.ts). */
  constructor(
    db: DatabaseSync,
    afterCommit: () => void,
    committed: () => void = () => {},
    groupDeliveries = GROUP_DELIVERIES,
    turns: WriteTurns | null = null,
  ) {
    this.#db = db;
    this.#turns = turns;
    this.#groupDeliveries = groupDeliveries;
    this.#afterCommit = afterCommit;
    this.#committed = committed;
  }

  /** Runs `run` inside the next group transaction; resolves after that transaction commits. */
  submit<T>(run: () => T, options: SubmitOptions = { durable: true }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        run,
        durable: options.durable,
        wakes: options.wakes ?? true,
        resolve: resolve as (v: unknown) => void,
        reject,
        size: options.size ?? null,
        deadline: options.waitMs === undefined ? null : performance.now() + options.waitMs,
        waitMs: options.waitMs ?? 0,
      });
      this.#schedule();
    });
  }

  /** Jobs waiting for a group (close() writes until none is left). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Flushes again in RETRY_MS (the lock taken, or another connection's turn). */
  #retry(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => this.flush({ wait: false }), RETRY_MS);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush({ wait: false }));
  }

  /**
   * The jobs of the next group, in order: every one but the accepts past the group's deliveries
   * (the first accept always), which stay for the next. Jobs past their waitMs are given up here.
   */
  #group(queued: Job[]): { jobs: Job[]; later: Job[] } {
    const now = performance.now();
    const jobs: Job[] = [];
    const later: Job[] = [];
    let deliveries = 0;
    let accepts = 0;
    let first: Job | null = null;
    for (const job of queued) {
      if (job.deadline !== null && job.deadline <= now) {
        job.reject(new StoreQueueWaitError(job.waitMs));
        continue;
      }
      if (job.size === null) {
        jobs.push(job);
        continue;
      }
      // The first is taken whatever its size: read only once a second one asks for room, so a
      // lone accept (the ordinary case) costs no read. Counted before it runs, as if none of its
      // idempotency keys repeated (at most what it creates).
      if (accepts === 0) {
        jobs.push(job);
        accepts++;
        first = job;
        continue;
      }
      if (first) {
        deliveries = sizeOf(first);
        first = null;
      }
      const size = later.length > 0 ? 0 : sizeOf(job);
      if (later.length > 0 || deliveries + size > this.#groupDeliveries) later.push(job);
      else {
        jobs.push(job);
        accepts++;
        deliveries += size;
      }
    }
    return { jobs, later };
  }

  /**
   * Writes everything queued now (also called on close). `quiet`: the caller is the claim, about to
   * look for due work itself, so the wake-up after the commit would only make it look twice.
   */
  flush(options: { quiet?: boolean; wait?: boolean } = {}): void {
    this.#scheduled = false;
    if (this.#queue.length === 0) {
      this.#turns?.done();
      return;
    }
    const asked = options.wait ?? true;
    // Another connection of the process was refused the lock and has not had it since: it goes
    // first, this connection's jobs waiting a little (write-turns.ts). Not for a close's flush.
    if (!asked && this.#turns?.yields()) {
      this.#retry();
      return;
    }
    const wait = asked || (this.#deferredSince > 0 && performance.now() - this.#deferredSince > MAX_DEFER_MS);
    const { jobs, later } = this.#group(this.#queue);
    // The accepts left for the next group go first in it, ahead of later calls; the event loop turns before.
    this.#queue = later;
    if (later.length > 0) this.#schedule();
    if (jobs.length === 0) {
      if (later.length === 0) this.#turns?.done(); // all given up: nothing to wait for
      return;
    }
    const results: { job: Job; ok: boolean; value: unknown }[] = [];
    try {
      // fsync only batches that hold something a caller was promised is durable; bookkeeping
      // (attempt records, releases) rides along without one: losing it to a power cut only means a
      // redelivery, which at-least-once allows.
      this.#db.exec(`PRAGMA synchronous = ${jobs.some((j) => j.durable) ? 'FULL' : 'NORMAL'}`);
      if (wait) {
        if (this.#turns) beginWaiting(this.#db, this.#turns);
        else this.#db.exec('BEGIN IMMEDIATE');
      } else if (!tryBeginImmediate(this.#db)) {
        // Another connection is writing: keep the jobs (more will join them), put this
        // connection's name down for the next turn, and come back.
        this.#turns?.waitFor();
        this.#queue = jobs.concat(this.#queue);
        this.#deferredSince ||= performance.now();
        this.#retry();
        return;
      }
      this.#turns?.done();
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
      this.#turns?.done();
      this.#turns?.ended();
      for (const job of jobs) job.reject(error);
      return;
    }
    this.#turns?.ended();
    for (const r of results) (r.ok ? r.job.resolve : r.job.reject)(r.value);
    if (results.some((r) => r.ok)) writesSucceeded(); // a line after a full disk (store-unavailable.ts)
    this.#committed();
    if (!options.quiet && jobs.some((j) => j.wakes)) this.#afterCommit();
  }
}

/** An accept's size; one that cannot be read counts none (its job fails on its own when it runs). */
function sizeOf(job: Job): number {
  try {
    return job.size?.() ?? 0;
  } catch {
    return 0;
  }
}
