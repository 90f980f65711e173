/**
 * Which of a project's idempotency keys hold an event accepted within the last 24 h: a request
 * that only repeats such events creates nothing, so it is answered even while the project's
 * backlog is full (src/api/accept-events.ts). Read on the accepting thread, one statement on the
 * key's primary key.
 */
import type { DatabaseSync } from 'node:sqlite';
import { all } from './db-helpers.ts';

export function heldIdempotencyKeysSqlite(
  db: DatabaseSync,
  projectId: string,
  keys: readonly string[],
  now: number,
): Set<string> {
  if (keys.length === 0) return new Set();
  const rows = all(
    db,
    `SELECT key FROM idempotency_keys
     WHERE project_id = ? AND key IN (SELECT value FROM json_each(?)) AND expires_at > ?`,
    projectId,
    JSON.stringify(keys),
    now,
  );
  return new Set(rows.map((r) => String(r.key)));
}
