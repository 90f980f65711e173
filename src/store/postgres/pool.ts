/** The PostgreSQL store's connection pool, and transactions on one of its connections. */
import pg from 'pg';
import { EXACT_JSON_TYPES } from './rows.ts';

/** A pool whose lost connections are reported to nobody: the calls that used them reject, later calls reconnect. */
export function createPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    types: EXACT_JSON_TYPES,
  });
  // An idle client losing its connection (PostgreSQL restarting) is reported here; without a
  // handler it would crash the process. The pool drops that client; later calls reconnect.
  pool.on('error', () => undefined);
  // A checked-out client (inside a transaction) has no pool listener: a connection cut there
  // would be an unhandled 'error' event. Its queries reject anyway; the client is then discarded.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

/** Runs `fn` in one transaction on one connection; a connection that cannot roll back is discarded. */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    try {
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}
