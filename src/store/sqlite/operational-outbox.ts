/**
 * The operational-event outbox for SQLite (operational_events.forwarded_at, migration 0002) and the
 * `delivery.exhausted` record written with the attempt that failed a delivery for good.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { OperationalEvent } from '../../domain/types.ts';
import { exhaustedData } from '../exhausted.ts';
import type { AttemptRecord } from '../store.ts';
import { all, get, run } from './db-helpers.ts';
import { insertOperationalEventSqlite } from './endpoint-writes.ts';
import { toOperationalEvent } from './rows.ts';

export function listUnforwardedSqlite(db: DatabaseSync, limit: number): OperationalEvent[] {
  return all(
    db,
    'SELECT * FROM operational_events WHERE forwarded_at IS NULL ORDER BY created_at, id LIMIT ?',
    Math.max(1, Math.floor(limit)),
  ).map(toOperationalEvent);
}

/** Runs inside the caller's transaction (a savepoint of the store's group commit). */
export function markForwardedSqlite(
  db: DatabaseSync,
  refs: { projectId: string; id: string }[],
  now: number,
): void {
  if (refs.length === 0) return;
  for (const r of refs) {
    run(
      db,
      'UPDATE operational_events SET forwarded_at = ? WHERE project_id = ? AND id = ?',
      now,
      r.projectId,
      r.id,
    );
  }
}

/**
 * Called by recordAttempts (inside its transaction) for each record whose next state is `failed`
 * and whose delivery did end up failed (not when a late record was ignored): stores
 * `delivery.exhausted` when its endpoint still exists (a delivery closed because its endpoint was
 * deleted is not news). Same transaction as the state change, so the two cannot part.
 */
export function recordExhaustedSqlite(db: DatabaseSync, rec: AttemptRecord, now: number): void {
  const a = rec.attempt;
  if (
    a.endpointId &&
    !get(db, 'SELECT 1 AS ok FROM endpoints WHERE project_id = ? AND id = ?', a.projectId, a.endpointId)
  )
    return;
  insertOperationalEventSqlite(db, a.projectId, 'delivery.exhausted', exhaustedData(rec), now);
}
