/**
 * Store.purgeBefore for SQLite: one bounded batch per call, in one savepoint of the store's group
 * commit (the caller's transaction), walking a
 * project's events by age (index events_created) from a cursor, so a batch costs what it looks at,
 * not the size of the tables. The store's other writes wait at most one batch.
 */
import type { DatabaseSync } from 'node:sqlite';
import { decodePurgeCursor, encodePurgeCursor } from '../purge-cursor.ts';
import type { PurgeResult } from '../store.ts';
import { all, run } from './db-helpers.ts';

export function purgeBeforeSqlite(
  db: DatabaseSync,
  projectId: string,
  cutoff: number,
  limit: number,
  after: string | null,
): PurgeResult {
  const n = Math.max(1, Math.floor(limit));
  const from = decodePurgeCursor(after);
  // The next events made before the cutoff; `done` when all their deliveries are finished and
  // untouched since the cutoff (pending, parked and claimed ones are never purged).
  const batch = all(
    db,
    `SELECT e.id, e.created_at, e.idempotency_key,
       NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.project_id = e.project_id AND d.event_id = e.id
                   AND (d.status NOT IN ('succeeded', 'failed') OR d.updated_at >= ?)) AS done
     FROM events e
     WHERE e.project_id = ? AND e.created_at < ? AND (e.created_at, e.id) > (?, ?)
     ORDER BY e.created_at, e.id LIMIT ?`,
    cutoff,
    projectId,
    cutoff,
    from.createdAt,
    from.id,
    n,
  );
  const gone = batch.filter((e) => Number(e.done) === 1);
  const kept = batch.filter((e) => Number(e.done) !== 1);
  const inIds = '(SELECT value FROM json_each(?))';
  let attempts = 0;
  let deliveries = 0;
  if (gone.length) {
    const ids = JSON.stringify(gone.map((e) => String(e.id)));
    attempts += run(db, `DELETE FROM attempts WHERE project_id = ? AND event_id IN ${inIds}`, projectId, ids);
    deliveries = run(
      db,
      `DELETE FROM deliveries WHERE project_id = ? AND event_id IN ${inIds}`,
      projectId,
      ids,
    );
    for (const e of gone) {
      if (e.idempotency_key == null) continue;
      run(
        db,
        'DELETE FROM idempotency_keys WHERE project_id = ? AND key = ? AND event_id = ?',
        projectId,
        String(e.idempotency_key),
        String(e.id),
      );
    }
    run(db, `DELETE FROM events WHERE project_id = ? AND id IN ${inIds}`, projectId, ids);
  }
  if (kept.length) {
    // Still in use (e.g. parked for longer than the retention): only their old attempts go.
    attempts += run(
      db,
      `DELETE FROM attempts WHERE project_id = ? AND event_id IN ${inIds} AND started_at < ?`,
      projectId,
      JSON.stringify(kept.map((e) => String(e.id))),
      cutoff,
    );
  }
  const operationalEvents = run(
    db,
    `DELETE FROM operational_events WHERE rowid IN (
       SELECT rowid FROM operational_events WHERE project_id = ? AND created_at < ? LIMIT ?)`,
    projectId,
    cutoff,
    n,
  );
  // Rate-limit state idle since the cutoff is the same as none (deleted endpoints leave such rows).
  run(db, 'DELETE FROM endpoint_rate_limits WHERE project_id = ? AND tat < ?', projectId, cutoff);
  const last = batch.at(-1);
  const position = last ? encodePurgeCursor(Number(last.created_at), String(last.id)) : (after ?? '');
  return {
    events: gone.length,
    deliveries,
    attempts,
    operationalEvents,
    next: batch.length === n || operationalEvents === n ? position : null,
  };
}
