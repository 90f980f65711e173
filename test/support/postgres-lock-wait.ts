/**
 * For tests that hold a row lock in another session at a racy point and watch a store's statement
 * come to wait for it (rather than sleeping and hoping): PostgreSQL's own view of who waits.
 */
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { TestPostgres } from './postgres.ts';

/** Whether a session of the database comes to wait for a lock on a statement naming `table` (5 s at most). */
export async function lockWaitOn(watch: pg.Client, table: string): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await watch.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
      [`%${table}%`],
    );
    if (rows[0].n > 0) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/**
 * Runs `fn` on a new database of `server`, migrated, with a store, a session standing for another
 * process (`other`) and one to watch the locks with; all closed after.
 */
export async function withLockSessions(
  server: Pick<TestPostgres, 'createDatabase'>,
  fn: (store: PostgresStore, other: pg.Client, watch: pg.Client) => Promise<void>,
): Promise<void> {
  const url = await server.createDatabase();
  const store = new PostgresStore(url);
  await store.migrate();
  const other = new pg.Client(url);
  const watch = new pg.Client(url);
  await other.connect();
  await watch.connect();
  try {
    await fn(store, other, watch);
  } finally {
    await other.end();
    await watch.end();
    await store.close();
  }
}
