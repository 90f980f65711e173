/**
 * One event's deliveries a page at a time (Store.listEventDeliveries), in id order as
 * getEvent lists them, read through deliveries_event (project_id, event_id, id).
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
 * event's rows in id order (migration 0014), so a page walks it from the cursor and reads the
 * page's rows (with a status filter, also the rows of other statuses it steps over), not all of the
 * event's. Before it, the index held them in heap order, every page sorted all of them, and the
 * ORDER BY had to be written so that the primary key (project_id, id) could not serve it: the
 * planner walked that in id order from the project's first delivery, filtering on the event.
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
    sql: `SELECT * FROM deliveries WHERE ${where.sql} ORDER BY id LIMIT ${where.next()}`,
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
