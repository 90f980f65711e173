/**
 * What waits for one endpoint (Store.listEndpointDeliveries, countEndpointBacklog): its pending or
 * parked deliveries in due order, a page at a time, and both counted up to a cap. Both read
 * deliveries_endpoint (project_id, endpoint_id, status, next_attempt_at): a page walks it from the
 * cursor on (ties of a due time sorted by id among themselves), a count at most `atMost` entries.
 */
import type pg from 'pg';
import type { Delivery } from '../../domain/types.ts';
import { toPage } from '../cursor.ts';
import { decodeDueCursor, dueKeyOf } from '../due-cursor.ts';
import type { EndpointBacklogCounts, EndpointDeliveryQuery, Page } from '../store.ts';
import { transaction } from './pool.ts';
import { num, type Row, toDelivery } from './rows.ts';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * The statement of a page, with its parameters (exported for the plan test). "In this status, after
 * the cursor" is written as a range of (status, next_attempt_at, id) ordered the same way, as the
 * claims' probe does (claims.ts PROBE_ROUND_PICK): with `status = 'pending'` the partial index
 * deliveries_due qualifies too, and the planner walked it, filtering by endpoint, whenever the
 * endpoint's history made it look like most of the pending ones (twice a page's rows in the plan
 * test; the whole due order for one whose own are due last). This way only deliveries_endpoint fits,
 * from the cursor on; ties of a due time are sorted by id among themselves.
 */
export function endpointDeliveryPageQuery(
  projectId: string,
  endpointId: string,
  q: EndpointDeliveryQuery,
): { sql: string; params: unknown[] } {
  const after = decodeDueCursor(q.cursor);
  const from = after ? '(status, next_attempt_at, id) > ($3, $4, $5)' : 'status >= $3';
  const params = after ? [after.due, after.id] : [];
  return {
    sql: `SELECT * FROM deliveries WHERE project_id = $1 AND endpoint_id = $2 AND ${from} AND status <= $3
      ORDER BY status, next_attempt_at, id LIMIT $${3 + params.length + 1}`,
    params: [projectId, endpointId, q.status, ...params, q.limit + 1],
  };
}

/**
 * The page's planner settings, in its own transaction. Ordered by (status, due time, id), the page
 * is an index walk with the ties of a due time sorted (an incremental sort); but with statistics
 * that had not yet seen the endpoint's backlog (an estimate of one row), the planner sorted the whole
 * range instead: 84-94 ms a page for 200,000 pending deliveries, growing with them. With plain sorts
 * off, the walk is taken with fresh statistics or stale ones (0.5 ms).
 */
export const PAGE_PLANNER_SETTINGS = 'SET LOCAL enable_sort = off';

export async function listEndpointDeliveriesPostgres(
  pool: pg.Pool,
  projectId: string,
  endpointId: string,
  q: EndpointDeliveryQuery,
): Promise<Page<Delivery>> {
  const { sql, params } = endpointDeliveryPageQuery(projectId, endpointId, q);
  const rows = await transaction(pool, async (client) => {
    await client.query(PAGE_PLANNER_SETTINGS);
    return (await client.query(sql, params)).rows as Row[];
  });
  const page = toPage(rows, q.limit, (r) => dueKeyOf(String(r.id), r.next_attempt_at));
  return { data: page.data.map(toDelivery), nextCursor: page.nextCursor };
}

/**
 * Both states' entries of the endpoint's range, each at most $3 of them (exported for the plan test).
 * "Pending" is written as a range, as in the page's statement, so that only deliveries_endpoint
 * fits: through deliveries_due, filtering by endpoint, the planner would walk every other
 * endpoint's pending deliveries to count one whose history made it look like most of them.
 */
export const BACKLOG_COUNT_SQL = `SELECT
    (SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE project_id = $1 AND endpoint_id = $2
       AND status >= 'pending' AND status <= 'pending' LIMIT $3) p) AS pending,
    (SELECT count(*) FROM (SELECT 1 FROM deliveries
       WHERE project_id = $1 AND endpoint_id = $2 AND status = 'parked' LIMIT $3) k) AS parked`;

export async function countEndpointBacklogPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  atMost: number,
): Promise<EndpointBacklogCounts> {
  const row = (await db.query(BACKLOG_COUNT_SQL, [projectId, endpointId, atMost])).rows[0] as Row | undefined;
  return { pending: num(row?.pending ?? 0), parked: num(row?.parked ?? 0) };
}
