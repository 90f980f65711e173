/**
 * What a disable or an enable left to later transactions (park-batch.ts), for the PostgreSQL store:
 * the ids read once (a plain read, no lock held), then parked or resumed a batch per transaction,
 * so the endpoint's attempt records and the other writers wait for one batch at most. Not awaited by
 * the disable's or enable's caller.
 */
import type pg from 'pg';
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
import {
  parkedToResumePostgres,
  parkRestPostgres,
  pendingToParkPostgres,
  resumeRestPostgres,
  strandedParkedPostgres,
} from './endpoint-parking.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

export interface LaterBatchesPostgresDeps {
  pool: pg.Pool;
  tx: <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>;
  /** Other processes' dispatchers woken on commit (NOTIFY). */
  notifyOthers: (c: Queryable) => Promise<void>;
  /** This process's dispatcher woken. */
  notifyLocal: () => void;
  closed: () => boolean;
  /** Told of a loop's first failure and of the transaction that goes through after it. */
  report?: LaterWriteReport;
}

export class LaterBatchesPostgres {
  readonly #deps: LaterBatchesPostgresDeps;
  /** Loops under way: close waits for them (each stops after its current batch). */
  readonly #running = new Set<Promise<void>>();
  /** The enable whose parked deliveries are being resumed, by endpoint. */
  readonly #resuming = new ResumeLoops();
  /** Loops waiting to try a failed transaction again: drain (the store's close) ends their wait. */
  readonly #waking = new Set<() => void>();

  constructor(deps: LaterBatchesPostgresDeps) {
    this.#deps = deps;
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
   * none are left, or on close; what is left pending then is parked by the dispatcher that claims
   * it (dispatcher.ts).
   */
  park(rests: ParkRest[]): void {
    for (const rest of rests) {
      const { projectId, endpointId, disabledAt } = rest;
      void this.#inBatches(
        { step: 'park', projectId, endpointId },
        () =>
          pendingToParkPostgres(this.#deps.pool, projectId, endpointId, rest.inFlightAt ?? disabledAt, null),
        async (c, batch) => ((await parkRestPostgres(c, rest, batch)) ? 0 : null),
      );
    }
  }

  /**
   * Resumes what an enable left, the dispatchers woken after each commit. Stops when the endpoint
   * is no longer active, when none are left, on close, or when an enable anew of the endpoint in
   * this process takes over.
   */
  resume(rest: ResumeRest): Promise<void> {
    return this.#resuming.run(rest, (current) =>
      this.#inBatches(
        { step: 'resume', projectId: rest.projectId, endpointId: rest.endpointId },
        () => parkedToResumePostgres(this.#deps.pool, rest.projectId, rest.endpointId, null),
        async (c, batch) => {
          if (!current()) return null;
          const n = await resumeRestPostgres(c, rest, batch);
          if (n) await this.#deps.notifyOthers(c);
          return n;
        },
        () => this.#deps.notifyLocal(),
      ),
    );
  }

  /**
   * Store.resumeStrandedParked: a plain read, then each endpoint's resume as an enable's later
   * transactions do it (endpoint locked first, only while active, only what is still parked):
   * other processes sweeping at the same time resume nothing twice and take the locks in the same
   * order. Returns how many endpoints had some.
   */
  async resumeStranded(now: number): Promise<number> {
    const stranded = await strandedParkedPostgres(this.#deps.pool);
    // An enable in this process resuming them already: left to it.
    await this.#resuming.sweep(
      stranded,
      now,
      (rest) => this.resume(rest),
      () => this.#deps.closed(),
    );
    return stranded.length;
  }

  /** Resolves once every loop under way has stopped (called as the store closes: a loop waiting to try again stops now). */
  async drain(): Promise<void> {
    for (const wake of this.#waking) wake();
    await Promise.all(this.#running);
  }

  /**
   * The ids `read` once, then `batch` on a batch of them per transaction (endpoint-parking.ts) until
   * they are done or it answers null; `after` each commit. A read or a transaction that fails (the
   * database out of reach a moment, a lock timeout) is tried again after a pause (laterRetry), the
   * ids read again, until the store closes. The loop's first failure, and the read or transaction
   * that goes through after, are reported (`report`).
   */
  #inBatches(
    loop: LaterLoop,
    read: () => Promise<string[]>,
    batch: (c: Queryable, ids: string[]) => Promise<number | null>,
    after: () => void = () => {},
  ): Promise<void> {
    const running = retryLaterWrites(
      loop,
      async (through) => {
        const ids = await read();
        if (ids.length === 0) through();
        for (let i = 0; i < ids.length; i += parkBatch.rows) {
          if (this.#deps.closed()) return;
          const done = await this.#deps.tx((c) => batch(c, ids.slice(i, i + parkBatch.rows)));
          through();
          if (done === null) return;
          after();
        }
      },
      { closed: () => this.#deps.closed(), pause: (ms) => this.#pause(ms), report: this.#deps.report },
    ).finally(() => this.#running.delete(running));
    this.#running.add(running);
    return running;
  }

  /** Waits `ms`, or until drain. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waking.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.#waking.add(wake);
    });
  }
}
