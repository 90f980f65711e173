/**
 * Listings of what operators and project keys write, under a page's byte budget (page-budget.ts):
 * event types (a schema and an example of up to the request body limit each) and endpoints (up to
 * 50 custom headers of 4 KiB, 200 event types in the filter). `octet_length` reads the stored
 * length only; a row past the budget is never read.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Endpoint, EventType } from '../../domain/types.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import type { Page, PageQuery } from '../store.ts';
import { budgetedRows } from './db-helpers.ts';
import { toEndpoint, toEventType } from './rows.ts';

const EVENT_TYPE_BYTES = `octet_length(name) + octet_length(description)
  + coalesce(octet_length(schema), 0) + coalesce(octet_length(example), 0)`;

const ENDPOINT_BYTES = `octet_length(url) + octet_length(name) + octet_length(description)
  + octet_length(event_types) + octet_length(headers) + coalesce(octet_length(rate_limit), 0)
  + coalesce(octet_length(retry_schedule), 0) + coalesce(octet_length(disabled_reason), 0)`;

export function listEventTypesSqlite(db: DatabaseSync, q: PageQuery): Page<EventType> {
  const after = decodeCursor(q.cursor);
  const { rows, cut } = budgetedRows(
    db,
    `SELECT *, ${EVENT_TYPE_BYTES} AS bytes FROM event_types ${after ? 'WHERE name > ?' : ''} ORDER BY name LIMIT ?`,
    after ? [after, q.limit + 1] : [q.limit + 1],
    q.limit + 1,
  );
  return toPage(rows.map(toEventType), q.limit, (t) => t.name, cut);
}

export function listEndpointsSqlite(db: DatabaseSync, projectId: string, q: PageQuery): Page<Endpoint> {
  const after = decodeCursor(q.cursor);
  const { rows, cut } = budgetedRows(
    db,
    `SELECT *, ${ENDPOINT_BYTES} AS bytes FROM endpoints WHERE project_id = ? ${after ? 'AND id < ?' : ''}
     ORDER BY id DESC LIMIT ?`,
    after ? [projectId, after, q.limit + 1] : [projectId, q.limit + 1],
    q.limit + 1,
  );
  return toPage(rows.map(toEndpoint), q.limit, (e) => e.id, cut);
}
