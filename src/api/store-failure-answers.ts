/**
 * The 503s of a store that cannot take a request now (disk full, busy, a key that does not open the
 * secrets, the SQLite file gone, the database unreachable, out of file descriptors or memory, a
 * disk I/O error): what the client
 * is told, with Retry-After, and how each is logged (errors.ts's handler answers with them). Each is
 * counted for herald_store_failures_total (but a key that does not open the secrets: /readyz).
 */
import type { Server } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { countOutageFailure } from '../store/database-outage.ts';
import { isSecretKeyMismatch } from '../store/secret-cipher.ts';
import { isDatabaseFileGone } from '../store/sqlite/database-file-watch.ts';
import {
  countStoreFailure,
  isConnectFailure,
  isDatabaseOutage,
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
  type StoreFailureReason,
  TOO_MANY_CONNECTIONS_LINE,
  WRITES_BACK_LINE,
  whenWritesSucceed,
} from '../store/store-unavailable.ts';

/**
 * How a store failure is logged: `throttled` lines (a state that fails every request the same way
 * until an operator acts or the database is back) come at most once per THROTTLED_LOG_INTERVAL_MS
 * per server and kind, without a stack (throttledLog); the others once per request, with the error.
 */
interface StoreFailureLog {
  level: 'warn' | 'error';
  throttled?: string;
}

/** The full-disk line, and the line logged once after it when this thread's store next commits a write. */
const FULL_LINE = "the database's disk is full: answering 503 to writes until space is freed";
const RECOVERED_LINES = new Map([[FULL_LINE, WRITES_BACK_LINE]]);
/**
 * The line of an outage (the database stopped, restarting, refusing this process's log-in): once
 * it was logged, the next connection a pool opens is logged too (outageRefused).
 */
const UNREACHABLE_LINE = 'the database cannot be reached: answering 503';

/** A request that may write (anything but GET, HEAD and OPTIONS). */
const writes = (method: string) => method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';

/**
 * A store failure the same request (of `method`) may get past later; null for any other error.
 * `details.stored` "unknown" when it may have been stored all the same.
 */
export function storeUnavailable(
  error: unknown,
  method: string,
): {
  code: string;
  message: string;
  retryAfterS: number;
  details?: { stored: 'unknown' };
  log: StoreFailureLog;
} | null {
  const answer = classify(error, method);
  if (answer?.reason) countStoreFailure(answer.reason);
  return answer;
}

function classify(
  error: unknown,
  method: string,
): {
  code: string;
  message: string;
  retryAfterS: number;
  details?: { stored: 'unknown' };
  log: StoreFailureLog;
  reason?: StoreFailureReason;
} | null {
  // A full disk needs an operator to free space: logged as an error, once per burst (every write
  // fails the same way until then), and once more when a write goes through again.
  if (isStoreFull(error))
    return {
      code: 'HERALD_ERR_STORAGE_FULL',
      message: "the database's disk is full",
      retryAfterS: 60,
      reason: 'full',
      log: { level: 'error', throttled: FULL_LINE },
    };
  if (isStoreBusy(error))
    return {
      code: 'HERALD_ERR_BUSY',
      message: 'the database is busy; retry shortly',
      retryAfterS: 1,
      reason: 'busy',
      log: { level: 'warn', throttled: 'the database is busy: answering 503' },
    };
  // Another process sealed the endpoint secrets with a new HERALD_ENCRYPTION_KEY: this one cannot
  // open them until it is restarted with it (docs/operations.md). Its misconfiguration, not the
  // client's: 503, another instance may answer. Every request that needs a secret fails the same
  // way until then: an error line saying what to do, at most once per 10 s.
  if (isSecretKeyMismatch(error)) {
    const message =
      'this server cannot open the endpoint secrets: they are sealed with an encryption key it was not given (its operator must restart it with the current HERALD_ENCRYPTION_KEY)';
    return {
      code: 'HERALD_ERR_SECRET_KEY',
      message,
      retryAfterS: 60,
      log: { level: 'error', throttled: `${message}: answering 503` },
    };
  }
  // The SQLite file was deleted or replaced under this process: nothing more is stored until an
  // operator restores it and restarts the process (the path is in the log, not in the answer).
  if (isDatabaseFileGone(error))
    return {
      code: 'HERALD_ERR_DATABASE_FILE_GONE',
      message:
        "this server's database file was deleted or replaced; nothing more is stored until its operator restores it and restarts the server",
      retryAfterS: 60,
      reason: 'file_gone',
      log: { level: 'warn', throttled: 'the database file was deleted or replaced: answering 503' },
    };
  // PostgreSQL at max_connections: reachable, but out of sessions for this process's pool. Said as
  // such, so an operator sizes connections instead of looking for an outage.
  if (isTooManyConnections(error))
    return {
      code: 'HERALD_ERR_DATABASE_UNAVAILABLE',
      message: 'the database refused a new connection: it has as many clients as it allows; retry shortly',
      retryAfterS: 5,
      reason: 'unreachable',
      log: { level: 'warn', throttled: `${TOO_MANY_CONNECTIONS_LINE}: answering 503` },
    };
  // A SQLite file that takes no writes: an operator must act (an error, not a passing outage).
  if (isSqliteReadOnly(error))
    return {
      code: 'HERALD_ERR_DATABASE_UNAVAILABLE',
      message: 'the database is read-only (its file takes no writes); retry later',
      retryAfterS: 5,
      reason: 'unreachable',
      log: { level: 'error', throttled: `${SQLITE_READ_ONLY_LINE}: answering 503` },
    };
  // A standby (before isStoreUnreachable, which counts it too): answered as an outage, since a
  // failover ends it by itself, but said as read-only, so that a URL naming a replica is found.
  if (isStoreReadOnly(error))
    return {
      code: 'HERALD_ERR_DATABASE_UNAVAILABLE',
      message: 'the database is read-only (a standby: a failover may be under way); retry shortly',
      retryAfterS: 5,
      reason: 'unreachable',
      log: { level: 'warn', throttled: `${READ_ONLY_LINE}: answering 503` },
    };
  // Every request fails the same way while the database is down: logged once per burst (below).
  // A write whose connection was lost once open (not refused when opening) may have committed, its
  // answer lost with it (a failover, a network cut, a COMMIT waiting for a synchronous standby past
  // the query timeout): said in details.stored, so that a client sends again only what is safe to
  // repeat (an event with its Idempotency-Key is answered with the stored one). Any other stored
  // nothing.
  if (isStoreUnreachable(error)) {
    const unknown = writes(method) && !isConnectFailure(error);
    return {
      code: 'HERALD_ERR_DATABASE_UNAVAILABLE',
      message: unknown
        ? 'the connection to the database was lost while this request was being written: it may have been stored (details.stored); send it again only with the same Idempotency-Key, or look before sending it again'
        : 'the database cannot be reached; retry shortly',
      retryAfterS: 5,
      ...(unknown ? { details: { stored: 'unknown' as const } } : {}),
      reason: 'unreachable',
      log: { level: 'warn', throttled: UNREACHABLE_LINE },
    };
  }
  // Out of file descriptors (SQLite's "unable to open database file" for a database it has open, a
  // socket that cannot be made): requests succeed again once connections close, but the limit is
  // the operator's to raise. After the file-gone check: a deleted file fails with CANTOPEN too.
  if (isStoreOutOfFiles(error))
    return {
      code: 'HERALD_ERR_RESOURCES',
      message:
        'this server is out of file descriptors (it cannot open a database file or connection); retry shortly',
      retryAfterS: 5,
      reason: 'resources',
      log: {
        level: 'error',
        throttled:
          'out of file descriptors: the database cannot open a file it needs (raise the open-files limit, ulimit -n or LimitNOFILE, or lower the connections): answering 503',
      },
    };
  // The database out of memory (SQLite's NOMEM, PostgreSQL's 53200) or of another resource of its
  // own (53000): the same request may go through once it has some again.
  if (isStoreOutOfMemory(error))
    return {
      code: 'HERALD_ERR_RESOURCES',
      message: 'the database is out of memory (or of another resource of its own); retry shortly',
      retryAfterS: 5,
      reason: 'resources',
      log: { level: 'error', throttled: 'the database is out of memory: answering 503' },
    };
  // SQLite's "disk I/O error": the OS failed a read or write of the database's files (a failing
  // disk, a file-size limit). The transaction was rolled back: it may go through once the cause is
  // gone. An operator must look (an error line). Nothing of the request was stored, but when the
  // fsync of its COMMIT failed (SQLITE_IOERR_FSYNC): its WAL frames, commit frame included, were
  // written before the sync, and though this connection rolled back, a crash before the next write
  // to the WAL brings the transaction back at the next open (WAL recovery reads every frame whose
  // checksums hold). A write that failed (SQLITE_IOERR_WRITE: a file-size limit) left no commit
  // frame whole: stored nothing, recovery or not. Said in details.stored as a lost commit answer is.
  if (isStoreIoError(error)) {
    const unknown = writes(method) && isFsyncFailure(error);
    return {
      code: 'HERALD_ERR_DATABASE_UNAVAILABLE',
      message: unknown
        ? "the database's files could not be flushed to disk while this request was being committed (a disk I/O error): it may have been stored (details.stored); send it again only with the same Idempotency-Key, or look before sending it again"
        : "the database's files could not be read or written (a disk I/O error); retry later",
      retryAfterS: 30,
      ...(unknown ? { details: { stored: 'unknown' as const } } : {}),
      reason: 'io_error',
      log: {
        level: 'error',
        throttled:
          "the database's files could not be read or written (disk I/O error: a failing disk, a file-size limit such as ulimit -f): answering 503",
      },
    };
  }
  return null;
}

/** SQLite's extended code for a failed fsync (SQLITE_IOERR | 4 << 8): the one an IOERR at COMMIT may have stored. */
const SQLITE_IOERR_FSYNC = 1034;
const isFsyncFailure = (error: unknown) =>
  (error as { errcode?: unknown } | null)?.errcode === SQLITE_IOERR_FSYNC;

/** A throttled store failure is logged at most once per this long, per server and kind. */
const THROTTLED_LOG_INTERVAL_MS = 10_000;
/**
 * Per HTTP server (the one object every plugin scope of an app shares) and per line: when it was
 * last logged, and how many requests were refused since.
 */
const throttledLogs = new WeakMap<
  Server,
  Map<string, { loggedAt: number; since: number; awaitingWrite: boolean }>
>();

/**
 * One line, without a stack, for a burst of requests refused for the same reason (an outage, a
 * wrong key: every request fails the same way, and thousands of stacks say nothing more), then one
 * per THROTTLED_LOG_INTERVAL_MS with the number answered 503 in between. After a full-disk line,
 * one info line when a write commits again (SQLite), with the number refused since the last line.
 */
export function throttledLog(
  request: FastifyRequest,
  error: unknown,
  level: 'warn' | 'error',
  line: string,
): void {
  const server = request.server.server;
  const now = Date.now();
  let lines = throttledLogs.get(server);
  if (!lines) {
    lines = new Map();
    throttledLogs.set(server, lines);
  }
  let state = lines.get(line);
  if (!state) {
    state = { loggedAt: Number.NEGATIVE_INFINITY, since: 0, awaitingWrite: false };
    lines.set(line, state);
  }
  // Counted for this thread's outage (database-outage.ts), whose end is one info line saying how
  // long it lasted and how many requests were refused (with what other parts of the process failed).
  // Its warnings keep their throttle: a connection that fails again at once is not a line more.
  if (isDatabaseOutage(error)) countOutageFailure('api', request.server.log);
  if (now - state.loggedAt < THROTTLED_LOG_INTERVAL_MS) {
    state.since++;
    return;
  }
  const { code, message } = error as { code?: unknown; message?: unknown };
  request.log[level](
    {
      cause: { code, message },
      ...(state.since > 0 ? { refusedSinceLastLine: state.since } : {}),
    },
    `${line} (logged at most once per ${THROTTLED_LOG_INTERVAL_MS / 1000} s)`,
  );
  state.loggedAt = now;
  state.since = 0;
  const recovered = RECOVERED_LINES.get(line);
  if (recovered && !state.awaitingWrite) {
    const logger = request.server.log;
    const awaiting = state;
    awaiting.awaitingWrite = true;
    whenWritesSucceed(() => {
      awaiting.awaitingWrite = false;
      awaiting.loggedAt = Number.NEGATIVE_INFINITY; // the next failure is logged at once (WRITES_BACK_LINE)
      logger.info(awaiting.since > 0 ? { refusedSinceLastLine: awaiting.since } : {}, recovered);
      awaiting.since = 0;
    });
  }
}
