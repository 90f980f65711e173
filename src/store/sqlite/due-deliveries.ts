/**
 * Deliveries made due again for the SQLite store (a retry, a recovery, claimed deliveries and
 * claims handed back) and the backlog of pending ones. Writes run inside one of the store's group
 * commits and return how many rows they changed.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { RateLimit } from '../../domain/types.ts';
import { dueUnderLimit, putOffByLimit } from '../rate-deferred.ts';
import type { RecoverBatchDone, RecoverCursor } from '../recover-batch.ts';
import type { Backlog, ReleaseItem } from '../store.ts';
import { all, get, run } from './db-helpers.ts';
import type { Row } from './rows.ts';

/**
 * One delivery, whatever its state, pending and due at `now`; or why not, read in the same write: no
 * such delivery, or its project's delete began (`gone`: it closed the project's callbacks, and one
 * reopened would be claimed and sent until the history steps delete it), its endpoint deleted or
 * disabled, or a lease running on it (`in-flight`).
 */
export function retryDeliverySqlite(
  db: DatabaseSync,
  projectId: string,
  deliveryId: string,
  now: number,
): 'retried' | 'gone' | 'in-flight' | 'endpoint-deleted' | 'endpoint-disabled' {
  const found = get(
    db,
    `SELECT d.endpoint_id, e.status AS endpoint_status FROM deliveries d
     JOIN projects p ON p.id = d.project_id AND NOT p.deleting
     LEFT JOIN endpoints e ON e.project_id = d.project_id AND e.id = d.endpoint_id
     WHERE d.project_id = ? AND d.id = ?`,
    projectId,
    deliveryId,
  );
  if (!found) return 'gone';
  if (found.endpoint_id !== null && found.endpoint_status === null) return 'endpoint-deleted';
  if (found.endpoint_status === 'disabled') return 'endpoint-disabled';
  // A lease is leased_by with next_attempt_at at its end (claims.ts): left alone while it runs.
  const changed = run(
    db,
    `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, due_since = ?, leased_by = NULL, held_until = NULL,
       updated_at = ?
     WHERE project_id = ? AND id = ?
       AND NOT (status = 'pending' AND leased_by IS NOT NULL AND next_attempt_at > ?)`,
    now,
    now,
    now,
    projectId,
    deliveryId,
    now,
  );
  return changed ? 'retried' : 'in-flight';
}

export const RECOVER_SCAN_SQL = `SELECT rowid AS r, id, created_at FROM deliveries
  WHERE project_id = ? AND endpoint_id = ? AND status = 'failed' AND (created_at, id) > (?, ?) AND created_at <= ?
  ORDER BY created_at, id LIMIT ?`;

/**
 * One batch of a recover: the endpoint's next `limit` failed deliveries after `from`, created until
 * `until`, made pending and due at `now`. A walk of index deliveries_failed from the cursor.
 */
export function recoverDeliveriesSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  until: number,
  now: number,
  from: RecoverCursor,
  limit: number,
): RecoverBatchDone {
  const endpoint = get(
    db,
    'SELECT status FROM endpoints WHERE project_id = ? AND id = ?',
    projectId,
    endpointId,
  );
  // Deleted between two batches: its deliveries were closed for good (endpoint-writes.ts).
  if (!endpoint) return { recovered: 0, next: null };
  // Disabled since the caller looked: made pending, they would wait on it for a claim to park them.
  if (endpoint.status === 'disabled') return { recovered: 0, next: null, disabled: true };
  const rows: Row[] = all(db, RECOVER_SCAN_SQL, projectId, endpointId, from.createdAt, from.id, until, limit);
  const recovered = rows.length
    ? run(
        db,
        `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, due_since = ?, leased_by = NULL, held_until = NULL,
           updated_at = ?
         WHERE rowid IN (SELECT value FROM json_each(?)) AND status = 'failed'`,
        now,
        now,
        now,
        JSON.stringify(rows.map((row) => Number(row.r))),
      )
    : 0;
  const last = rows.at(-1);
  return {
    recovered,
    next: last && rows.length === limit ? { createdAt: Number(last.created_at), id: String(last.id) } : null,
  };
}

/**
 * Claimed deliveries handed back. One handed back `parked` (the dispatcher's view of its endpoint
 * said disabled) is parked only if its endpoint is disabled in the store as this write runs: a view
 * from before an enable would otherwise park a delivery of an active endpoint, which nothing claims
 * or resumes. Otherwise it is pending, claimed again from its time on, as any hand-back.
 *
 * Unsent, it keeps its place in the due order: next_attempt_at goes back to when it became due
 * (due_since; the claim moved it to the lease's end), and held_until keeps claims off it until its
 * time. Moved to that time, it went behind everything that had become due meanwhile: under a
 * steady backlog a failing endpoint's queue, handed back due a second later at each failure, was
 * claimed and handed back again and again, and the oldest due waited without bound. One put off by
 * its endpoint's rate limit is due at its time, as a retry is: it is not due before.
 *
 * Handed back by a worker (heldBy), it changes only while its last lease is the claim handed back
 * (leasedUntil: lease_until, which a lease sets to its end and keeps once it is over, migration
 * 0026), leased to that worker or to none: an older claim of the same worker, whose lease ran out
 * and which that worker claimed again, leaves the newer claim alone; and once another worker has
 * claimed it since, that worker's hand-back (put off by a rate limit, held while its endpoint is
 * paused) or attempt record (a retry) stands: a late hand-back of the older claim would make it due
 * at that claim's time, before the limit, the pause or the backoff lets it go. Leased to none, it
 * changes only while its attempts are still those the claim read too (ReleaseItem.attempts).
 */
export function releaseDeliveriesSqlite(db: DatabaseSync, items: ReleaseItem[]): void {
  for (const item of items) {
    const it = underLimitSince(db, item); // put off under a limit removed or raised since (rate-deferred.ts)
    run(
      db,
      `UPDATE deliveries SET status = CASE WHEN ?1 = 'parked' AND EXISTS (SELECT 1 FROM endpoints e
           WHERE e.project_id = deliveries.project_id AND e.id = deliveries.endpoint_id AND e.status = 'disabled')
         THEN 'parked' ELSE 'pending' END,
         next_attempt_at = CASE WHEN ?3 = 1 OR due_since IS NULL THEN ?2 ELSE min(due_since, ?2) END,
         held_until = CASE WHEN ?3 = 1 OR due_since IS NULL THEN NULL ELSE ?2 END,
         leased_by = NULL, rate_deferred = ?3,
         due_since = CASE WHEN ?3 = 1 OR due_since IS NULL THEN ?2 ELSE due_since END
       WHERE project_id = ?4 AND id = ?5 AND status = 'pending'
         AND (?6 IS NULL OR ((leased_by = ?6 OR (leased_by IS NULL AND (?8 IS NULL OR attempts = ?8)))
           AND (?7 IS NULL OR lease_until = ?7)))`,
      it.status ?? 'pending',
      it.nextAttemptAt,
      it.rateLimited ? 1 : 0,
      it.projectId,
      it.deliveryId,
      it.heldBy ?? null,
      it.leasedUntil ?? null,
      it.attempts ?? null,
    );
  }
}

/** The limit of the hand-back's endpoint as this write reads it (rate-deferred.ts). */
function underLimitSince(db: DatabaseSync, it: ReleaseItem): ReleaseItem {
  if (!putOffByLimit(it)) return it;
  const row = get(
    db,
    `SELECT e.rate_limit, e.updated_at FROM deliveries d
     JOIN endpoints e ON e.project_id = d.project_id AND e.id = d.endpoint_id
     WHERE d.project_id = ? AND d.id = ?`,
    it.projectId,
    it.deliveryId,
  );
  return dueUnderLimit(
    it,
    row
      ? {
          rateLimit: row.rate_limit === null ? null : (JSON.parse(String(row.rate_limit)) as RateLimit),
          updatedAt: Number(row.updated_at),
        }
      : null,
  );
}

/**
 * Every claim of `workerId` (with '*', every claim) due at `now`, in its place in the due order:
 * back to when it became due (due_since; the claim moved next_attempt_at to its lease's end). Due
 * at `now` instead, the attempts in flight at a crash went behind every delivery that had come due
 * since, a whole backlog after a long stop.
 */
export function releaseClaimsSqlite(db: DatabaseSync, workerId: string, now: number): number {
  const set = 'next_attempt_at = min(coalesce(due_since, ?1), ?1), held_until = NULL, leased_by = NULL';
  return workerId === '*'
    ? run(db, `UPDATE deliveries SET ${set} WHERE status = 'pending' AND leased_by IS NOT NULL`, now)
    : run(db, `UPDATE deliveries SET ${set} WHERE status = 'pending' AND leased_by = ?2`, now, workerId);
}

export function backlogSqlite(db: DatabaseSync, now: number): Backlog {
  // Two statements: the count walks the covering index deliveries_due (12 ms at 1,000,000
  // pending), the oldest is the first entry of deliveries_due_since (migration 0020). One statement
  // with both walked an index reading every entry's value (40 ms), on the thread that also accepts
  // or delivers. Claimed ones count (an attempt in flight, or held behind its endpoint's cap, has
  // not delivered it): from the time it became due, not a lease's end or a hand-back's time, so a
  // delivery claimed again and again and never sent (restarts, a worker stopped) reads later and later.
  const count = get(db, `SELECT COUNT(*) AS pending FROM deliveries WHERE status = 'pending'`);
  const oldest = get(
    db,
    `SELECT due_since FROM deliveries WHERE status = 'pending' AND due_since <= ?
     ORDER BY due_since LIMIT 1`,
    now,
  );
  return {
    pending: Number(count?.pending ?? 0),
    oldestDueAt: oldest ? Number(oldest.due_since) : null,
  };
}
