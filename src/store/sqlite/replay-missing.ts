/**
 * One batch of Store.replayMissing for the SQLite store, inside one of its group commits: the
 * project's next events from the cursor (index events_created), of those the ones the endpoint
 * would receive now and has no delivery for (index deliveries_event), a pending delivery each.
 */
import type { DatabaseSync } from 'node:sqlite';
import { replays } from '../../domain/fan-out.ts';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { ReplayBatch, ReplayCursor } from '../replay-batch.ts';
import { all, run } from './db-helpers.ts';
import { endpointSqlite } from './endpoint-reads.ts';

const NEXT_EVENTS = `SELECT id, type, test, created_at FROM events
  WHERE project_id = ? AND (created_at, id) > (?, ?) AND created_at <= ?
  ORDER BY created_at, id LIMIT ?`;
/**
 * Which of the events (a JSON array of ids) the endpoint has a delivery for. Unhinted, SQLite's
 * planner walked deliveries_endpoint over every delivery the endpoint ever had, for each batch.
 */
export const DELIVERED_SQL = `SELECT DISTINCT event_id FROM deliveries INDEXED BY deliveries_event
  WHERE event_id IN (SELECT value FROM json_each(?)) AND project_id = ? AND endpoint_id = ?`;
const INSERT_DELIVERY = `INSERT INTO deliveries (id, project_id, event_id, endpoint_id, url, status, attempts,
  next_attempt_at, leased_by, created_at, updated_at, due_since) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, NULL, ?, ?, ?)`;
// Events from before migration 0015 have no count (NULL) and keep none.
const COUNT_ONE_MORE = `UPDATE events SET delivery_count = delivery_count + 1
  WHERE project_id = ? AND id IN (SELECT value FROM json_each(?)) AND delivery_count IS NOT NULL`;

/**
 * Looks at up to `limit` events after `from` created until `until`; replays at most `room`. Null
 * when the endpoint is gone.
 */
export function replayMissingSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  until: number,
  now: number,
  from: ReplayCursor,
  limit: number,
  room: number,
): ReplayBatch | null {
  const endpoint = endpointSqlite(db, projectId, endpointId);
  if (!endpoint) return null;
  // Disabled meanwhile (by hand, or by its failures): what it would get now would be parked. The
  // rest of the range is left, from where this batch starts: a replay from there, once the endpoint
  // is enabled again, goes on (what was replayed has its delivery and is passed over).
  if (endpoint.status !== 'active') return { replayed: 0, next: null, leftAt: from.createdAt };
  const events = all(db, NEXT_EVENTS, projectId, from.createdAt, from.id, until, limit);
  const wanted = events.filter((e) =>
    replays(endpoint, { type: String(e.type), test: Number(e.test) === 1 }),
  );
  const had = new Set(
    all(db, DELIVERED_SQL, JSON.stringify(wanted.map((e) => String(e.id))), projectId, endpointId).map((r) =>
      String(r.event_id),
    ),
  );
  const replayed: string[] = [];
  let leftAt: number | null = null;
  for (const e of wanted) {
    const eventId = String(e.id);
    if (had.has(eventId)) continue;
    if (replayed.length >= room) {
      leftAt = Number(e.created_at);
      break;
    }
    const id = newId(ID_PREFIX.delivery, now);
    run(db, INSERT_DELIVERY, id, projectId, eventId, endpointId, endpoint.url, now, now, now, now);
    replayed.push(eventId);
  }
  if (replayed.length) run(db, COUNT_ONE_MORE, projectId, JSON.stringify(replayed));
  const last = events.at(-1);
  const more = leftAt === null && events.length === limit && last;
  return {
    replayed: replayed.length,
    next: more ? { createdAt: Number(last.created_at), id: String(last.id) } : null,
    leftAt,
  };
}
