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
import { bucketOfRow, durationsOfRow, readStatsInSteps } from '../stats-steps.ts';
import type {
  AttemptQuery,
  EventQuery,
  OperationalEventQuery,
  Page,
  StatsBucket,
  StatsQuery,
} from '../store.ts';
import { all, budgetedRows, get } from './db-helpers.ts';
import { toAttempt, toEvent, toOperationalEvent } from './rows.ts';

/**
 * At most about this many attempts are read per step of an endpoint's stats (endpointStatsSqlite),
 * between which the thread is given back: a step takes ~1.5-3 ms (525,000 attempts in 30 days: 720
 * steps, 1.2-1.4 s in all), so a long chart never holds up the requests on this thread for long.
 */
export const STATS_STEP_ROWS = 1_000;

/**
 * Where a step ends: the (offset + 1)-th attempt of the endpoint from an id on, below the range's
 * upper id bound. Walks attempts_endpoint (project_id, endpoint_id, id) alone, then reads one row.
 * Each statement of the stats names that index: for `ORDER BY id` or an id range, SQLite's planner
 * otherwise takes attempts_project (project_id, id) and reads every endpoint's attempts of the range.
 */
const stepEnd = (from: '>=' | '>') => `SELECT id, started_at FROM attempts INDEXED BY attempts_endpoint
  WHERE project_id = ? AND endpoint_id = ? AND id ${from} ? AND id < ? ORDER BY id LIMIT 1 OFFSET ?`;
export const STATS_STEP_END = stepEnd('>=');
export const BUCKET_STEP_END = stepEnd('>');

/**
 * A step of whole buckets, aggregated: per bucket (`started_at / bucketMs`, an integer division:
 * the size is cast, as SQLite binds JS numbers as REAL), how many attempts, how many succeeded,
 * the sum of their durations and the nearest-rank p95 (the ceil(0.95·n)-th smallest duration, in
 * the same double arithmetic as percentile95 in row-mapping.ts). Walks attempts_endpoint over the step's
 * ids and reads each row; one row out per bucket.
 */
export const ENDPOINT_STATS_SQL = `SELECT bucket, n, succeeded, total, duration_ms AS p95 FROM (
    SELECT started_at / CAST(?1 AS INTEGER) AS bucket, duration_ms,
      row_number() OVER (PARTITION BY started_at / CAST(?1 AS INTEGER) ORDER BY duration_ms) AS rn,
      count(*) OVER b AS n, sum(outcome = 'succeeded') OVER b AS succeeded, sum(duration_ms) OVER b AS total
    FROM attempts INDEXED BY attempts_endpoint
    WHERE project_id = ?2 AND endpoint_id = ?3 AND id >= ?4 AND id < ?5 AND id <= ?6
      AND started_at >= ?7 AND started_at <= ?8
    WINDOW b AS (PARTITION BY started_at / CAST(?1 AS INTEGER)))
  WHERE rn = CAST(0.95 * n AS INTEGER) + (0.95 * n > CAST(0.95 * n AS INTEGER))`;

/**
 * A step of one bucket that holds more than a step's attempts: how many took each duration, and
 * how many of those succeeded, over ids (after, to]. Summed across the bucket's steps in JS.
 */
export const BUCKET_STEP_SQL = `SELECT duration_ms, count(*) AS n, sum(outcome = 'succeeded') AS succeeded
  FROM attempts INDEXED BY attempts_endpoint
  WHERE project_id = ? AND endpoint_id = ? AND id > ? AND id <= ? AND started_at >= ? AND started_at <= ?
  GROUP BY duration_ms`;

/** The highest id string: a step bound that bounds nothing. */
const NO_ID_BOUND = '\uffff';

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

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

/**
 * For a filter no index serves: bounds `where` to the newest `scanRows` (SCAN_ROWS) rows of `table`
 * it already selects, and returns the id of the last of them (the page goes on after it), or null
 * when fewer are left (nothing bounded).
 */
function boundScan(
  db: DatabaseSync,
  table: AttemptsFrom | EventsFrom | 'operational_events',
  where: ReturnType<typeof projectWhere>,
  scanRows = SCAN_ROWS,
): string | null {
  const last = get(
    db,
    `SELECT id FROM ${table} WHERE ${where.parts.join(' AND ')} ORDER BY id DESC LIMIT 1 OFFSET ?`,
    ...where.params,
    scanRows - 1,
  );
  if (!last) return null;
  where.add('id >= ?', String(last.id));
  return String(last.id);
}

/** What a page of events selects, but for an idempotency key (which needs a bounded scan). */
function eventWhere(projectId: string, q: EventQuery) {
  const where = projectWhere(projectId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id < ?', after);
  if (q.type) where.add('type = ?', q.type);
  where.timeRange('created_at', ID_PREFIX.event, q.since, q.until);
  return where;
}

/** Where a page of events, and the scan of one by idempotency key, read its events from. */
type EventsFrom = 'events' | 'events INDEXED BY events_type';

/**
 * With a type, its index (migration 0009) always: with both a cursor and `since` bounding the id,
 * SQLite's planner would otherwise walk the whole project's events in that range.
 */
const eventsFrom = (q: EventQuery): EventsFrom => (q.type ? 'events INDEXED BY events_type' : 'events');

/** The statement of a page of events, with its parameters (exported for the plan test). */
export function eventPageQuery(
  projectId: string,
  q: EventQuery,
  where = eventWhere(projectId, q),
): { sql: string; params: SQLInputValue[] } {
  const from = eventsFrom(q);
  return {
    sql: `SELECT *, octet_length(payload) AS bytes FROM ${from} WHERE ${where.parts.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    params: [...where.params, q.limit + 1],
  };
}

/**
 * Payload bytes a page of events by idempotency key passes at most. A row's key is stored after its
 * payload, so checking it reads the payload's overflow pages, on the thread that accepts events:
 * 10,000 events of 20 KB took 70 ms, 300 of 1 MB 100 ms (10,000 of them: ~3.4 s a page). Within
 * 64 MiB a page takes ~25 ms; finding where the budget ends reads stored lengths only (7 ms for
 * 10,000 small events, 0.4 ms where 1 MB ones end it).
 */
export const SCAN_PAYLOAD_BYTES = 64 * 1024 * 1024;

/**
 * boundScan for events, which also stops at the event whose payload brings those passed to
 * `scanBytes` (octet_length reads a payload's stored length, not its overflow pages). Read `from`
 * the page's own index (eventsFrom): unhinted, a type with a cursor and `since` walked every event
 * of the range (300,000 of them for 100 of the type: 173 ms a page instead of 1 ms).
 */
function boundEventScan(
  db: DatabaseSync,
  from: EventsFrom,
  where: ReturnType<typeof projectWhere>,
  scanRows = SCAN_ROWS,
  scanBytes = SCAN_PAYLOAD_BYTES,
): string | null {
  const last = get(
    db,
    `SELECT id FROM (SELECT id, sum(octet_length(payload)) OVER (ORDER BY id DESC) AS passed
      FROM ${from} WHERE ${where.parts.join(' AND ')} ORDER BY id DESC LIMIT ?)
    WHERE passed >= ? ORDER BY id DESC LIMIT 1`,
    ...where.params,
    scanRows,
    scanBytes,
  );
  if (!last) return boundScan(db, from, where, scanRows);
  where.add('id >= ?', String(last.id));
  return String(last.id);
}

export function listEventsSqlite(
  db: DatabaseSync,
  projectId: string,
  q: EventQuery,
  scanBytes = SCAN_PAYLOAD_BYTES,
): Page<HeraldEvent> {
  const where = eventWhere(projectId, q);
  // A filter no index serves: only the newest SCAN_ROWS events of the others (page-budget.ts),
  // and no more than scanBytes of their payloads.
  let scanEnd: string | null = null;
  if (q.idempotencyKey !== undefined) {
    scanEnd = boundEventScan(db, eventsFrom(q), where, q.scanRows, scanBytes);
    where.add('idempotency_key = ?', q.idempotencyKey);
  }
  const { sql, params } = eventPageQuery(projectId, q, where);
  const { rows, cut } = budgetedRows(db, sql, params, q.limit + 1);
  return toPage(rows.map(toEvent), q.limit, (e) => e.id, cut, scanEnd);
}

/** Where a page of attempts, and its bounded scan, read its attempts from. */
type AttemptsFrom =
  `attempts${'' | ` INDEXED BY attempts_${'delivery' | 'event' | 'endpoint' | 'endpoint_failed'}`}`;

/**
 * With a delivery, event or endpoint, the index of the narrowest always: with two bounds on the id
 * (a cursor, `since`, `until`, a bounded scan), SQLite's planner unhinted walked attempts_project
 * over every attempt of the project in that range (200,000 attempts: ~50 ms a page, against
 * well under 1 ms).
 */
const attemptsFrom = (q: AttemptQuery): AttemptsFrom =>
  q.deliveryId
    ? 'attempts INDEXED BY attempts_delivery'
    : q.eventId
      ? 'attempts INDEXED BY attempts_event'
      : q.endpointId
        ? q.outcome === 'failed'
          ? 'attempts INDEXED BY attempts_endpoint_failed'
          : 'attempts INDEXED BY attempts_endpoint'
        : 'attempts';

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
    scanEnd = boundScan(db, attemptsFrom(q), where, q.scanRows);
    if (q.outcome === 'succeeded') where.parts.push(`outcome = 'succeeded'`);
    if (q.eventType) where.add('event_type = ?', q.eventType);
  }
  const { rows, cut } = budgetedRows(
    db,
    `SELECT *, ${ATTEMPT_BYTES} AS bytes FROM ${attemptsFrom(q)} WHERE ${where.parts.join(' AND ')} ORDER BY id DESC LIMIT ?`,
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

/**
 * An endpoint's attempts in [since, until] per bucket, for its charts: aggregated in SQL, in steps
 * of whole buckets holding about STATS_STEP_ROWS attempts (stats-steps.ts), with the thread given
 * back between steps.
 */
export async function endpointStatsSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  q: StatsQuery,
): Promise<StatsBucket[]> {
  const bucketMs = q.bucketMs;
  return readStatsInSteps(
    {
      stepEnd: async (fromId, upper, offset, after) => {
        const end = get(
          db,
          after ? BUCKET_STEP_END : STATS_STEP_END,
          projectId,
          endpointId,
          fromId,
          upper,
          offset,
        );
        return end ? { id: String(end.id), startedAt: Number(end.started_at) } : null;
      },
      wholeBuckets: async (from, until, fromId, upper, lastId) =>
        all(
          db,
          ENDPOINT_STATS_SQL,
          bucketMs,
          projectId,
          endpointId,
          fromId,
          upper,
          lastId ?? NO_ID_BOUND,
          from,
          until,
        ).map((r) => bucketOfRow(r, bucketMs)),
      durations: async (after, to, from, until) =>
        all(db, BUCKET_STEP_SQL, projectId, endpointId, after, to, from, until).map((r) => durationsOfRow(r)),
      between: yieldToEventLoop,
    },
    q,
    STATS_STEP_ROWS,
  );
}

export function listOperationalEventsSqlite(
  db: DatabaseSync,
  projectId: string,
  q: OperationalEventQuery,
): Page<OperationalEvent> {
  const where = projectWhere(projectId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id < ?', after);
  // Filters no index serves: only the newest SCAN_ROWS events after the cursor (as attempts).
  let scanEnd: string | null = null;
  if (q.type || q.endpointId) scanEnd = boundScan(db, 'operational_events', where, q.scanRows);
  if (q.type) where.add('type = ?', q.type);
  if (q.endpointId) where.add(`json_extract(data, '$.endpointId') = ?`, q.endpointId);
  const rows = all(
    db,
    `SELECT * FROM operational_events WHERE ${where.parts.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    ...where.params,
    q.limit + 1,
  );
  return toPage(rows.map(toOperationalEvent), q.limit, (o) => o.id, false, scanEnd);
}
