/**
 * How a dispatcher's failed store calls are logged. A database outage fails every claim, record and
 * release the same way, several times a second in every process: one warn line without a stack,
 * then at most one per interval with the number of failures in between (thousands of stacks say
 * nothing more, and fill the disk the outage may already be about). Any other failure is a bug or
 * a data problem: logged at error level with its stack, at most once per interval per kind (code
 * and message) with the number in between, as the API's 500s (one line a second per claim before). What a stop left unfinished
 * (`during: 'shutdown'`) is one warn line; a claim of a delivery whose attempt was still out (`during:
 * 'lease'`, a lease too short or a clock step) one warn line per interval. Secrets sealed with a key this process lacks fail every
 * claim the same way too: one error line without a stack per interval (secret-key-readiness.ts
 * logs what to do, once, and /readyz says it meanwhile). A SQLite file deleted or replaced under the
 * process (database-file-watch.ts), a full disk, an I/O error, a process out of file descriptors
 * and a database out of memory fail every call too: one error line per interval each. After a
 * full-disk line, the first write this thread
 * commits again is one line too, when the logger has `info` (SQLite; store-unavailable.ts), and
 * the next full-disk failure after it is logged at once (that write may have been a small one).
 * After an outage (the database out of reach), the first connection this thread opens again is one
 * line with how long it lasted and how many calls failed (store-unavailable.ts whenDatabaseReached).
 * Every failure of a known kind is counted for herald_store_failures_total (an I/O error as
 * `io_error`, a database out of memory with `resources`).
 */
import { errorKind, MAX_KINDS } from '../api/line-throttle.ts';
import { countOutageFailure } from '../store/database-outage.ts';
import { isSecretKeyMismatch } from '../store/secret-cipher.ts';
import { isDatabaseFileGone } from '../store/sqlite/database-file-watch.ts';
import {
  countStoreFailure,
  isSqliteReadOnly,
  isStoreBusy,
  isStoreFull,
  isStoreIoError,
  isStoreOutOfFiles,
  isStoreOutOfMemory,
  isStoreReadOnly,
  isStoreUnreachable,
  isTooManyConnections,
  READ_ONLY_LINE,
  SQLITE_READ_ONLY_LINE,
  TOO_MANY_CONNECTIONS_LINE,
  WRITES_BACK_LINE,
  whenWritesSucceed,
} from '../store/store-unavailable.ts';
import { PROXY_UNAVAILABLE } from './proxy-connector.ts';

export interface StoreErrorLogger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  /**
   * The lines saying writes succeed again after a full disk, and the database can be reached again
   * after an outage; none without it (the purger's and the forwarder's loggers word every warn line
   * as an outage).
   */
  info?(fields: object, message: string): void;
}

/** A kind of failure logged at most once per interval, with the count in between. */
interface Throttle {
  loggedAt: number;
  since: number;
}

/**
 * Why records given up at a stop could not be written, for the dispatcher's shutdown line (`error`:
 * the last write given up): said as what happened, since each asks something else of an operator.
 * Not the error's own words, which the recordAttempts line already logged.
 */
export function whyNotWritten(error: unknown): string {
  if (isStoreFull(error)) return "the database's disk was full";
  if (isStoreIoError(error)) return "the database's files could not be written: disk I/O error";
  if (isStoreOutOfFiles(error)) return 'the process was out of file descriptors';
  if (isStoreOutOfMemory(error)) return 'the database was out of memory';
  if (isStoreReadOnly(error)) return 'the database was read-only';
  if (isStoreUnreachable(error)) return 'the database could not be reached';
  return 'their write failed: see the recordAttempts line';
}

/** The dispatcher's `onError` hook (dispatcher.ts) for `logger`. */
export function storeErrorLog(
  logger: StoreErrorLogger,
  intervalMs = 10_000,
  now: () => number = Date.now,
): (error: unknown, during: string) => void {
  const throttles = new Map<string, Throttle>();
  const every = `(logged at most once per ${intervalMs / 1000} s)`;
  /** The throttle of `kind` when a line is due now (its `since` is the count to report); null: counted, not logged. */
  const due = (kind: string): Throttle | null => {
    let state = throttles.get(kind);
    if (!state) {
      state = { loggedAt: Number.NEGATIVE_INFINITY, since: 0 };
      throttles.set(kind, state);
    }
    const t = now();
    if (t - state.loggedAt < intervalMs) {
      state.since++;
      return null;
    }
    state.loggedAt = t;
    return state;
  };
  /** `failedSinceLastLine` when there were any, and the throttle's count restarted. */
  const since = (state: Throttle) => {
    const n = state.since;
    state.since = 0;
    return n > 0 ? { failedSinceLastLine: n } : {};
  };
  let awaitingWrite = false;
  /**
   * A call failed for the database out of reach: counted for this thread's outage, whose end (the
   * next connection a pool opens) is one info line saying how long it lasted and how many calls
   * failed, with what other parts of the process (the API, /metrics) failed (database-outage.ts).
   */
  const outageFailed = () => {
    if (logger.info) countOutageFailure('dispatcher', logger as Required<StoreErrorLogger>, now);
  };
  return (error, during) => {
    // Not a store call: what a stop left unfinished (dispatcher.ts), worth a line, not a stack.
    if (during === 'shutdown') {
      logger.warn({ during }, `dispatcher: ${(error as Error).message}`);
      return;
    }
    // Not a store call either: a claim of a delivery whose attempt was still out, not sent twice
    // (in-flight-deliveries.ts). A warning: the lease is shorter than what the attempts take.
    if (during === 'lease') {
      const state = due('lease');
      if (state) logger.warn({ during, ...since(state) }, `dispatcher: ${(error as Error).message} ${every}`);
      return;
    }
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (isSecretKeyMismatch(error)) {
      const state = due('secret-key');
      if (!state) return;
      logger.error(
        { during, cause: { message: error.message }, ...since(state) },
        `dispatcher: cannot open the endpoint secrets of the claimed deliveries (sealed with another encryption key); handed them back for a process with the current HERALD_ENCRYPTION_KEY: restart this one with it ${every}`,
      );
      return;
    }
    // The SQLite file deleted or replaced under the process: every store call fails until restart.
    if (isDatabaseFileGone(error)) {
      countStoreFailure('file_gone');
      const state = due('gone');
      if (!state) return;
      logger.error(
        // The file's name in `cause` too: a caller that words its own line (retention) keeps it.
        { during, cause: { message }, ...since(state) },
        `dispatcher: ${error.message} ${every}`,
      );
      return;
    }
    if (isStoreFull(error)) {
      countStoreFailure('full');
      const info = logger.info?.bind(logger);
      const state = due('full');
      if (!state) return;
      logger.error(
        { during, cause: { code, message }, ...since(state) },
        `dispatcher: the database's disk is full: nothing is recorded until space is freed; trying again ${every}`,
      );
      if (info && !awaitingWrite) {
        awaitingWrite = true;
        whenWritesSucceed(() => {
          awaitingWrite = false;
          // A small write may fit in pages the database already has while larger ones still fail:
          // the next full-disk failure is logged at once, not after the interval.
          state.loggedAt = Number.NEGATIVE_INFINITY;
          info({ ...since(state) }, `dispatcher: ${WRITES_BACK_LINE}`);
        });
      }
      return;
    }
    if (isStoreOutOfFiles(error)) {
      countStoreFailure('resources');
      const state = due('files');
      if (!state) return;
      logger.error(
        { during, cause: { code, message }, ...since(state) },
        `dispatcher: out of file descriptors (a file or a connection could not be opened): raise the open-files limit (ulimit -n, LimitNOFILE) or lower the connections; trying again ${every}`,
      );
      return;
    }
    // A read or write of the database's files failed in the OS (SQLite's "disk I/O error"): a
    // failing disk, a file-size limit. Records wait it out (record-queue.ts), as a full disk.
    if (isStoreIoError(error)) {
      countStoreFailure('io_error');
      const state = due('io');
      if (!state) return;
      logger.error(
        { during, cause: { code, message }, ...since(state) },
        `dispatcher: the database's files could not be read or written (disk I/O error: a failing disk, a file-size limit such as ulimit -f, a full file system): nothing is recorded until they can; trying again ${every}`,
      );
      return;
    }
    if (isStoreOutOfMemory(error)) {
      countStoreFailure('resources');
      const state = due('memory');
      if (!state) return;
      logger.error(
        { during, cause: { code, message }, ...since(state) },
        `dispatcher: the database is out of memory (or of another resource of its own); trying again ${every}`,
      );
      return;
    }
    // A standby (a failover under way, or a URL naming a replica): before isStoreUnreachable,
    // which counts it too, so that the line says why.
    if (isStoreReadOnly(error)) {
      countStoreFailure('unreachable');
      const state = due('read-only');
      if (!state) return;
      // A SQLite file is an error an operator must put right; a standby ends with its promotion.
      if (isSqliteReadOnly(error)) {
        logger.error(
          { during, cause: { code, message }, ...since(state) },
          `dispatcher: ${SQLITE_READ_ONLY_LINE}; trying again ${every}`,
        );
        return;
      }
      logger.warn(
        { during, cause: { code, message }, ...since(state) },
        `dispatcher: ${READ_ONLY_LINE}; backing off and trying again ${every}`,
      );
      return;
    }
    // A server at max_connections answers: counted as unreachable, but no outage (isDatabaseOutage),
    // and said as a connection limit, as the API says it.
    if (isTooManyConnections(error)) {
      countStoreFailure('unreachable');
      const state = due('too-many-connections');
      if (!state) return;
      logger.warn(
        { during, cause: { code, message }, ...since(state) },
        `dispatcher: ${TOO_MANY_CONNECTIONS_LINE}; backing off and trying again ${every}`,
      );
      return;
    }
    if (isStoreUnreachable(error)) {
      countStoreFailure('unreachable');
      outageFailed();
      const state = due('unreachable');
      if (!state) return;
      logger.warn(
        { during, cause: { code, message }, ...since(state) },
        `dispatcher: the database cannot be reached; backing off and trying again ${every}`,
      );
      return;
    }
    // The delivery proxy (HERALD_PROXY_URL) unreachable or refusing: no delivery can go out, each is
    // handed back without an attempt (SendResult.local), so one line per interval says why.
    if (code === PROXY_UNAVAILABLE) {
      const state = due('proxy');
      if (!state) return;
      logger.error(
        { during, cause: { message }, ...since(state) },
        `dispatcher: deliveries cannot go through the proxy (HERALD_PROXY_URL); they wait and are tried again: ${String(message)} ${every}`,
      );
      return;
    }
    // A lock not granted in time, a deadlock, SQLite's write lock held too long: written again (a
    // record batch after a short wait, a claim at the next turn). Many in a row mean a session
    // holds locks it does not release (docs/operations.md "PostgreSQL connections that stall").
    if (isStoreBusy(error)) {
      countStoreFailure('busy');
      const state = due('busy');
      if (!state) return;
      logger.warn(
        { during, cause: { code, message }, ...since(state) },
        `dispatcher: the database is busy (a lock not granted in time, a deadlock); trying again ${every}`,
      );
      return;
    }
    // A bug or a data problem (a table renamed, a privilege revoked) fails every claim the same way,
    // once a second while it lasts: the stack once per interval per kind, with the count between.
    const kind = errorKind(error);
    const state = due(
      throttles.has(`unknown ${kind}`) || throttles.size < MAX_KINDS ? `unknown ${kind}` : 'unknown',
    );
    if (!state) return;
    logger.error({ err: error, during, ...since(state) }, `dispatcher: store call failed ${every}, per kind`);
  };
}
