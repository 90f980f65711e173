/**
 * What a disable or an enable left to later writes (park-batch.ts), for the SQLite store: parked or
 * resumed after its commit a batch per write, the event loop turning between two, so accepts and
 * attempt records queued meanwhile commit first. Not awaited by the disable's or enable's caller.
 */
import type { DatabaseSync } from 'node:sqlite';
import {
  type LaterBatches,
  type LaterLoop,
  type LaterWriteReport,
  type ParkRest,
  parkBatch,
  ResumeLoops,
  type ResumeRest,
  retryLaterWrites,
} from '../park-batch.ts';
import { parkRestSqlite, resumeRestSqlite, strandedParkedSqlite } from './endpoint-writes.ts';

/** The store's write (sqlite-store.ts #write): a group-commit job. */
type Write = (fn: () => number, options: { durable?: boolean; wakes?: boolean }) => Promise<number>;

export class LaterBatchesSqlite {
  readonly #db: DatabaseSync;
  readonly #write: Write;
  readonly #closed: () => boolean;
  readonly #report: LaterWriteReport | undefined;
  /** The enable whose parked deliveries are being resumed, by endpoint. */
  readonly #resuming = new ResumeLoops();

  constructor(db: DatabaseSync, write: Write, closed: () => boolean, report?: LaterWriteReport) {
    this.#db = db;
    this.#write = write;
    this.#closed = closed;
    this.#report = report;
  }

  /** Each, parked or resumed as its kind says. */
  start(later: LaterBatches[]): void {
    for (const rest of later) {
      if ('disabledAt' in rest) this.park([rest]);
      else void this.resume(rest);
    }
  }

  /**
   * Parks what disables left. Stops when the endpoint is no longer disabled by that disable, when
   * none are left, or on close; what is left pending then is parked by the dispatcher when it
   * claims it (dispatcher.ts).
   */
  park(rests: ParkRest[]): void {
    for (const rest of rests) {
      const loop: LaterLoop = { step: 'park', projectId: rest.projectId, endpointId: rest.endpointId };
      void this.#inBatches(loop, (limit) => parkRestSqlite(this.#db, rest, limit));
    }
  }

  /**
   * Resumes what an enable left, the dispatcher woken after each write. Stops when the endpoint is
   * no longer active, when none are left, on close, or when an enable anew of the endpoint in this
   * process takes over.
   */
  resume(rest: ResumeRest): Promise<void> {
    const loop: LaterLoop = { step: 'resume', projectId: rest.projectId, endpointId: rest.endpointId };
    return this.#resuming.run(rest, (current) =>
      this.#inBatches(loop, (limit) => (current() ? resumeRestSqlite(this.#db, rest, limit) : 0), {
        wakes: true,
      }),
    );
  }

  /**
   * Store.resumeStrandedParked: parked deliveries of active endpoints (a resume cut short by a stop)
   * resumed as an enable's later writes do it. Returns how many endpoints had some.
   */
  async resumeStranded(now: number): Promise<number> {
    const stranded = strandedParkedSqlite(this.#db);
    // An enable in this process resuming them already: left to it.
    await this.#resuming.sweep(
      stranded,
      now,
      (rest) => this.resume(rest),
      () => this.#closed(),
    );
    return stranded.length;
  }

  /**
   * `batch` in writes of its own until it does fewer than a batch, the event loop turning between
   * two. A write that fails is tried again after a pause (laterRetry) until the store closes: a
   * file gone for good leaves it to the dispatcher (parking) or the next start's sweep (resuming).
   * The loop's first failure, and the write that goes through after, are reported (`report`).
   */
  #inBatches(
    loop: LaterLoop,
    batch: (limit: number) => number,
    options: { wakes?: boolean } = {},
  ): Promise<void> {
    return retryLaterWrites(
      loop,
      async (through) => {
        for (;;) {
          if (this.#closed()) return;
          const limit = parkBatch.rows;
          const n = await this.#write(() => batch(limit), { durable: false, ...options });
          through();
          if (n < limit) return;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      },
      {
        closed: () => this.#closed(),
        pause: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref()),
        report: this.#report,
      },
    );
  }
}
