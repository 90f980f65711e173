/**
 * Which of a project's idempotency keys hold an event accepted within the last 24 h: a request
 * that only repeats such events creates nothing, so it is answered even while the project's
 * backlog is full (src/api/accept-events.ts). One statement on the key's primary key.
 */
import type pg from 'pg';

export async function heldIdempotencyKeysPostgres(
  db: Pick<pg.Pool, 'query'>,
  projectId: string,
  keys: readonly string[],
  now: number,
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await db.query(
    'SELECT key FROM idempotency_keys WHERE project_id = $1 AND key = ANY($2::text[]) AND expires_at > $3',
    [projectId, keys, now],
  );
  return new Set(rows.map((r: { key: string }) => r.key));
}
