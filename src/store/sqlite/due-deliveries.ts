/**
 * Deliveries made due again for the SQLite store (a retry, a recovery, claimed deliveries and
 * claims handed back) and the backlog of pending ones. Writes run inside one of the store's group
 * commits and return how many rows they changed.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Backlog, ReleaseItem } from '../store.ts';
import { get, run } from './db-helpers.ts';

/** One delivery, whatever its state, pending and due at `now`. */
export function retryDeliverySqlite(
  db: DatabaseSync,
  projectId: string,
  deliveryId: string,
  now: number,
): number {
  // A lease is leased_by with next_attempt_at at its end (claims.ts): left alone while it runs.
  return run(
    db,
    `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, leased_by = NULL, updated_at = ?
     WHERE project_id = ? AND id = ?
       AND NOT (status = 'pending' AND leased_by IS NOT NULL AND next_attempt_at > ?)`,
    now,
    now,
    projectId,
    deliveryId,
    now,
  );
}

/** The endpoint's failed deliveries created in [since, until], pending and due at `now`. */
export function recoverDeliveriesSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  since: number,
  until: number,
  now: number,
): number {
  return run(
    db,
    `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, leased_by = NULL, updated_at = ?
     WHERE project_id = ? AND endpoint_id = ? AND status = 'failed' AND created_at >= ? AND created_at <= ?`,
    now,
    now,
    projectId,
    endpointId,
    since,
    until,
  );
}

export function releaseDeliveriesSqlite(db: DatabaseSync, items: ReleaseItem[]): void {
  for (const it of items) {
    run(
      db,
      `UPDATE deliveries SET status = ?, next_attempt_at = ?, leased_by = NULL, rate_deferred = ?
       WHERE project_id = ? AND id = ? AND status = 'pending'
         AND (? IS NULL OR leased_by IS NULL OR leased_by = ?)`,
      it.status ?? 'pending',
      it.nextAttemptAt,
      it.rateLimited ? 1 : 0,
      it.projectId,
      it.deliveryId,
      it.heldBy ?? null,
      it.heldBy ?? null,
    );
  }
}

/** Every claim of `workerId` (with '*', every claim) due at `now`. */
export function releaseClaimsSqlite(db: DatabaseSync, workerId: string, now: number): number {
  return workerId === '*'
    ? run(
        db,
        "UPDATE deliveries SET next_attempt_at = ?, leased_by = NULL WHERE status = 'pending' AND leased_by IS NOT NULL",
        now,
      )
    : run(
        db,
        "UPDATE deliveries SET next_attempt_at = ?, leased_by = NULL WHERE status = 'pending' AND leased_by = ?",
        now,
        workerId,
      );
}

export function backlogSqlite(db: DatabaseSync, now: number): Backlog {
  // Two statements, both on the covering index deliveries_due: the count walks it (12 ms at
  // 1,000,000 pending), the oldest is its first entry. One statement with both walked it reading
  // every entry's value (40 ms), on the thread that also accepts or delivers.
  const count = get(db, `SELECT COUNT(*) AS pending FROM deliveries WHERE status = 'pending'`);
  const oldest = get(
    db,
    `SELECT next_attempt_at FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
     ORDER BY next_attempt_at LIMIT 1`,
    now,
  );
  return {
    pending: Number(count?.pending ?? 0),
    oldestDueAt: oldest ? Number(oldest.next_attempt_at) : null,
  };
}
