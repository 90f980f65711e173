import type { DatabaseSync } from 'node:sqlite';

interface Job {
  run: () => unknown;
  /** Must survive power loss before its caller hears back (accepted events). */
  durable: boolean;
  /** Makes deliveries due now: the dispatcher is woken after the commit. */
  wakes: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers writes issued in the same tick (or while a flush runs) into one transaction, so the
 * durable commit (synchronous=FULL) is paid once per batch, not once per event. Each job runs in
 * its own savepoint: one failing job rolls back alone and rejects only its caller.
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #afterCommit: () => void;
  #queue: Job[] = [];
  #scheduled = false;

  constructor(db: DatabaseSync, afterCommit: () => void) {
    this.#db = db;
    this.#afterCommit = afterCommit;
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
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Writes everything queued now (also called on close). `quiet`: the caller is the claim, about to
   * look for due work itself, so the wake-up after the commit would only make it look twice.
   */
  flush(options: { quiet?: boolean } = {}): void {
    this.#scheduled = false;
    const jobs = this.#queue;
    if (jobs.length === 0) return;
    this.#queue = [];
    const results: { job: Job; ok: boolean; value: unknown }[] = [];
    try {
      // fsync only batches that hold something a caller was promised is durable; bookkeeping
      // (attempt records, releases) rides along without one: losing it to a power cut only means a
      // redelivery, which at-least-once allows.
      this.#db.exec(`PRAGMA synchronous = ${jobs.some((j) => j.durable) ? 'FULL' : 'NORMAL'}`);
      this.#db.exec('BEGIN IMMEDIATE');
      for (const job of jobs) {
        this.#db.exec('SAVEPOINT job');
        try {
          const value = job.run();
          this.#db.exec('RELEASE job');
          results.push({ job, ok: true, value });
        } catch (error) {
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
    if (!options.quiet && jobs.some((j) => j.wakes)) this.#afterCommit();
  }
}
