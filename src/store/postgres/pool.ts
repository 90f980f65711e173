/** The PostgreSQL store's connection pool, and transactions on one of its connections. */
import pg from 'pg';
import { databaseReached, isStoreReadOnly, raisedConnecting } from '../store-unavailable.ts';
import { databaseClient } from './database-client.ts';
import { EXACT_JSON_TYPES } from './rows.ts';

/**
 * Bounds on the calls of a pooled connection, so that a stalled peer (a Herald process paused
 * mid-transaction, a PostgreSQL backend stopped, a network partition) costs the other calls seconds
 * and an answer, not a hang behind its locks. The server enforces the first three; a stopped or
 * unreachable backend enforces nothing, hence the client-side `queryMs`.
 */
export interface PoolBounds {
  /**
   * idle_in_transaction_session_timeout: a session idle inside a transaction this long (its client
   * paused, crashed without closing, or cut off) is ended and its locks freed. Herald's transactions
   * never wait between statements on anything but its own JavaScript (milliseconds, a second of
   * event-loop lag at worst), so this is ten times that and more.
   */
  idleInTransactionMs: number;
  /**
   * lock_timeout: a statement waiting this long for a lock fails with 55P03 (answered 503
   * HERALD_ERR_BUSY, retried by the dispatcher). Above idleInTransactionMs: a call queued behind the
   * locks of a paused session gets them once that session is ended, instead of failing.
   */
  lockMs: number;
  /**
   * Client side: a query with no answer after this long (the backend stopped, the network cut)
   * rejects as the database being unreachable (503 HERALD_ERR_DATABASE_UNAVAILABLE) and its
   * connection is closed, never reused. Above lockMs, so that a lock wait fails as busy first and
   * keeps its connection.
   */
  queryMs: number;
  /**
   * statement_timeout: above queryMs, so the client gives up first; this stops the work of a
   * statement whose client has gone.
   */
  statementMs: number;
}

/** Herald's bounds (see PoolBounds for why each is what it is, and docs/operations.md). */
export const POOL_BOUNDS: Readonly<PoolBounds> = {
  idleInTransactionMs: 10_000,
  lockMs: 15_000,
  queryMs: 20_000,
  statementMs: 25_000,
};

/**
 * Opening a connection, or waiting for a free one of the pool: past this the call rejects with
 * node-postgres's "timeout exceeded when trying to connect" or "Connection terminated due to
 * connection timeout", both answered as the database being unreachable.
 */
export const CONNECT_TIMEOUT_MS = 10_000;
/** TCP keep-alive on every connection: first probe after this long idle. */
export const KEEPALIVE_IDLE_MS = 10_000;
/** What the connections are called in pg_stat_activity (an application_name in the URL wins). */
export const APPLICATION_NAME = 'herald';

/** Connection settings shared by the pool and the LISTEN connection (notify.ts): no query bounds. */
export function connectionConfig(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
  };
}

/** A query that got no answer within PoolBounds.queryMs: its connection was closed. */
export class QueryTimeoutError extends Error {
  /** As a socket that timed out: store-unavailable.ts counts it as the database unreachable. */
  readonly code = 'ETIMEDOUT';
  constructor(ms: number, cause: unknown) {
    super(`the database did not answer within ${ms / 1000} s; the connection was closed`, { cause });
    this.name = 'QueryTimeoutError';
  }
}

/** node-postgres's message for a query past its query_timeout (pg/lib/client.js). */
const PG_QUERY_TIMEOUT = 'Query read timeout';

/**
 * A pool whose lost connections are reported to nobody: the calls that used them reject, later
 * calls reconnect. With `bounds` (the default), every call is bounded as PoolBounds says; `null`
 * is for migrations only, which may build an index on a big table or wait their turn on the
 * migration lock for as long as that takes.
 */
export function createPool(url: string, max: number, bounds: PoolBounds | null = POOL_BOUNDS): pg.Pool {
  const pool = new pg.Pool({
    ...connectionConfig(url),
    Client: NumberedClient,
    max,
    idleTimeoutMillis: 30_000,
    types: EXACT_JSON_TYPES,
    ...(bounds
      ? {
          query_timeout: bounds.queryMs,
          statement_timeout: bounds.statementMs,
          lock_timeout: bounds.lockMs,
          idle_in_transaction_session_timeout: bounds.idleInTransactionMs,
        }
      : {}),
  });
  // An idle client losing its connection (PostgreSQL restarting) is reported here; without a
  // handler it would crash the process. The pool drops that client; later calls reconnect.
  pool.on('error', () => undefined);
  // A checked-out client (inside a transaction) has no pool listener: a connection cut there
  // would be an unhandled 'error' event. Its queries reject anyway; the client is then discarded.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    if (bounds) closeOnTimeout(client, bounds.queryMs);
    markReadOnlyRefusals(pool, client);
    databaseReached(); // an outage's end, when one was logged (store-unavailable.ts)
  });
  handOutFresh(pool);
  return pool;
}

/**
 * Makes `pool.connect` (pool.query's too) skip the sessions marked stale (sawReadOnly, sawWritable):
 * each is discarded and another taken. Only transactions did (connectWritable): a write of one
 * statement through pool.query (a project, an endpoint, an API key created) found a session begun
 * on the standby after the URL led to the primary again and was refused (503), and reads there
 * read the standby, for as long as it stayed in the pool.
 */
function handOutFresh(pool: pg.Pool): void {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const fresh = async (): Promise<pg.PoolClient> => {
    for (;;) {
      const client = await connect().catch((error: unknown) => {
        raisedConnecting(error); // nothing of the call was sent (isConnectFailure)
        throw error;
      });
      if ((opened.get(client) ?? Number.POSITIVE_INFINITY) > (readOnlyAt.get(pool) ?? 0)) return client;
      client.release(true);
    }
  };
  type Done = (error: Error | undefined, client?: pg.PoolClient, release?: pg.PoolClient['release']) => void;
  (pool as { connect: unknown }).connect = (done?: Done) => {
    if (!done) return fresh();
    // The callback form: pg-pool's own query() uses it.
    fresh().then(
      (client) => done(undefined, client, client.release),
      (error: Error) => done(error),
    );
    return undefined;
  };
}

/**
 * A statement of `client` refused as read-only marks `pool` (sawReadOnly), whoever ran it: a
 * one-statement write through pool.query (a project, an endpoint, an API key created) as well as a
 * transaction's. Only transactions did: after a one-statement write was refused on the standby, the
 * sessions opened there stayed in the pool once the URL led to the primary again, each to refuse a
 * write when load reached it. (pg-pool discards the refusing session itself: its query failed.)
 */
function markReadOnlyRefusals(pool: pg.Pool, client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const seen = (error: unknown): void => {
    if (isStoreReadOnly(error)) sawReadOnly(pool);
  };
  (client as { query: unknown }).query = (...args: unknown[]): unknown => {
    const last = args.at(-1);
    if (typeof last === 'function') {
      // The callback form (pg-pool's pool.query).
      args[args.length - 1] = (error: unknown, result: unknown) => {
        if (error) seen(error);
        last(error, result);
      };
      return query(...args);
    }
    const out = query(...args);
    return out instanceof Promise
      ? out.catch((error: unknown) => {
          seen(error);
          throw error;
        })
      : out;
  };
}

/**
 * node-postgres rejects a query past query_timeout but leaves it the connection's active query:
 * the queries after it (a ROLLBACK, the next caller's once the pool has it back) would wait behind
 * it, and be answered with its late result. So the connection is closed at once (end() destroys
 * the socket of a client with a query active): the pool then discards it (a closed client is never
 * reused), a ROLLBACK after it fails at once (transaction() then discards it too), and the backend,
 * if it ever runs again, finds its client gone and rolls back. The error is replaced by a
 * QueryTimeoutError, which the API answers 503 for.
 */
function closeOnTimeout(client: pg.PoolClient, fallbackMs: number): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  // A query_timeout in the database URL's query string wins over the pool's (node-postgres).
  const set = (client as { connectionParameters?: { query_timeout?: unknown } }).connectionParameters;
  const ms = Number(set?.query_timeout) || fallbackMs;
  const timedOut = (error: unknown): unknown => {
    if (!(error instanceof Error) || error.message !== PG_QUERY_TIMEOUT) return error;
    void client.end();
    return new QueryTimeoutError(ms, error);
  };
  (client as { query: unknown }).query = (...args: unknown[]): unknown => {
    const last = args.at(-1);
    if (typeof last === 'function') {
      // The callback form (pg-pool's pool.query).
      args[args.length - 1] = (error: unknown, result: unknown) => last(error && timedOut(error), result);
      return query(...args);
    }
    const out = query(...args);
    return out instanceof Promise
      ? out.catch((error: unknown) => {
          throw timedOut(error);
        })
      : out;
  };
}

/**
 * Connections begun so far by every pool of this thread, numbering each (`opened`) when it is made,
 * before it connects: where it leads is decided then (a name resolved, a proxy's target), so one
 * begun before a switch back and logged in after a refusal that followed the switch still counts
 * among the connections begun before that refusal.
 */
let openings = 0;
const opened = new WeakMap<pg.Client, number>();

/** For pg-pool's `Client` option, which it calls with `new`: databaseClient(config), numbered (`opened`). */
const NumberedClient = function NumberedClient(config: pg.ClientConfig = {}) {
  const client = databaseClient(config);
  opened.set(client, ++openings);
  return client;
} as unknown as new (
  config?: pg.ClientConfig,
) => pg.Client;

/** Per pool: `openings` when a session of it last refused a write as read-only (sawReadOnly). */
const readOnlyAt = new WeakMap<pg.Pool, number>();
/** Pools that saw a read-only refusal and no write go through since (sawWritable). */
const unconfirmed = new WeakSet<pg.Pool>();

/**
 * A session of `pool` refused a write as read-only (isStoreReadOnly): the database URL led to a
 * standby (a failover's race, a URL corrected since). Every connection the pool opened until now
 * may lead there too, and the URL may lead to the primary again while the pool keeps them, busy
 * under load and never idle long enough to be closed: connectWritable discards them.
 */
export function sawReadOnly(pool: pg.Pool): void {
  readOnlyAt.set(pool, openings);
  unconfirmed.add(pool);
}

/**
 * A write went through on `client` (its server found writable: committed, ping) after `pool` saw a read-only
 * refusal: the URL leads to a server that takes writes again, and did when `client` was begun. The
 * connections begun after the last refusal and before `client` may still lead to the standby: begun
 * before the switch back, idle since under newer ones (the pool hands out the last returned first),
 * they would each refuse a write whenever load reached that deep, seconds later. connectWritable
 * discards them too; `client` and the ones begun after it stay. Once per refusal: otherwise every
 * new connection's first write would retire the older ones.
 */
export function sawWritable(pool: pg.Pool, client: pg.PoolClient): void {
  if (!unconfirmed.has(pool)) return;
  const begun = opened.get(client);
  // Begun before the refusal (a write that began before it and committed after, on the server the
  // URL led to before the standby): it says nothing of where the URL leads now.
  if (begun === undefined || begun <= (readOnlyAt.get(pool) ?? 0)) return;
  unconfirmed.delete(pool);
  readOnlyAt.set(pool, begun - 1);
}

/**
 * sawWritable after a transaction on `client` committed, once the server says it takes writes: a
 * transaction that wrote nothing (a claim with every endpoint left out, a look that found nothing
 * to change) commits on a standby too, and taken for a write going through it kept the sessions
 * begun on the standby after its own, which then refused writes once the URL led to the primary
 * again. The question costs a round trip only between a refusal and the first write through.
 */
export async function committed(pool: pg.Pool, client: pg.PoolClient): Promise<void> {
  if (!unconfirmed.has(pool)) return;
  const begun = opened.get(client);
  if (begun === undefined || begun <= (readOnlyAt.get(pool) ?? 0)) return;
  const readOnly = await client
    .query("SELECT current_setting('transaction_read_only') AS read_only")
    .then((r) => (r.rows[0] as { read_only?: string } | undefined)?.read_only !== 'off')
    .catch(() => true); // unknown: not a write going through (the commit stands)
  if (!readOnly) sawWritable(pool, client);
}

/**
 * A connection of `pool` for a write: one begun before its last read-only refusal (sawReadOnly),
 * or before the write that went through after it (sawWritable), is discarded and another taken, so
 * that each stale session costs no more than the write that found it, and none is found once
 * writes go through again. Every pool.connect of a pool made by createPool does so (handOutFresh),
 * pool.query's included.
 */
export function connectWritable(pool: pg.Pool): Promise<pg.PoolClient> {
  return pool.connect();
}

/**
 * How Herald's transactions begin: at READ COMMITTED whatever the database's or role's
 * default_transaction_isolation, which an operator may have set stricter. Herald's writes are
 * built for it: an accept claiming an idempotency key held by another transaction waits for it and
 * then reads its event (accept-batch.ts), where repeatable read or serializable fail with 40001
 * (every accept of that group answered 503 instead of the event for the race). Same round trip.
 */
export const BEGIN = 'BEGIN ISOLATION LEVEL READ COMMITTED';

/**
 * Runs `fn` in one transaction on one connection (connectWritable); a connection that cannot roll
 * back is discarded, and so is one whose server refused a write as read-only (sawReadOnly).
 */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await connectWritable(pool);
  let broken = false;
  try {
    await client.query(BEGIN);
    try {
      const out = await fn(client);
      await client.query('COMMIT');
      await committed(pool, client);
      return out;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    }
  } catch (error) {
    // BEGIN or COMMIT timed out: the connection is closed (closeOnTimeout).
    if (error instanceof QueryTimeoutError) broken = true;
    if (isStoreReadOnly(error)) {
      broken = true;
      sawReadOnly(pool);
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
