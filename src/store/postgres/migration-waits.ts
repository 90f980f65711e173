/**
 * What a migration session waits for, said while it waits. A migration waits without a bound (its
 * pool has no lock_timeout: pool.ts) for the migration lock, which another process's migrations
 * hold, or for a lock on a table it changes, which any open transaction that touched the table
 * holds (a psql session left idle in transaction, a long report): `herald migrate` and serve's
 * start then said nothing at all for as long as that lasted. Read on a connection of its own,
 * since the migration's is busy waiting.
 */
import type { Pool } from 'pg';

/** One session holding what the migration waits for (pg_stat_activity). */
interface Holder {
  pid: number;
  application_name: string | null;
  client_addr: string | null;
  state: string | null;
  xact_seconds: number | null;
}

/** The lock the migration session waits for (pg_locks, not granted), and who holds it. */
const WAIT_SQL = `
  SELECT l.locktype, l.relation::regclass::text AS relation,
    COALESCE((
      SELECT json_agg(json_build_object(
        'pid', b.pid, 'application_name', b.application_name, 'client_addr', host(b.client_addr),
        'state', b.state, 'xact_seconds', floor(extract(epoch FROM now() - b.xact_start))::int
      ) ORDER BY b.pid)
      FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids($1))
    ), '[]'::json) AS holders
  FROM pg_locks l WHERE l.pid = $1 AND NOT l.granted LIMIT 1`;

/** The sentence for a wait of `waitedMs` on a lock. */
export function describeMigrationWait(
  wait: { locktype: string; relation: string | null; holders: Holder[] },
  waitedMs: number,
  migration: string | null,
): string {
  const seconds = Math.round(waitedMs / 1000);
  const who = wait.holders.map(describeHolder).join(' and ') || 'a session that is gone now';
  if (wait.locktype === 'advisory') {
    return `waiting ${seconds} s for the migration lock, which another process migrating this database holds: ${who}; it goes on once that process is done`;
  }
  const what = wait.relation ? `table ${wait.relation}` : `a ${wait.locktype} lock`;
  return `migration ${migration ?? '?'} has waited ${seconds} s for a lock on ${what}, held by ${who}; it goes on once that transaction ends (pg_terminate_backend(pid) ends it). Meanwhile running Herald processes' writes to it (and reads, for a migration that drops an index) wait behind it, and fail after their lock_timeout`;
}

function describeHolder(h: Holder): string {
  const parts: string[] = [];
  if (h.application_name) parts.push(`application ${h.application_name}`);
  if (h.client_addr) parts.push(`from ${h.client_addr}`);
  if (h.state) parts.push(h.state);
  if (h.xact_seconds !== null) parts.push(`transaction open for ${h.xact_seconds} s`);
  return `pid ${h.pid} (${parts.join(', ')})`;
}

/** What the migration session is at: the file it runs (null before it holds the migration lock), since when. */
export interface MigrationStep {
  file: string | null;
  since: number;
}

/**
 * Every `everyMs` until stopped, reports what session `pid` waits for, when it waits on a lock
 * (not while it works: an index build on a big table is not a wait). Failures of the watch itself
 * are ignored: it only informs, and the migration's own errors are what count.
 */
export function watchMigrationWaits(
  pool: Pool,
  pid: number,
  step: Readonly<MigrationStep>,
  report: (line: string) => void,
  everyMs: number,
): { stop(): Promise<void> } {
  let stopped = false;
  /** The look under way, if any: a tick while one is under way (a slow server) is skipped. */
  let running: Promise<void> | null = null;
  const look = async () => {
    const { file, since } = step;
    const row = (await pool.query(WAIT_SQL, [pid])).rows[0];
    if (row && !stopped) report(describeMigrationWait(row, Date.now() - since, file));
  };
  const timer = setInterval(() => {
    running ??= look()
      .catch(() => undefined)
      .finally(() => {
        running = null;
      });
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
