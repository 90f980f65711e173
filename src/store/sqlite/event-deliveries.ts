/**
 * One event's deliveries a page at a time (Store.listEventDeliveries), in id order as
 * getEvent lists them, read through deliveries_event (event_id, project_id, id).
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { Delivery } from '../../domain/types.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import type { EventDeliveryQuery, Page } from '../store.ts';
import { all, get } from './db-helpers.ts';
import { toDelivery } from './rows.ts';

/**
 * The statement of a page, with its parameters (exported for the plan test). The index holds the
 * event's rows in id order (migration 0016), so a page walks it from the cursor and reads the
 * page's rows (with a status filter, also the rows of other statuses it steps over), not all of the
 * event's. Pinned to that index: with `id > ?` and ORDER BY id the planner could otherwise walk the
 * id index over every later delivery of every event.
 */
export function eventDeliveryPageQuery(
  projectId: string,
  eventId: string,
  q: EventDeliveryQuery,
): { sql: string; params: SQLInputValue[] } {
  const parts = ['event_id = ?', 'project_id = ?'];
  const params: SQLInputValue[] = [eventId, projectId];
  const after = decodeCursor(q.cursor);
  if (after) {
    parts.push('id > ?');
    params.push(after);
  }
  if (q.status) {
    parts.push('status = ?');
    params.push(q.status);
  }
  return {
    sql: `SELECT * FROM deliveries INDEXED BY deliveries_event WHERE ${parts.join(' AND ')} ORDER BY id LIMIT ?`,
    params: [...params, q.limit + 1],
  };
}

export function listEventDeliveriesSqlite(
  db: DatabaseSync,
  projectId: string,
  eventId: string,
  q: EventDeliveryQuery,
): Page<Delivery> | null {
  const { sql, params } = eventDeliveryPageQuery(projectId, eventId, q);
  const rows = all(db, sql, ...params);
  // A delivery says its event is there (they are deleted together); no row may mean no event.
  if (
    rows.length === 0 &&
    !get(db, 'SELECT 1 FROM events WHERE project_id = ? AND id = ?', projectId, eventId)
  ) {
    return null;
  }
  return toPage(rows.map(toDelivery), q.limit, (d) => d.id);
}
