/**
 * One event's deliveries a page at a time (Store.listEventDeliveries), in id order as
 * getEvent lists them, read through deliveries_event (project_id, event_id).
 */
import type pg from 'pg';
import type { Delivery } from '../../domain/types.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import type { EventDeliveryQuery, Page } from '../store.ts';
import { type Row, toDelivery } from './rows.ts';
import { Where } from './where.ts';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * The statement of a page, with its parameters (exported for the plan test). The index holds the
 * event's rows in heap order, so the page is the first of them by id (a top-N sort): a cost in the
 * event's deliveries, not in the table's. Sorted on `id || ''` (the same order) so that the
 * primary key (project_id, id) cannot serve the ORDER BY: for an event with many deliveries the
 * planner walked it in id order from the project's first delivery and filtered on the event,
 * reading every older delivery of the project (20,000 for one page in the plan test). From a
 * cursor it may still take the primary key over the ids after it, when it expects few of them.
 */
export function eventDeliveryPageQuery(
  projectId: string,
  eventId: string,
  q: EventDeliveryQuery,
): { sql: string; params: unknown[] } {
  const where = new Where(projectId);
  where.add('event_id =', eventId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id >', after);
  if (q.status) where.add('status =', q.status);
  return {
    sql: `SELECT * FROM deliveries WHERE ${where.sql} ORDER BY id || '' LIMIT ${where.next()}`,
    params: [...where.params, q.limit + 1],
  };
}

export async function listEventDeliveriesPostgres(
  db: Queryable,
  projectId: string,
  eventId: string,
  q: EventDeliveryQuery,
): Promise<Page<Delivery> | null> {
  const { sql, params } = eventDeliveryPageQuery(projectId, eventId, q);
  const rows = (await db.query(sql, params)).rows as Row[];
  // A delivery says its event is there (they are deleted together); no row may mean no event.
  if (rows.length === 0) {
    const event = await db.query('SELECT 1 FROM events WHERE project_id = $1 AND id = $2', [
      projectId,
      eventId,
    ]);
    if (event.rows.length === 0) return null;
  }
  return toPage(rows.map(toDelivery), q.limit, (d) => d.id);
}
