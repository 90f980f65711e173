/**
 * Store failures the API answers 503 for, because the same call can succeed later: the database
 * is busy, cannot be reached, or its disk is full.
 *
 * A store call that failed because the database is busy, not broken: SQLite's write lock stayed
 * taken for longer than the busy timeout, or PostgreSQL gave up on a lock, a serialization or a
 * deadlock. The same call made again shortly is expected to succeed, so the API answers 503 with
 * Retry-After instead of 500.
 */
import { redactDatabaseUrl } from '../config/redact-database-url.ts';
import { threadCounters } from '../thread-counters.ts';
import {
  DatabaseTlsFileError,
  isDatabaseTlsFailure,
  unreadableDatabaseTlsFile,
} from './database-tls-error.ts';

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
/** lock_not_available, serialization_failure, deadlock_detected, query_canceled (statement_timeout). */
const POSTGRES_BUSY = new Set(['55P03', '40001', '40P01', '57014']);

/**
 * admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down),
 * too_many_connections, and idle_in_transaction_session_timeout (the server ended a session that
 * paused mid-transaction: pool.ts); the whole class 08 (connection exception) is matched by its prefix.
 */
const POSTGRES_UNREACHABLE = new Set(['57P01', '57P02', '57P03', '53300', '25P03']);
/**
 * read_only_sql_transaction: every write (and LISTEN, NOTIFY, SELECT … FOR UPDATE) refused because
 * the server is a standby in recovery, or runs with default_transaction_read_only.
 */
const READ_ONLY_SQL_TRANSACTION = '25006';
/** The URL's database does not exist (dropped under a running process, restored under another name). */
const INVALID_CATALOG_NAME = '3D000';
/**
 * SQLSTATE class 28 (invalid_authorization_specification: a wrong password, a role not permitted to
 * log in, no pg_hba.conf entry) or 3D000 (no such database): every new connection of the process
 * fails until an operator puts the password, the role or the database right, and the calls succeed
 * again then.
 */
function isLoginRefused(code: string): boolean {
  return /^28[0-9A-Z]{3}$/.test(code) || code === INVALID_CATALOG_NAME;
}

/**
 * Socket errors of a connection that could not be opened. Not only those: Linux keeps an ICMP error
 * met by an open connection (host or network unreachable, a firewall's port-unreachable reject) as
 * a soft error, and ends the connection with it once keep-alive or retransmission gives up, a COMMIT
 * perhaps sent on it. So they say nothing was sent only of an error raised while a connection was
 * being opened (raisedConnecting); the name look-up's two (EAI_AGAIN, ENOTFOUND) come before any socket.
 */
const CONNECT_REFUSED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
/** Socket errors of a connection to the database (Node's errno codes): those and a connection lost. */
const SOCKET_UNREACHABLE = new Set([...CONNECT_REFUSED, 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT']);
/**
 * node-postgres's own errors for a connection that closed under it, which carry no code:
 * "Connection terminated unexpectedly", "Connection terminated due to connection timeout",
 * "Client has encountered a connection error and is not queryable", "Client was closed and is not
 * queryable" (a client pool.ts ended after a query timed out), and the pool's
 * "timeout exceeded when trying to connect".
 */
const PG_CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

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

const SQLITE_NOMEM = 7;
const SQLITE_IOERR = 10;
/** insufficient_resources (the server out of file descriptors, among others) and out_of_memory. */
const POSTGRES_OUT_OF_RESOURCES = new Set(['53000', '53200']);

/**
 * SQLite's SQLITE_IOERR (any extended code, "disk I/O error"): a read or write of the database, its
 * WAL or -shm failed in the operating system (EIO from a failing disk or a network file system, a
 * file-size limit, EFBIG; a full file system under the -shm). Such a transaction is rolled back
 * whole; the same write may go through once the cause is gone.
 */
export function isStoreIoError(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' && (errcode & 0xff) === SQLITE_IOERR;
}

/**
 * The database ran out of memory or of another resource of its own for this call: SQLite's
 * SQLITE_NOMEM, PostgreSQL's out_of_memory (53200, "out of shared memory" too) and
 * insufficient_resources (53000: the server process out of file descriptors). The call was rolled
 * back; the same call made later may succeed. (too_many_connections, 53300, is isStoreUnreachable's;
 * configuration_limit_exceeded, 53400, a limit the call itself passed, fails the same way again.)
 */
export function isStoreOutOfMemory(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { errcode, code } = error as { errcode?: unknown; code?: unknown };
  if (typeof errcode === 'number') return (errcode & 0xff) === SQLITE_NOMEM;
  return typeof code === 'string' && POSTGRES_OUT_OF_RESOURCES.has(code);
}

const SQLITE_CANTOPEN = 14;
/**
 * Node's errno codes for a process (EMFILE) or a system (ENFILE) out of file descriptors, or out of
 * socket buffers or memory (ENOBUFS, ENOMEM): this process's resources, not the request's.
 */
const OUT_OF_FILES = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

/**
 * The process could not open a file or socket it needs: out of file descriptors (EMFILE, ENFILE:
 * `ulimit -n` too low for its connections), which SQLite reports as SQLITE_CANTOPEN ("unable to
 * open database file") for the WAL, -shm or journal files of a database that is open. Calls succeed
 * again once descriptors are free. (A database file deleted or replaced under the process fails
 * with CANTOPEN too: database-file-watch.ts tells that case apart, and callers test it first.)
 */
export function isStoreOutOfFiles(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { errcode, code } = error as { errcode?: unknown; code?: unknown };
  if (typeof errcode === 'number') return (errcode & 0xff) === SQLITE_CANTOPEN;
  return typeof code === 'string' && OUT_OF_FILES.has(code);
}

/**
 * The database answers but refuses writes (SQLSTATE 25006): HERALD_DATABASE_URL leads to a standby
 * (a failover under way, its name or address moved before the promotion, or a URL naming a replica),
 * or to a server with default_transaction_read_only on. Nothing can be stored until the standby is
 * promoted or the URL leads to the primary again; the sessions a promoted server already had take
 * writes from then on, so calls succeed again by themselves. isStoreUnreachable counts it too.
 */
export function isStoreReadOnly(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { errcode, code } = error as { errcode?: unknown; code?: unknown };
  if (typeof errcode === 'number') return isSqliteReadOnly(error);
  return code === READ_ONLY_SQL_TRANSACTION;
}

const SQLITE_READONLY = 8;
/**
 * SQLite's SQLITE_READONLY (any extended code): the database file, its directory or its file
 * system takes no writes (permissions changed, a volume remounted read-only after a disk error).
 * Unlike a standby this does not end by itself: an operator must make the file writable again.
 */
export function isSqliteReadOnly(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' && (errcode & 0xff) === SQLITE_READONLY;
}

/** What the API's and the dispatcher's lines say of a SQLite file that takes no writes (isSqliteReadOnly). */
export const SQLITE_READ_ONLY_LINE =
  'the database file is read-only (its permissions or owner, or a file system mounted read-only): nothing can be stored until it takes writes again';

/** A ping found the server read-only (postgres-store.ts): coded as the writes it would refuse. */
export class ReadOnlyDatabaseError extends Error {
  readonly code = READ_ONLY_SQL_TRANSACTION;
  constructor() {
    super('the database is read-only (transaction_read_only is on: a standby in recovery)');
    this.name = 'ReadOnlyDatabaseError';
  }
}

/** What the API's and the dispatcher's lines say of a database that refuses writes (isStoreReadOnly). */
export const READ_ONLY_LINE =
  'the database is read-only: HERALD_DATABASE_URL leads to a standby in recovery (a failover under way, or a URL naming a replica) or to a server with default_transaction_read_only on';

/**
 * A write that waited its bound in the PostgreSQL store's group-commit queue (group-commit.ts)
 * without a transaction taking it: nothing of it was written. The store is busy (the transactions
 * before it are slow: a lock held elsewhere, a queue longer than the database writes in that time):
 * the same write made again shortly is expected to go through (isStoreBusy).
 */
export class StoreQueueWaitError extends Error {
  constructor(waitMs: number) {
    super(
      `the write waited ${waitMs / 1000} s for the database's group transaction and was not taken; nothing of it was written`,
    );
    this.name = 'StoreQueueWaitError';
  }
}

export function isStoreBusy(error: unknown): boolean {
  if (error instanceof StoreQueueWaitError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { errcode, code } = error as { errcode?: unknown; code?: unknown };
  if (typeof errcode === 'number') {
    const primary = errcode & 0xff; // extended result codes keep the primary one in the low byte
    return primary === SQLITE_BUSY || primary === SQLITE_LOCKED;
  }
  return typeof code === 'string' && POSTGRES_BUSY.has(code);
}

/**
 * The database cannot be reached right now: the connection was refused, reset or cut (PostgreSQL
 * stopped, restarting, failing over, or the network between), or the server refused new sessions
 * for the moment (starting up, shutting down, out of connection slots), or a new connection's TLS
 * failed (the server's certificate replaced by one the URL's CA did not sign: database-tls-error.ts),
 * or refused this process's log-in (its password rotated on the server first, the role made NOLOGIN),
 * or is read-only (a standby not yet promoted: isStoreReadOnly, which callers test first to say so).
 * Calls succeed again once it is back; SQLite, in-process, never fails this way. An AggregateError (a host name with several
 * addresses, all refused) counts when every error in it does.
 */
export function isStoreUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    if (POSTGRES_UNREACHABLE.has(code) || SOCKET_UNREACHABLE.has(code)) return true;
    if (code === READ_ONLY_SQL_TRANSACTION) return true; // a standby: isStoreReadOnly
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    if (isLoginRefused(code)) return true;
  }
  if (isDatabaseTlsFailure(error) || error instanceof DatabaseTlsFileError) return true;
  if (Array.isArray(errors) && errors.length > 0) return errors.every(isStoreUnreachable);
  return code === undefined && typeof message === 'string' && PG_CONNECTION_LOST.test(message);
}

/** too_many_connections: the server is at max_connections (or the role's or database's limit). */
const TOO_MANY_CONNECTIONS = '53300';

/**
 * PostgreSQL refused a new session because it has as many as it allows: out of reach for this
 * call (isStoreUnreachable), but the server is up and answering, so it is no outage
 * (isDatabaseOutage); the lines say it as a connection limit (TOO_MANY_CONNECTIONS_LINE).
 */
export function isTooManyConnections(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === TOO_MANY_CONNECTIONS;
}

/** What the API's and the dispatcher's lines say of too many connections (isTooManyConnections). */
export const TOO_MANY_CONNECTIONS_LINE =
  'the database refused a connection: too many clients (PostgreSQL max_connections; docs/deployment.md "Connections" sizes it)';

/**
 * Whether a failure counts toward this thread's database outage (database-outage.ts, whose end is
 * the "can be reached again" line): the database out of reach (isStoreUnreachable), but not a
 * server that answered with a refusal of its own, a standby's read-only (isStoreReadOnly) or too
 * many connections (isTooManyConnections), each said as itself. The API, the dispatcher and
 * /metrics count by this one rule (until 2026-12-07 the dispatcher and /metrics counted both, the
 * API neither).
 */
export function isDatabaseOutage(error: unknown): boolean {
  return isStoreUnreachable(error) && !isStoreReadOnly(error) && !isTooManyConnections(error);
}

/** The name look-up's errors: no socket was made. */
const LOOKUP_FAILED = new Set(['EAI_AGAIN', 'ENOTFOUND']);

/** Errors a pool raised while it opened a connection for a call (raisedConnecting). */
const connecting = new WeakSet<object>();

/**
 * `error` was raised while a connection for a store call was being opened (pool.ts, the pool's
 * connect): no statement of that call was sent, whatever its code (isConnectFailure).
 */
export function raisedConnecting(error: unknown): void {
  if (typeof error === 'object' && error !== null) connecting.add(error);
}

/** cannot_connect_now (starting up, shutting down), too_many_connections: refused at log-in. */
const POSTGRES_CONNECT_REFUSED = new Set(['57P03', '53300']);
/** node-postgres's and its pool's errors of a connection that did not open in time. */
const PG_CONNECT_TIMEOUT =
  /^(timeout exceeded when trying to connect|Connection terminated due to connection timeout)/;

/**
 * Whether the database was out of reach (isStoreUnreachable) because a connection to it could not
 * be opened (refused, no route, unknown host, a server starting up or at max_connections, a log-in
 * or TLS refused, a connect timeout): no statement reached it, so nothing was stored. A socket's
 * refusal or lost route counts only when raised while connecting (raisedConnecting): until
 * 2026-12-06 an open connection ended by one (EHOSTUNREACH, ECONNREFUSED after its COMMIT) counted
 * too, and a write that may have been stored was taken for one that was not. Any other
 * loss (a connection reset, cut or timed out while a statement or a COMMIT ran, an administrator's
 * shutdown of the session) may have come after a write committed, its answer lost with it.
 */
export function isConnectFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (connecting.has(error)) return true;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    // A socket error (ECONNREFUSED, EHOSTUNREACH …) not raised while connecting (raisedConnecting)
    // may have ended a connection that had sent a COMMIT (CONNECT_REFUSED): not counted here.
    if (LOOKUP_FAILED.has(code) || POSTGRES_CONNECT_REFUSED.has(code) || isLoginRefused(code)) return true;
  }
  if (isDatabaseTlsFailure(error) || error instanceof DatabaseTlsFileError) return true;
  if (Array.isArray(errors) && errors.length > 0) return errors.every(isConnectFailure);
  return code === undefined && typeof message === 'string' && PG_CONNECT_TIMEOUT.test(message);
}

/** SQLITE_CONSTRAINT_FOREIGNKEY (extended code); PostgreSQL's foreign_key_violation. */
const SQLITE_CONSTRAINT_FOREIGNKEY = 787;
const POSTGRES_FOREIGN_KEY_VIOLATION = '23503';

/**
 * A write referenced a row that is gone: the project (or endpoint) the route found was deleted
 * between that read and the write (an event, endpoint, API key or secret inserted while its project
 * is being deleted). Not a server fault: the API answers as if the request came after the delete.
 */
export function isParentRowGone(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { errcode, code } = error as { errcode?: unknown; code?: unknown };
  if (typeof errcode === 'number') return errcode === SQLITE_CONSTRAINT_FOREIGNKEY;
  return code === POSTGRES_FOREIGN_KEY_VIOLATION;
}

/**
 * A failure to open (connect to and migrate) the database, said as one: which database (its
 * password masked) and what went wrong, e.g. "cannot reach the database at
 * postgres://herald:***@db:5432/herald (HERALD_DATABASE_URL, --database): connect ECONNREFUSED
 * 10.0.0.5:5432" rather than the bare
 * socket error. Errors that are not the database's (a bad key, a bug) are returned as they are.
 */
export function explainDatabaseError(
  error: unknown,
  databaseUrl: string,
  /** Where the URL came from, when not HERALD_DATABASE_URL (herald copy-to-postgres: `--to`). */
  setting?: string,
): unknown {
  const where = redactDatabaseUrl(databaseUrl);
  // Before isStoreUnreachable, which counts a TLS failure as the database out of reach.
  if (isDatabaseTlsFailure(error)) {
    return new Error(
      `cannot open a TLS connection to the database at ${where} as ${setting ?? 'HERALD_DATABASE_URL (--database)'} asks ` +
        '(its sslmode and sslrootcert: docs/deployment.md "TLS to PostgreSQL")',
      { cause: error },
    );
  }
  const file = unreadableDatabaseTlsFile(error, databaseUrl);
  if (file) {
    // The file's own error (ENOENT: no such file …, open '/etc/…'), not DatabaseTlsFileError's
    // words, which would say "cannot read the … file" a second time.
    const cause = error instanceof DatabaseTlsFileError && error.cause instanceof Error ? error.cause : error;
    return new Error(
      `cannot read the ${file} file of ${setting ?? 'HERALD_DATABASE_URL (--database)'}, ${where}`,
      {
        cause,
      },
    );
  }
  // Named with its setting, as a configuration error is: the host, the password or the database
  // name in it is what to check.
  const named = `${where} (${setting ?? 'HERALD_DATABASE_URL, --database'})`;
  // A PostgreSQL error (SQLSTATE code and severity): a wrong password (before isStoreUnreachable,
  // which counts it as out of reach), a database that does not exist, missing privileges.
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  const answered = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string';
  if (answered && isLoginRefused(code))
    return new Error(`the database at ${named} answered with error ${code}`, { cause: error });
  // A standby (before isStoreUnreachable, which counts it too): the migrations' first write fails.
  if (answered && isStoreReadOnly(error))
    return new Error(
      `the database at ${named} takes no writes (error ${code}): it is a standby in recovery, or runs with ` +
        'default_transaction_read_only; point the URL at the primary (after a failover, at the promoted server)',
      { cause: error },
    );
  if (isStoreUnreachable(error)) return new Error(`cannot reach the database at ${named}`, { cause: error });
  if (isPasswordMissing(error))
    return new Error(
      `the database at ${named} asks for a password and none was given: put it in PGPASSWORD (or a ~/.pgpass line), ` +
        'which keeps it out of ps and shell history, or in the URL (postgres://USER:PASSWORD@HOST/DB)',
      { cause: error },
    );
  if (answered) return new Error(`the database at ${named} answered with error ${code}`, { cause: error });
  return error;
}

/**
 * node-postgres's words when the server asks for a SCRAM password and the connection has none (no
 * password in the URL, no PGPASSWORD, no ~/.pgpass line): an Error of its own, no SQLSTATE.
 */
const isPasswordMissing = (error: unknown): boolean =>
  error instanceof Error && error.message.includes('client password must be a string');

/**
 * Why store calls failed in a way that passes, counted for herald_store_failures_total (metrics.ts):
 * the disk full, out of file descriptors or the database out of memory (`resources`), a disk I/O
 * error (`io_error`), busy, unreachable, the SQLite file gone.
 */
export type StoreFailureReason = 'full' | 'resources' | 'io_error' | 'busy' | 'unreachable' | 'file_gone';
export const STORE_FAILURE_REASONS: readonly StoreFailureReason[] = [
  'full',
  'resources',
  'io_error',
  'busy',
  'unreachable',
  'file_gone',
];

/** The counts of this process, the dispatcher thread's included (thread-counters.ts). */
const failures = threadCounters<StoreFailureReason>('herald:store-failures', STORE_FAILURE_REASONS);

/** One store call failed for `reason` (the API's 503s, the dispatcher's failed calls). */
export function countStoreFailure(reason: StoreFailureReason): void {
  failures.count(reason);
}

/** The store failures of this process so far, by reason (every reason, 0 when none). */
export function storeFailureCounts(): ReadonlyMap<StoreFailureReason, number> {
  return failures.counts();
}

/** Callbacks run once, at the next `fire`; a callback that throws does not stop the others. */
function waiters() {
  let waiting: (() => void)[] = [];
  return {
    add: (callback: () => void) => {
      waiting.push(callback);
    },
    /** Cheap when nobody waits. */
    fire: () => {
      if (waiting.length === 0) return;
      const now = waiting;
      waiting = [];
      for (const waiter of now) {
        try {
          waiter();
        } catch {
          // a log line that failed must not fail the write or the connection it follows
        }
      }
    },
  };
}

/** Run once by the next write this thread commits (writesSucceeded). */
const writeWaiters = waiters();

/**
 * The line logged when a write commits after full-disk failures. One write says only that this
 * one fitted: a small write may fit in pages the database already has while larger ones still
 * fail, so the next full-disk failure after it is logged at once.
 */
export const WRITES_BACK_LINE =
  'the database takes writes again (its disk was full; if another write fails for it, that is logged at once)';

/**
 * Runs `callback` once, after the next write transaction this thread's store commits (the group
 * commit of either store says so): how a full-disk log line is followed by one saying writes go
 * through again.
 */
export const whenWritesSucceed: (callback: () => void) => void = writeWaiters.add;

/** A write transaction committed (group-commit.ts). */
export const writesSucceeded: () => void = writeWaiters.fire;

/** Run once by the next connection this thread's pools open (databaseReached). */
const reachWaiters = waiters();

/**
 * Runs `callback` once, when a pool of this thread next opens a connection to the database (the
 * server answered, and let this process in): how an outage's throttled "cannot be reached" lines
 * are followed by one saying it is over. Every connection of a pool is lost in an outage, so the
 * first one opened after it is the first call that can succeed. SQLite never calls it.
 */
export const whenDatabaseReached: (callback: () => void) => void = reachWaiters.add;

/** A pool opened a connection (pool.ts). */
export const databaseReached: () => void = reachWaiters.fire;

/** The start of the line logged when the database can be reached again after an outage was logged. */
export const REACHED_AGAIN_LINE = 'the database can be reached again';
