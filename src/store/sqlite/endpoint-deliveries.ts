/**
 * What waits for one endpoint (Store.listEndpointDeliveries, countEndpointBacklog): its pending or
 * parked deliveries in due order, a page at a time, and both counted up to a cap. Both read
 * deliveries_endpoint (project_id, endpoint_id, status, next_attempt_at): a page walks it from the
 * cursor on, a count walks at most `atMost` entries of it, whatever the backlog.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { Delivery } from '../../domain/types.ts';
import { toPage } from '../cursor.ts';
import { decodeDueCursor, dueKeyOf } from '../due-cursor.ts';
import type { EndpointBacklogCounts, EndpointDeliveryQuery, Page } from '../store.ts';
import { all, get } from './db-helpers.ts';
import { toDelivery } from './rows.ts';

/**
 * The statement of a page, with its parameters (exported for the plan test). The index orders the
 * range by due time; ties (a batch's deliveries share one) are sorted by id among themselves. The
 * plain `>=` on the due time lets the index start at the cursor; the row value settles the ties.
 */
export function endpointDeliveryPageQuery(
  projectId: string,
  endpointId: string,
  q: EndpointDeliveryQuery,
): { sql: string; params: SQLInputValue[] } {
  const parts = ['project_id = ?', 'endpoint_id = ?', 'status = ?'];
  const params: SQLInputValue[] = [projectId, endpointId, q.status];
  const after = decodeDueCursor(q.cursor);
  if (after) {
    parts.push('next_attempt_at >= ?', '(next_attempt_at, id) > (?, ?)');
    params.push(after.due, after.due, after.id);
  }
  return {
    sql: `SELECT * FROM deliveries INDEXED BY deliveries_endpoint WHERE ${parts.join(' AND ')}
      ORDER BY next_attempt_at, id LIMIT ?`,
    params: [...params, q.limit + 1],
  };
}

export function listEndpointDeliveriesSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  q: EndpointDeliveryQuery,
): Page<Delivery> {
  const { sql, params } = endpointDeliveryPageQuery(projectId, endpointId, q);
  const page = toPage(all(db, sql, ...params), q.limit, (r) => dueKeyOf(String(r.id), r.next_attempt_at));
  return { data: page.data.map(toDelivery), nextCursor: page.nextCursor };
}

/** One state's entries of the endpoint's range, at most `?` of them (exported for the plan test). */
export const BACKLOG_COUNT_SQL = `SELECT count(*) AS n FROM (SELECT 1 FROM deliveries INDEXED BY deliveries_endpoint
  WHERE project_id = ? AND endpoint_id = ? AND status = ? LIMIT ?)`;

export function countEndpointBacklogSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  atMost: number,
): EndpointBacklogCounts {
  const count = (status: string) =>
    Number(get(db, BACKLOG_COUNT_SQL, projectId, endpointId, status, atMost)?.n ?? 0);
  return { pending: count('pending'), parked: count('parked') };
}
