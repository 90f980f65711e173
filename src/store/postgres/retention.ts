/**
 * Store.purgeBefore for PostgreSQL: one bounded batch per call in one short transaction, walking a
 * project's events by age (index events_created) from a cursor. Several processes may run purgers:
 * a transaction-scoped advisory lock per project lets one of them work on a project at a time (the
 * others skip it for this round). A batch also ends at the event whose payload brings the bytes it
 * deletes to purgeBytes.postgres (purge-bytes.ts): a large event costs its bytes.
 */
import type pg from 'pg';
import { takeWithinBudget } from '../page-budget.ts';
import { purgeBytes } from '../purge-bytes.ts';
import { decodePurgeCursor, encodePurgeCursor } from '../purge-cursor.ts';
import { takeWithinRows } from '../purge-rows.ts';
import type { PurgeResult } from '../store.ts';

/**
 * First half of the advisory lock key of retention (the second is the project id's hash); a replay
 * batch takes it too (replay-missing.ts).
 */
export const PURGE_LOCK_CLASS = 4_877_001;

/**
 * Deliveries and attempts one batch deletes, about: a batch takes events while their deliveries and
 * attempts (as the deliveries count them) stay within this, at least one, and deletes attempts at
 * most this many at a time. An event's deliveries go with it, in one transaction, so an event
 * fanned out to more endpoints than this costs its fan-out, as accepting it did.
 */
export const PURGE_BATCH_ROWS = 10_000;

/** An event's rows: its deliveries (at most PURGE_BATCH_ROWS of them) and their attempts. */
const EVENT_ROWS_SQL = `SELECT count(*) + coalesce(sum(x.attempts), 0) AS n FROM (
  SELECT d.attempts FROM deliveries d WHERE d.project_id = $1 AND d.event_id = e.id LIMIT $6) x`;

const NOTHING: PurgeResult = { events: 0, deliveries: 0, attempts: 0, operationalEvents: 0, next: null };

/** Runs `fn` in a transaction on one pooled connection (the store's #tx). */
export type InTransaction = <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

export async function purgeBeforePostgres(
  tx: InTransaction,
  projectId: string,
  cutoff: number,
  limit: number,
  after: string | null,
): Promise<PurgeResult> {
  const n = Math.max(1, Math.floor(limit));
  return tx(async (client) => {
    const lock = await client.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1::int, hashtext($2)) AS ok',
      [PURGE_LOCK_CLASS, projectId],
    );
    // Another process is purging this project, or a replay batch is giving its events deliveries
    // (replay-missing.ts): skip it this round.
    if (!lock.rows[0]?.ok) return { ...NOTHING };
    return purgeBatch(client, projectId, cutoff, n, after);
  });
}

async function purgeBatch(
  c: pg.PoolClient,
  projectId: string,
  cutoff: number,
  n: number,
  after: string | null,
): Promise<PurgeResult> {
  const from = decodePurgeCursor(after);
  // The next events made before the cutoff, one index step at a time while the rows seen so far
  // (each event's deliveries and their attempts, counted on at most PURGE_BATCH_ROWS deliveries)
  // are within the bound, so an event past it is the last one read. `done` when all their
  // deliveries are finished and untouched since the cutoff (pending, parked and claimed ones are
  // never purged), as this transaction's snapshot sees them; `bytes` is the payload's stored size.
  const { rows: walked } = await c.query<{
    id: string;
    created_at: string;
    rows: string;
    bytes: number;
    done: boolean;
  }>(
    `WITH RECURSIVE walk AS (
       (SELECT e.created_at, e.id, 1 AS k, r.n AS rows, r.n AS total
        FROM events e CROSS JOIN LATERAL (${EVENT_ROWS_SQL}) r
        WHERE e.project_id = $1 AND e.created_at < $2 AND (e.created_at, e.id) > ($3::bigint, $4::text)
        ORDER BY e.created_at, e.id LIMIT 1)
       UNION ALL
       (SELECT e.created_at, e.id, w.k + 1, r.n, w.total + r.n
        FROM walk w
        CROSS JOIN LATERAL (SELECT e.created_at, e.id FROM events e
          WHERE e.project_id = $1 AND e.created_at < $2 AND (e.created_at, e.id) > (w.created_at, w.id)
          ORDER BY e.created_at, e.id LIMIT 1) e
        CROSS JOIN LATERAL (${EVENT_ROWS_SQL}) r
        WHERE w.k < $5 AND w.total <= $6))
     SELECT w.id, w.created_at, w.rows, pg_column_size(e.payload) AS bytes,
       NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.project_id = $1 AND d.event_id = w.id
                   AND (d.status NOT IN ('succeeded', 'failed') OR d.updated_at >= $2)) AS done
     FROM walk w JOIN events e ON e.project_id = $1 AND e.id = w.id
     ORDER BY w.k`,
    [projectId, cutoff, from.createdAt, from.id, n, PURGE_BATCH_ROWS],
  );
  const byRows = takeWithinRows(walked, PURGE_BATCH_ROWS, (e) => Number(e.rows));
  // The walk stops at the event past the bound, the first one too (kept, alone): more may follow.
  const pastRows = walked.reduce((sum, e) => sum + Number(e.rows), 0) > PURGE_BATCH_ROWS;
  // Up to the event whose payload reaches the bound; the next batch goes on after it.
  const { rows: batch, cut } = takeWithinBudget(
    byRows.rows,
    n,
    (e) => (e.done ? Number(e.bytes) : 0),
    purgeBytes.postgres,
  );
  const last = batch.at(-1);
  const position = last ? encodePurgeCursor(Number(last.created_at), last.id) : (after ?? '');
  // Their attempts first, at most PURGE_BATCH_ROWS, up to the one whose request and response (their
  // stored sizes) bring them to purgeBytes.postgres: those started before the cutoff, which is all
  // of those of an event that goes (its deliveries were last touched before it), and the old ones
  // of an event kept (still in use, e.g. parked for longer than the retention). They go whatever
  // a retry committed meanwhile does to their event. When that many went there may be more: the
  // same events are looked at again by the next batch, the cursor not moving past them. An attempt
  // holds its request body as sent when it is not the event's envelope (a form body, a GET query,
  // sha256-body: ~3 times the payload) and up to 64 KiB of response: counted by number alone, a
  // batch of 10,000 attempts of a 1 MiB event's form body was ~30 GB to delete.
  // In one statement, sized and taken in id order as takeWithinBudget takes them: each attempt
  // whose predecessors hold less than the bound.
  const { rows: deleted } = await c.query<{ deleted: string; seen: string }>(
    `WITH a AS (
       SELECT id, pg_column_size(request) + coalesce(pg_column_size(response), 0) AS bytes
       FROM attempts WHERE project_id = $1 AND event_id = ANY($2::text[]) AND started_at < $3
       LIMIT $4
     ), s AS (
       SELECT id, coalesce(sum(bytes) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
         AS before
       FROM a
     ), d AS (
       DELETE FROM attempts t USING s WHERE t.project_id = $1 AND t.id = s.id AND s.before < $5 RETURNING 1
     )
     SELECT (SELECT count(*) FROM d) AS deleted, (SELECT count(*) FROM a) AS seen`,
    [projectId, batch.map((e) => e.id), cutoff, PURGE_BATCH_ROWS, purgeBytes.postgres],
  );
  let attempts = Number(deleted[0]!.deleted);
  const seen = Number(deleted[0]!.seen);
  const full = seen === PURGE_BATCH_ROWS || attempts < seen;
  const candidates = full ? [] : batch.filter((e) => e.done).map((e) => e.id);
  let deliveries = 0;
  let events = 0;
  if (candidates.length) {
    // An event goes whole or not at all. Its deliveries are locked, in key order, and read as last
    // committed: a retry committed since the snapshot shows, one under way is waited for, and none
    // can start until this commits. Only the events all of whose deliveries are still finished are
    // purged, with exactly those deliveries. (Deleting them with a status check on each row left an
    // event retried meanwhile with only its retried delivery.)
    const { rows: locked } = await c.query<{
      id: string;
      event_id: string;
      status: string;
      updated_at: string;
    }>(
      `SELECT id, event_id, status, updated_at FROM deliveries
       WHERE project_id = $1 AND event_id = ANY($2::text[])
       ORDER BY project_id, id FOR UPDATE`,
      [projectId, candidates],
    );
    const inUse = new Set(
      locked
        .filter((d) => !(d.status === 'succeeded' || d.status === 'failed') || Number(d.updated_at) >= cutoff)
        .map((d) => d.event_id),
    );
    const purged = candidates.filter((id) => !inUse.has(id));
    const doomed = locked.filter((d) => !inUse.has(d.event_id)).map((d) => d.id);
    if (doomed.length) {
      deliveries =
        (
          await c.query('DELETE FROM deliveries WHERE project_id = $1 AND id = ANY($2::text[])', [
            projectId,
            doomed,
          ])
        ).rowCount ?? 0;
    }
    const gone = await c.query<{ id: string; idempotency_key: string | null }>(
      `DELETE FROM events e WHERE e.project_id = $1 AND e.id = ANY($2::text[])
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.project_id = $1 AND d.event_id = e.id)
       RETURNING e.id, e.idempotency_key`,
      [projectId, purged],
    );
    events = gone.rows.length;
    if (events) {
      // Any attempt of theirs left (one started after the cutoff by a clock ahead of the database's).
      attempts +=
        (
          await c.query('DELETE FROM attempts WHERE project_id = $1 AND event_id = ANY($2::text[])', [
            projectId,
            gone.rows.map((r) => r.id),
          ])
        ).rowCount ?? 0;
      const keyed = gone.rows.filter((r) => r.idempotency_key !== null);
      if (keyed.length) {
        await c.query(
          `DELETE FROM idempotency_keys k USING unnest($2::text[], $3::text[]) AS v(key, event_id)
           WHERE k.project_id = $1 AND k.key = v.key AND k.event_id = v.event_id`,
          [projectId, keyed.map((r) => r.idempotency_key), keyed.map((r) => r.id)],
        );
      }
    }
  }
  const operationalEvents =
    (
      await c.query(
        `DELETE FROM operational_events WHERE project_id = $1 AND id IN (
           SELECT id FROM operational_events WHERE project_id = $1 AND created_at < $2 LIMIT $3)`,
        [projectId, cutoff, n],
      )
    ).rowCount ?? 0;
  // Rate-limit state idle since the cutoff is the same as none (deleted endpoints leave such rows).
  await c.query('DELETE FROM endpoint_rate_limits WHERE project_id = $1 AND tat < $2', [projectId, cutoff]);
  return {
    events,
    deliveries,
    attempts,
    operationalEvents,
    next: full
      ? (after ?? '')
      : pastRows || cut || batch.length === n || operationalEvents === n
        ? position
        : null,
  };
}
