/**
 * Attempt records on their way to the store: written in batches (RECORD_FLUSH_COUNT, or within
 * RECORD_FLUSH_MS of the first one queued), one write at a time and in order. It also counts the
 * attempts sent but not yet recorded, which a crash would send again, and the bytes they hold:
 * while it is `full` the dispatcher claims and starts nothing more.
 */
import type { DeliveryStatus } from '../domain/types.ts';
import type { AttemptRecord, Store } from '../store/store.ts';
import {
  isConnectFailure,
  isStoreBusy,
  isStoreFull,
  isStoreIoError,
  isStoreOutOfFiles,
  isStoreOutOfMemory,
  isStoreUnreachable,
} from '../store/store-unavailable.ts';

const RECORD_FLUSH_MS = 5;
const RECORD_FLUSH_COUNT = 100;
/**
 * Attempts sent but not yet recorded: at this many, nothing more is claimed or started until a
 * record write finishes. It bounds the duplicates a crash can cause without holding each endpoint's
 * slot for the write.
 */
const MAX_UNRECORDED = 256;

/**
 * What a record holds until it is written, in characters: its request's URL and body and the
 * response's body (its first 64 KiB). A GET's URL or a form body can be ~3 MiB for a 1 MiB event
 * (hmac-sha1-url): counted by number alone, 256 of them were ~1.5 GiB.
 */
function recordBytes(record: AttemptRecord): number {
  const { request, response } = record.attempt;
  return request.url.length + request.body.length + (response?.body.length ?? 0);
}
/**
 * Waits before writing a batch again after the store said it was busy (isStoreBusy: a deadlock, a
 * serialization failure, a lock not granted, SQLite's write lock held too long), each ±50 %. Such a
 * write was rolled back whole, so writing it again cannot store an attempt twice; and its records
 * cannot wait for their lease to run out instead: whatever made the store busy (an endpoint
 * deleted) may have closed their deliveries meanwhile, and nothing would ever bring them back.
 */
const BUSY_RETRY_MS = [25, 100, 400];
/**
 * Waits before writing a batch again while the database cannot be reached (PostgreSQL restarting,
 * failing over, or the connection this process held cut while it was paused), each ±50 %; the last
 * one repeats for as long as the outage lasts. Given up, these attempts, already sent, would have
 * no record and their deliveries would be sent again after the lease: a 2-4 s restart under load
 * left hundreds so, and a failover (10-30 s) all of them when they were kept ~10 s. Meanwhile the
 * queue is `full`, so the dispatcher claims and starts nothing more (what waits stays bounded, and
 * a delivery whose lease ran out during the outage is not claimed again by this process before its
 * record is written); only a stop gives them up (giveUpAfter).
 */
const UNREACHABLE_RETRY_MS = [250, 500, 1_000, 2_000];
/**
 * A write that failed for want of what any write needs, not for what it holds: the disk full, an
 * I/O error (SQLite's "disk I/O error": a failing disk, a file-size limit), the process out of file
 * descriptors (SQLite's CANTOPEN for a file it must open, a connection that cannot be made), the
 * database out of memory. Each ends (space freed, descriptors closed, the disk replaced) and each
 * rolls the write back whole, so it is waited out as an outage is (UNREACHABLE_RETRY_MS, given up
 * only at a stop): writing it again cannot store an attempt twice. Given up at once, its delivery
 * stayed leased with no attempt recorded and was sent again once its lease ran out (every delivery
 * sent while it lasted, twice), and the dispatcher went on claiming and sending meanwhile.
 */
function cannotWriteNow(error: unknown): boolean {
  return isStoreFull(error) || isStoreIoError(error) || isStoreOutOfFiles(error) || isStoreOutOfMemory(error);
}
/**
 * PostgreSQL's unique_violation on an attempt's id. A write tried again after its connection was cut
 * while it committed (its answer lost) asks the store whether it was stored (RecordOptions.retried:
 * then the store answers what it did, and its attempts and disables are counted, once); this error
 * means the first commit became visible only after that look-up, so the write is tried again after
 * a busy wait, and the look-up finds it.
 */
const UNIQUE_VIOLATION = '23505';

export interface RecordQueueOptions {
  store: Pick<Store, 'recordAttempts' | 'databaseTime'>;
  /**
   * Bytes (recordBytes) of records waiting to be written at which the queue is `full` too, as at
   * MAX_UNRECORDED records: HERALD_DELIVERY_BYTES_IN_FLIGHT, what the attempts in flight may hold.
   */
  maxBytes?: number;
  failureThreshold: number;
  clock: () => number;
  /** A write finished (or failed); `wasFull`: the queue was full before it. */
  onWritten(wasFull: boolean): void;
  onEndpointDisabled(disabled: { projectId: string; endpointId: string; reason: string }): void;
  /**
   * A record added with `counted` was written: the status the store left its delivery in
   * (RecordResult.statuses; null when the delivery was gone). Not called when the write failed.
   */
  onRecorded?(record: AttemptRecord, status: DeliveryStatus | null): void;
  /** Every record's write finished: written, or given up (after onRecorded or onError). */
  onSettled?(record: AttemptRecord): void;
  /**
   * A write failed for good: a busy store (BUSY_RETRY_MS) or one out of reach, or that cannot write
   * now (cannotWriteNow: its disk full, an I/O error, out of file descriptors or memory;
   * UNREACHABLE_RETRY_MS, until giveUpAfter's time) is tried again first, reported to onBusy.
   */
  onError(error: unknown): void;
  /** A write the store found busy or out of reach, about to be tried again. */
  onBusy?(error: unknown): void;
}

export interface RecordQueue {
  /** `counted` (default true): report it to onRecorded once written. */
  add(record: AttemptRecord, counted?: boolean): void;
  /** Writes what is queued now; resolves once every write so far has finished. */
  flush(): Promise<void>;
  /**
   * A stop: `ms` from now on (a timer, not the clock; and after the sockets' next read since), a
   * write that finds the database out of reach is given up (onError) instead of tried again, and a
   * wait to try again ends then, so the records still to be written get one more try each. A later
   * call changes nothing.
   */
  giveUpAfter(ms: number): void;
  /**
   * MAX_UNRECORDED attempts, or maxBytes of them, wait for their write, or a write waits for the
   * database to be reachable again (or able to write again: cannotWriteNow).
   */
  readonly full: boolean;
  /** Attempts added and not yet written (or failed to write). */
  readonly unrecorded: number;
  /** Attempts whose write was given up (onError) so far: their deliveries come back after the lease. */
  readonly givenUp: number;
}

export function createRecordQueue(options: RecordQueueOptions): RecordQueue {
  const { store, clock } = options;
  let records: AttemptRecord[] = [];
  /** Which of `records` go to onRecorded. */
  let counted: boolean[] = [];
  let unrecorded = 0;
  let unrecordedBytes = 0;
  let givenUp = 0;
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  /** A write waits to be tried again because the database was out of reach. */
  let outage = false;
  /** Past giveUpAfter's time: an unreachable database is not waited for any more. */
  let givingUp = false;
  let giveUpTimer: NodeJS.Timeout | null = null;
  /** Ends the present wait before trying again (giveUpAfter). */
  let endWait: (() => void) | null = null;
  const full = () => outage || unrecorded >= MAX_UNRECORDED || unrecordedBytes >= maxBytes;
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = records;
    const report = counted;
    records = [];
    counted = [];
    if (batch.length === 0) return writing;
    let batchBytes = 0;
    for (const record of batch) batchBytes += recordBytes(record);
    writing = writing.then(async () => {
      let busy = 0;
      let unreachable = 0;
      // The same for every try: a write tried again finds the endpoints its first try disabled by
      // the time it stored them at (disabledAt: on PostgreSQL `now` in the database's time, by the
      // offset last proved, so not moved again by one proved between two tries).
      const now = clock();
      const disabledAt = store.databaseTime?.(now);
      /** A try failed out of reach: the store looks for its attempts first (RecordOptions.retried). */
      let retried = false;
      /**
       * A try was cut after it reached the database (not a connect failure, isConnectFailure): it
       * may have been stored, its COMMIT's answer lost. A write whose tries out of reach could not
       * even connect cannot be stored, and is given up after BUSY_RETRY_MS as any other.
       */
      let mayHaveCommitted = false;
      for (;;) {
        try {
          const result = await store.recordAttempts(batch, {
            now,
            failureThreshold: options.failureThreshold,
            ...(disabledAt === undefined ? {} : { disabledAt }),
            ...(retried ? { retried } : {}),
          });
          for (const d of result.disabledEndpoints) options.onEndpointDisabled(d);
          if (options.onRecorded) {
            for (let i = 0; i < batch.length; i++)
              if (report[i]) options.onRecorded(batch[i]!, result.statuses[i] ?? null);
          }
          break;
        } catch (error) {
          const stored = mayHaveCommitted && (error as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
          const busyWait = isStoreBusy(error) || stored ? BUSY_RETRY_MS[busy++] : undefined;
          if (isStoreUnreachable(error)) {
            retried = true;
            if (!isConnectFailure(error)) mayHaveCommitted = true;
          }
          // A write that may be stored already (a try failed out of reach, its COMMIT perhaps done)
          // is not given up when the store stays busy past BUSY_RETRY_MS, nor when it is stored and
          // the look-up has not found it yet: it is waited out as an outage is (given up only at a
          // stop). A COMMIT past the query bound (QueryTimeoutError) waiting for a synchronous
          // standby that does not answer is committed locally but not visible to the look-up, and
          // holds its locks until the standby answers: each try waits for them until lock_timeout
          // (55P03). Given up after 3, its attempts were stored later and never counted. Not when
          // every try out of reach failed to connect: nothing of it reached the database, and it
          // waited out a lock held for long (the worker claiming and starting nothing meanwhile)
          // where a write that never met an outage is given up.
          const mayBeStored = mayHaveCommitted && busyWait === undefined && (isStoreBusy(error) || stored);
          // A full disk, an I/O error, no file descriptor free are waited out too (cannotWriteNow).
          const out = (isStoreUnreachable(error) || cannotWriteNow(error) || mayBeStored) && !givingUp;
          const wait = out
            ? UNREACHABLE_RETRY_MS[Math.min(unreachable++, UNREACHABLE_RETRY_MS.length - 1)]
            : busyWait;
          if (wait !== undefined) {
            if (out) outage = true;
            // counted and, throttled, logged: a lock held for long, an outage, shows
            options.onBusy?.(error);
            await new Promise<void>((r) => {
              const timer = setTimeout(r, wait * (0.5 + Math.random()));
              endWait = () => {
                clearTimeout(timer);
                r();
              };
            });
            endWait = null;
            continue;
          }
          // Given up: the claims stay leased, and these deliveries come back after the lease and
          // are tried again (unless they were closed meanwhile).
          givenUp += batch.length;
          options.onError(error);
          break;
        }
      }
      if (options.onSettled) for (const record of batch) options.onSettled(record);
      const wasFull = full();
      outage = false;
      unrecorded -= batch.length;
      unrecordedBytes -= batchBytes;
      options.onWritten(wasFull);
    });
    return writing;
  };

  return {
    add(record, count = true) {
      unrecorded++;
      unrecordedBytes += recordBytes(record);
      records.push(record);
      counted.push(count);
      if (records.length >= RECORD_FLUSH_COUNT) void flush();
      else timer ??= setTimeout(() => void flush(), RECORD_FLUSH_MS);
    },
    flush,
    giveUpAfter(ms) {
      // Over after the event loop's next read of the sockets, not in the timer's callback (as
      // attempt-slots' grace): a thread held past `ms` (synchronous work, a paused process) runs its
      // due timers before it reads the sockets, so a write refused in time (the database out of
      // reach, back by the hold's end) found the queue giving up and was given up without the one
      // more try, its attempt left unrecorded and its delivery sent again after its lease.
      giveUpTimer ??= setTimeout(
        () =>
          setImmediate(() => {
            givingUp = true;
            endWait?.();
          }),
        ms,
      );
      giveUpTimer.unref();
    },
    get full() {
      return full();
    },
    get unrecorded() {
      return unrecorded;
    },
    get givenUp() {
      return givenUp;
    },
  };
}
