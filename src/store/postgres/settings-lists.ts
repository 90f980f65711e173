/**
 * Listings of what operators and project keys write, under a page's byte budget
 * (budgeted-list.ts): event types (a schema and an example of up to the request body limit each)
 * and endpoints (up to 50 custom headers of 4 KiB, 200 event types in the filter). Rows past the
 * budget never leave the database.
 */
import type pg from 'pg';
import type { Endpoint, EventType } from '../../domain/types.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import type { Page, PageQuery } from '../store.ts';
import { budgetCut, budgetedListSql, jsonBytes, NAME_ORDER } from './budgeted-list.ts';
import { type Row, toEndpoint, toEventType } from './rows.ts';

type Queryable = Pick<pg.Pool, 'query'>;

const EVENT_TYPE_BYTES = `octet_length(name) + octet_length(description)
  + coalesce(${jsonBytes('schema')}, 0) + coalesce(${jsonBytes('example')}, 0)`;

const ENDPOINT_BYTES = `octet_length(url) + octet_length(name) + octet_length(description)
  + ${jsonBytes('event_types')} + ${jsonBytes('headers')} + coalesce(${jsonBytes('rate_limit')}, 0)
  + coalesce(${jsonBytes('retry_schedule')}, 0) + coalesce(octet_length(disabled_reason), 0)`;

export async function listEventTypesPostgres(db: Queryable, q: PageQuery): Promise<Page<EventType>> {
  const after = decodeCursor(q.cursor);
  const sql = budgetedListSql(
    `SELECT *, ${EVENT_TYPE_BYTES} AS bytes FROM event_types
     ${after ? `WHERE ${NAME_ORDER} > $2` : ''} ORDER BY ${NAME_ORDER} LIMIT $1`,
    NAME_ORDER,
  );
  const rows = (await db.query(sql, after ? [q.limit + 1, after] : [q.limit + 1])).rows as Row[];
  return toPage(rows.map(toEventType), q.limit, (t) => t.name, budgetCut(rows));
}

export async function listEndpointsPostgres(
  db: Queryable,
  projectId: string,
  q: PageQuery,
): Promise<Page<Endpoint>> {
  const after = decodeCursor(q.cursor);
  const sql = budgetedListSql(
    `SELECT *, ${ENDPOINT_BYTES} AS bytes FROM endpoints
     WHERE project_id = $1 ${after ? 'AND id < $3' : ''} ORDER BY id DESC LIMIT $2`,
  );
  const params = after ? [projectId, q.limit + 1, after] : [projectId, q.limit + 1];
  const rows = (await db.query(sql, params)).rows as Row[];
  return toPage(rows.map(toEndpoint), q.limit, (e) => e.id, budgetCut(rows));
}
