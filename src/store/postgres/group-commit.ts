import type { Pool, PoolClient } from 'pg';
import {
  isStoreBusy,
  isStoreReadOnly,
  isStoreUnreachable,
  StoreQueueWaitError,
  writesSucceeded,
} from '../store-unavailable.ts';
import { BEGIN, committed, connectWritable, sawReadOnly } from './pool.ts';

/**
 * Runs a batch of jobs inside an open transaction; returns one result per job, in order (DEFERRED:
 * not written, for the next batch).
 */
export type BatchRunner<J, R> = (client: PoolClient, jobs: J[]) => Promise<(R | typeof DEFERRED)[]>;

interface Queued<J, R> {
  job: J;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
  /** Its place in submission order (drain). */
  seq: number;
  /** When it is given up if no transaction has taken it yet (submit's waitMs), or null. */
  deadline: number | null;
  waitMs: number | undefined;
  timer: NodeJS.Timeout | null;
  /** Given up (its caller was answered): left out when the queue is next taken. */
  gone: boolean;
}

/**
 * What a batch runner returns for a job it left for the next transaction (a group's accepts past
 * its deliveries: accept-batch.ts): the job goes back to the head of the queue, ahead of the jobs
 * that came after it, and is written by the next batch. A runner never defers the first job of its
 * batch, so every batch writes at least one.
 */
export const DEFERRED: unique symbol = Symbol('deferred to the next group transaction');

/**
 * Thrown by a batch runner for jobs refused on their own input (StoreTooManyDeliveriesError)
 * before the batch wrote anything of theirs: each of their callers gets its error, and the other
 * jobs are written again together, in a new transaction, without them (not one by one: a refused
 * request must not cost the others of its group their shared commit).
 */
export class JobsRefused<J> extends Error {
  readonly refused: ReadonlyMap<J, Error>;
  constructor(refused: ReadonlyMap<J, Error>) {
    super(`${refused.size} job(s) of the batch refused`);
    this.name = 'JobsRefused';
    this.refused = refused;
  }
}

/**
 * Group commit for PostgreSQL: every job submitted while no batch is being written (one tick), or
 * while one is, goes into the next single transaction, so a burst of N calls costs one commit, not
 * N (the runner may leave some for the transaction after: DEFERRED). The runner writes the whole
 * batch with multi-row statements. When a batch fails, each of its jobs is retried alone, so one
 * bad job rejects only its own caller; unless the database cannot be reached, which fails the
 * whole batch at once, or is busy (a lock timeout, a deadlock), which fails its bounded jobs at once.
 */
export class GroupCommit<J, R> {
  readonly #pool: Pool;
  readonly #run: BatchRunner<J, R>;
  readonly #afterCommit: (jobs: J[]) => void;
  #queue: Queued<J, R>[] = [];
  #scheduled = false;
  #inFlight: Promise<void> | null = null;
  /** Jobs submitted so far, and the first (oldest) of the batch being written: drain() waits by them. */
  #submitted = 0;
  #inFlightFirst = 0;
  /** Transactions committed so far (tests check that a burst shares one). */
  commits = 0;

  constructor(pool: Pool, run: BatchRunner<J, R>, afterCommit: (jobs: J[]) => void) {
    this.#pool = pool;
    this.#run = run;
    this.#afterCommit = afterCommit;
  }

  /**
   * Queues `job` for the next group transaction; resolves once that transaction has committed.
   * With `waitMs`, a job still in the queue that long after its submission (the batches before it
   * slow: a lock held elsewhere, a long queue under load) leaves it and rejects with
   * StoreQueueWaitError, nothing of it written; one a transaction has taken waits for it (a job
   * DEFERRED back to the queue counts from its submission still).
   */
  submit(job: J, waitMs?: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const deadline = waitMs === undefined ? null : Date.now() + waitMs;
      const queued: Queued<J, R> = {
        job,
        resolve,
        reject,
        seq: ++this.#submitted,
        deadline,
        waitMs,
        timer: null,
        gone: false,
      };
      this.#queue.push(queued);
      this.#arm(queued);
      this.#schedule();
    });
  }

  /** Starts the wait of a job that went (back) into the queue. */
  #arm(q: Queued<J, R>): void {
    if (q.deadline === null) return;
    q.timer = setTimeout(() => this.#giveUp(q), Math.max(0, q.deadline - Date.now()));
    q.timer.unref();
  }

  /**
   * Its timer fired, so it is still queued (taking the queue clears the timers). Marked rather
   * than spliced out: thousands of small accepts giving up at once would each search the queue.
   */
  #giveUp(q: Queued<J, R>): void {
    q.timer = null;
    q.gone = true;
    q.reject(new StoreQueueWaitError(q.waitMs ?? 0));
  }

  /**
   * Resolves once everything submitted before the call has been written (or has failed), jobs a
   * batch deferred included. Calls submitted later are not waited for, so a steady stream of
   * writes cannot starve the caller.
   */
  async drain(): Promise<void> {
    const last = this.#submitted;
    // The queue is in submission order (deferred jobs go back to its head, older than the rest).
    const waiting = () =>
      (this.#inFlight !== null && this.#inFlightFirst <= last) || (this.#queue[0]?.seq ?? last + 1) <= last;
    while (waiting()) {
      if (this.#inFlight) await this.#inFlight;
      else await this.#flush();
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#inFlight) void this.#flush();
    });
  }

  #flush(): Promise<void> {
    const batch: Queued<J, R>[] = [];
    const now = Date.now();
    for (const q of this.#queue) {
      if (q.gone) continue;
      if (q.timer) clearTimeout(q.timer);
      q.timer = null;
      // Past its bound, its timer not run yet (a job DEFERRED back late, a busy event loop).
      if (q.deadline !== null && q.deadline <= now) this.#giveUp(q);
      else batch.push(q);
    }
    this.#queue = [];
    this.#inFlightFirst = batch[0]?.seq ?? 0;
    const done = this.#write(batch).finally(() => {
      this.#inFlight = null;
      // Calls that arrived while this batch was being written form the next one.
      if (this.#queue.length > 0) this.#schedule();
    });
    this.#inFlight = done;
    return done;
  }

  async #write(batch: Queued<J, R>[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      const results = await this.#transaction(batch.map((q) => q.job));
      const deferred: Queued<J, R>[] = [];
      for (const [i, q] of batch.entries()) {
        if (results[i] === DEFERRED) deferred.push(q);
        else q.resolve(results[i] as R);
      }
      this.#queue.unshift(...deferred);
      for (const q of deferred) this.#arm(q);
      return;
    } catch (error) {
      if (error instanceof JobsRefused) {
        const rest = batch.filter((q) => {
          const refusal = (error as JobsRefused<J>).refused.get(q.job);
          if (refusal) q.reject(refusal);
          return !refusal;
        });
        if (rest.length < batch.length) return this.#write(rest);
      }
      // Busy (a lock wait past lock_timeout, a deadlock, a statement cancelled: not the fault of
      // one job's input): the jobs whose callers bound their wait (accepts: submit's waitMs) are
      // told so at once (503 with Retry-After, nothing written), as each alone would wait out the
      // lock again, one after another: 50 accepts behind a lock held elsewhere answered the last
      // after 51 lock timeouts (13 min at 15 s), far past the API's 60 s inactivity close. The
      // others (attempt records, releases) are written again without them.
      if (isStoreBusy(error) && batch.some((q) => q.deadline !== null)) {
        const rest = batch.filter((q) => {
          if (q.deadline !== null) q.reject(error);
          return q.deadline === null;
        });
        return this.#write(rest);
      }
      // One job alone, or a database out of reach (each job alone would fail the same way, and
      // multiply the connection attempts of an outage by the batch's size): the batch's answer.
      if (batch.length === 1 || isStoreUnreachable(error)) {
        for (const q of batch) q.reject(error);
        return;
      }
    }
    // The shared transaction rolled back: write each job alone to find the one that failed.
    for (const q of batch) {
      try {
        const [result] = await this.#transaction([q.job]);
        q.resolve(result as R);
      } catch (error) {
        q.reject((error instanceof JobsRefused && error.refused.get(q.job)) || error);
      }
    }
  }

  async #transaction(jobs: J[]): Promise<(R | typeof DEFERRED)[]> {
    const client = await connectWritable(this.#pool);
    let broken = false;
    try {
      await client.query(BEGIN);
      try {
        const results = await this.#run(client, jobs);
        await client.query('COMMIT');
        await committed(this.#pool, client); // pool.ts says why
        this.commits++;
        this.#afterCommit(jobs.filter((_, i) => results[i] !== DEFERRED));
        writesSucceeded(); // a line after a full disk (store-unavailable.ts)
        return results;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } catch (error) {
      if (isConnectionError(error)) broken = true;
      if (isStoreReadOnly(error)) {
        broken = true;
        sawReadOnly(this.#pool); // pool.ts says why
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/** Errors after which a pooled connection must be thrown away rather than reused. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  // Class 08 (connection exception), 57P01..03 (admin shutdown, crash shutdown, cannot connect now).
  if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) return true;
  if (code === 'ETIMEDOUT') return true; // a query past its timeout: pool.ts closed the connection
  return /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE|not queryable/i.test(error.message);
}
