/**
 * Reads of the SQLite store's history: events and attempts page by page (under a page's byte
 * budget, page-budget.ts), one attempt with its request body, an endpoint's attempts per time
 * bucket for its charts, and a project's operational events. `since` and `until` also bound the id, so an index is walked over that
 * range only: an id's time is never earlier than the created_at or started_at it was made with,
 * nor more than ID_TIME_SLACK_MS later (ids.ts).
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { ID_PREFIX, idLowerBound, idUpperBound } from '../../domain/ids.ts';
import type { Attempt, HeraldEvent, OperationalEvent } from '../../domain/types.ts';
import { envelopeSourcesFromRows, type LoadEnvelopeSources, withRequestBodies } from '../attempt-bodies.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import { SCAN_ROWS } from '../page-budget.ts';
import type { AttemptQuery, EventQuery, Page, PageQuery, StatsBucket, StatsQuery } from '../store.ts';
import { all, budgetedRows, get } from './db-helpers.ts';
import { percentile95, toAttempt, toEvent, toOperationalEvent } from './rows.ts';

/**
 * An endpoint's attempts in [since, until] for its charts. `id >= ? AND id < ?` (idLowerBound of
 * since, idUpperBound of until): the index attempts_endpoint (project_id, endpoint_id, id) is
 * walked over that range, not from the endpoint's first attempt or up to its newest.
 */
export const ENDPOINT_STATS_SQL = `SELECT started_at, outcome, duration_ms FROM attempts
  WHERE project_id = ? AND endpoint_id = ? AND id >= ? AND id < ? AND started_at >= ? AND started_at <= ?`;

/**
 * What an attempt weighs against a page's byte budget (page-budget.ts): its stored columns and
 * its event's payload, which a body stored by reference is rebuilt from. `octet_length` reads
 * the stored length only, never the value.
 */
const ATTEMPT_BYTES = `octet_length(request) + coalesce(octet_length(response), 0) + coalesce(octet_length(error), 0)
  + coalesce((SELECT octet_length(e.payload) FROM events e WHERE e.id = attempts.event_id), 0)`;

/** A WHERE clause that starts with the project filter, with positional parameters. */
function projectWhere(projectId: string) {
  const parts = ['project_id = ?'];
  const params: SQLInputValue[] = [projectId];
  return {
    parts,
    params,
    add(sql: string, value: SQLInputValue) {
      parts.push(sql);
      params.push(value);
    },
    /** `column` in [since, until]; both also bound the id, so the index is walked over that range only. */
    timeRange(column: string, idPrefix: string, since?: number, until?: number) {
      if (since !== undefined) {
        this.add(`${column} >= ?`, since);
        this.add('id >= ?', idLowerBound(idPrefix, since));
      }
      if (until !== undefined) {
        this.add(`${column} <= ?`, until);
        this.add('id < ?', idUpperBound(idPrefix, until));
      }
    },
  };
}

/** The statement of a page of events, with its parameters (exported for the plan test). */
export function eventPageQuery(projectId: string, q: EventQuery): { sql: string; params: SQLInputValue[] } {
  const where = projectWhere(projectId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id < ?', after);
  if (q.type) where.add('type = ?', q.type);
  where.timeRange('created_at', ID_PREFIX.event, q.since, q.until);
  // With a type, its index (migration 0009) always: with both a cursor and `since` bounding the id,
  // SQLite's planner would otherwise walk the whole project's events in that range.
  const from = q.type ? 'events INDEXED BY events_type' : 'events';
  return {
    sql: `SELECT *, octet_length(payload) AS bytes FROM ${from} WHERE ${where.parts.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    params: [...where.params, q.limit + 1],
  };
}

export function listEventsSqlite(db: DatabaseSync, projectId: string, q: EventQuery): Page<HeraldEvent> {
  const { sql, params } = eventPageQuery(projectId, q);
  const { rows, cut } = budgetedRows(db, sql, params, q.limit + 1);
  return toPage(rows.map(toEvent), q.limit, (e) => e.id, cut);
}

export async function listAttemptsSqlite(
  db: DatabaseSync,
  projectId: string,
  q: AttemptQuery,
): Promise<Page<Attempt>> {
  const where = projectWhere(projectId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id < ?', after);
  if (q.endpointId) where.add('endpoint_id = ?', q.endpointId);
  if (q.eventId) where.add('event_id = ?', q.eventId);
  if (q.deliveryId) where.add('delivery_id = ?', q.deliveryId);
  // A literal, not a parameter: the planner can then use the partial index of failed attempts.
  if (q.outcome === 'failed') where.parts.push(`outcome = 'failed'`);
  where.timeRange('started_at', ID_PREFIX.attempt, q.since, q.until);
  // Filters no index serves: only the newest SCAN_ROWS attempts of the others (page-budget.ts).
  let scanEnd: string | null = null;
  if (q.eventType || q.outcome === 'succeeded') {
    const last = get(
      db,
      `SELECT id FROM attempts WHERE ${where.parts.join(' AND ')} ORDER BY id DESC LIMIT 1 OFFSET ?`,
      ...where.params,
      (q.scanRows ?? SCAN_ROWS) - 1,
    );
    if (last) {
      scanEnd = String(last.id);
      where.add('id >= ?', scanEnd);
    }
    if (q.outcome === 'succeeded') where.parts.push(`outcome = 'succeeded'`);
    if (q.eventType) where.add('event_type = ?', q.eventType);
  }
  const { rows, cut } = budgetedRows(
    db,
    `SELECT *, ${ATTEMPT_BYTES} AS bytes FROM attempts WHERE ${where.parts.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    [...where.params, q.limit + 1],
    q.limit + 1,
  );
  const attempts = await withRequestBodies(projectId, rows.map(toAttempt), envelopeSources(db));
  return toPage(attempts, q.limit, (a) => a.id, cut, scanEnd);
}

export async function getAttemptSqlite(
  db: DatabaseSync,
  projectId: string,
  attemptId: string,
): Promise<Attempt | null> {
  const row = get(db, 'SELECT * FROM attempts WHERE project_id = ? AND id = ?', projectId, attemptId);
  return row ? (await withRequestBodies(projectId, [toAttempt(row)], envelopeSources(db)))[0]! : null;
}

/** Events whose envelopes attempts sent, for their bodies (attempt-bodies.ts). */
const envelopeSources =
  (db: DatabaseSync): LoadEnvelopeSources =>
  async (projectId, eventIds) =>
    envelopeSourcesFromRows(
      all(
        db,
        'SELECT id, type, payload, created_at FROM events WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))',
        projectId,
        JSON.stringify(eventIds),
      ),
    );

export function endpointStatsSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  q: StatsQuery,
): StatsBucket[] {
  const rows = all(
    db,
    ENDPOINT_STATS_SQL,
    projectId,
    endpointId,
    idLowerBound(ID_PREFIX.attempt, q.since),
    idUpperBound(ID_PREFIX.attempt, q.until),
    q.since,
    q.until,
  );
  // Bucketing in JS: SQLite binds JS numbers as REAL, which would turn the division fractional.
  const buckets = new Map<number, { succeeded: number; failed: number; durations: number[] }>();
  for (const r of rows) {
    const start = Math.floor(Number(r.started_at) / q.bucketMs) * q.bucketMs;
    let b = buckets.get(start);
    if (!b) {
      b = { succeeded: 0, failed: 0, durations: [] };
      buckets.set(start, b);
    }
    if (r.outcome === 'succeeded') b.succeeded++;
    else b.failed++;
    b.durations.push(Number(r.duration_ms));
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, b]) => ({
      start,
      succeeded: b.succeeded,
      failed: b.failed,
      avgDurationMs: b.durations.length ? b.durations.reduce((x, y) => x + y, 0) / b.durations.length : null,
      p95DurationMs: percentile95(b.durations),
    }));
}

export function listOperationalEventsSqlite(
  db: DatabaseSync,
  projectId: string,
  q: PageQuery,
): Page<OperationalEvent> {
  const after = decodeCursor(q.cursor);
  const rows = after
    ? all(
        db,
        'SELECT * FROM operational_events WHERE project_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
        projectId,
        after,
        q.limit + 1,
      )
    : all(
        db,
        'SELECT * FROM operational_events WHERE project_id = ? ORDER BY id DESC LIMIT ?',
        projectId,
        q.limit + 1,
      );
  return toPage(rows.map(toOperationalEvent), q.limit, (o) => o.id);
}
