/**
 * One batch of Store.replayMissing for the PostgreSQL store, in one transaction: the endpoint
 * locked (two replays of it take turns, so neither can miss the other's deliveries, and a delete
 * waits), the project's retention lock taken (retention.ts: a purge batch could otherwise delete an
 * event this one is giving a delivery, leaving it without its event), then the project's next
 * events from the cursor (index events_created), of those the ones the endpoint would receive now
 * and has no delivery for (index deliveries_event), a pending delivery each.
 */
import type pg from 'pg';
import { replays } from '../../domain/fan-out.ts';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { ReplayBatch, ReplayCursor } from '../replay-batch.ts';
import { endpointPostgres } from './endpoint-reads.ts';
import { lockEndpointPostgres } from './endpoint-writes.ts';
import { PURGE_LOCK_CLASS } from './retention.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Looks at up to `limit` events after `from` created until `until`; replays at most `room`. Null
 * when the endpoint is gone.
 */
export async function replayMissingPostgres(
  c: Queryable,
  projectId: string,
  endpointId: string,
  until: number,
  now: number,
  from: ReplayCursor,
  limit: number,
  room: number,
): Promise<ReplayBatch | null> {
  await lockEndpointPostgres(c, projectId, endpointId, 'FOR NO KEY UPDATE');
  const endpoint = await endpointPostgres(c, projectId, endpointId);
  if (!endpoint) return null;
  // Disabled meanwhile (by hand, or by its failures): what it would get now would be parked. The
  // rest of the range is left, from where this batch starts: a replay from there, once the endpoint
  // is enabled again, goes on (what was replayed has its delivery and is passed over).
  if (endpoint.status !== 'active') return { replayed: 0, next: null, leftAt: from.createdAt };
  await c.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [PURGE_LOCK_CLASS, projectId]);
  const { rows: events } = await c.query<{ id: string; type: string; test: boolean; created_at: string }>(
    `SELECT id, type, test, created_at FROM events
     WHERE project_id = $1 AND (created_at, id) > ($2::bigint, $3::text) AND created_at <= $4
     ORDER BY created_at, id LIMIT $5`,
    [projectId, from.createdAt, from.id, until, limit],
  );
  const wanted = events.filter((e) => replays(endpoint, { type: e.type, test: e.test }));
  const { rows: delivered } = await c.query<{ event_id: string }>(
    `SELECT DISTINCT event_id FROM deliveries
     WHERE project_id = $1 AND event_id = ANY($2::text[]) AND endpoint_id = $3`,
    [projectId, wanted.map((e) => e.id), endpointId],
  );
  const had = new Set(delivered.map((r) => r.event_id));
  const replayed: string[] = [];
  let leftAt: number | null = null;
  for (const e of wanted) {
    if (had.has(e.id)) continue;
    if (replayed.length >= room) {
      leftAt = Number(e.created_at);
      break;
    }
    replayed.push(e.id);
  }
  if (replayed.length) {
    const ids = replayed.map(() => newId(ID_PREFIX.delivery, now));
    await c.query(
      `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at,
         created_at, updated_at, due_since)
       SELECT $1, i, e, $2, $3, 'pending', 0, $4, $4, $4, $4 FROM unnest($5::text[], $6::text[]) AS v(i, e)`,
      [projectId, endpointId, endpoint.url, now, ids, replayed],
    );
    // Events from before migration 0013 have no count (NULL) and keep none.
    await c.query(
      `UPDATE events SET delivery_count = delivery_count + 1
       WHERE project_id = $1 AND id = ANY($2::text[]) AND delivery_count IS NOT NULL`,
      [projectId, replayed],
    );
  }
  const last = events.at(-1);
  const more = leftAt === null && events.length === limit && last;
  return {
    replayed: replayed.length,
    next: more ? { createdAt: Number(last.created_at), id: last.id } : null,
    leftAt,
  };
}
