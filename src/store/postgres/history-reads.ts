/**
 * Reads of the PostgreSQL store's history: events and attempts page by page (under a page's byte
 * budget, budgeted-list.ts), one attempt with its request body, an endpoint's attempts per
 * time bucket for its charts, and a project's operational events. A `since` also bounds the id, so the (…, id) indexes are walked from
 * `since` on: an id's time is never earlier than the created_at or started_at it was made with.
 */
import type pg from 'pg';
import { ID_PREFIX, idLowerBound, idUpperBound } from '../../domain/ids.ts';
import type { Attempt, HeraldEvent, OperationalEvent } from '../../domain/types.ts';
import { envelopeSourcesFromRows, type LoadEnvelopeSources, withRequestBodies } from '../attempt-bodies.ts';
import { decodeCursor, toPage } from '../cursor.ts';
import { SCAN_ROWS } from '../page-budget.ts';
import type {
  AttemptQuery,
  EventQuery,
  OperationalEventQuery,
  Page,
  StatsBucket,
  StatsQuery,
} from '../store.ts';
import { budgetCut, budgetedListSql, jsonBytes } from './budgeted-list.ts';
import { transaction } from './pool.ts';
import { num, type Row, toAttempt, toEvent, toOperationalEvent } from './rows.ts';
import { Where } from './where.ts';

type Queryable = Pick<pg.Pool, 'query'>;

const rowsOf = async (db: Queryable, sql: string, params: unknown[]): Promise<Row[]> =>
  (await db.query(sql, params)).rows as Row[];

/**
 * What an attempt weighs against a page's byte budget (page-budget.ts): its stored columns and
 * its event's payload, which a body stored by reference is rebuilt from.
 */
const ATTEMPT_BYTES = `${jsonBytes('request')} + coalesce(${jsonBytes('response')}, 0) + coalesce(${jsonBytes('error')}, 0)
  + coalesce((SELECT ${jsonBytes('e.payload')} FROM events e WHERE e.project_id = attempts.project_id AND e.id = attempts.event_id), 0)`;

/**
 * For a filter no index serves: bounds `where` to the newest `scanRows` (SCAN_ROWS) rows of `table`
 * it already selects, and returns the id of the last of them (the page goes on after it), or null
 * when fewer are left (nothing bounded).
 */
async function boundScan(
  db: Queryable,
  table: 'attempts' | 'operational_events',
  where: Where,
  scanRows = SCAN_ROWS,
): Promise<string | null> {
  const [last] = await rowsOf(
    db,
    `SELECT id FROM ${table} WHERE ${where.sql} ORDER BY id DESC LIMIT 1 OFFSET ${where.next()}`,
    [...where.params, scanRows - 1],
  );
  if (!last) return null;
  where.add('id >=', String(last.id));
  return String(last.id);
}

export async function listEventsPostgres(
  db: Queryable,
  projectId: string,
  q: EventQuery,
): Promise<Page<HeraldEvent>> {
  const where = new Where(projectId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id <', after);
  if (q.type) where.add('type =', q.type);
  where.timeRange('created_at', ID_PREFIX.event, q.since, q.until);
  const rows = await rowsOf(
    db,
    budgetedListSql(
      `SELECT *, ${jsonBytes('payload')} AS bytes FROM events
       WHERE ${where.sql} ORDER BY id DESC LIMIT ${where.next()}`,
    ),
    [...where.params, q.limit + 1],
  );
  return toPage(rows.map(toEvent), q.limit, (e) => e.id, budgetCut(rows));
}

export async function listAttemptsPostgres(
  db: Queryable,
  projectId: string,
  q: AttemptQuery,
): Promise<Page<Attempt>> {
  const where = new Where(projectId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id <', after);
  if (q.endpointId) where.add('endpoint_id =', q.endpointId);
  if (q.eventId) where.add('event_id =', q.eventId);
  if (q.deliveryId) where.add('delivery_id =', q.deliveryId);
  if (q.outcome === 'failed') where.add('outcome =', q.outcome);
  where.timeRange('started_at', ID_PREFIX.attempt, q.since, q.until);
  // Filters no index serves: only the newest SCAN_ROWS attempts of the others (page-budget.ts).
  let scanEnd: string | null = null;
  if (q.eventType || q.outcome === 'succeeded') {
    scanEnd = await boundScan(db, 'attempts', where, q.scanRows);
    if (q.outcome === 'succeeded') where.add('outcome =', q.outcome);
    if (q.eventType) where.add('event_type =', q.eventType);
  }
  const rows = await rowsOf(
    db,
    budgetedListSql(
      `SELECT *, ${ATTEMPT_BYTES} AS bytes FROM attempts
       WHERE ${where.sql} ORDER BY id DESC LIMIT ${where.next()}`,
    ),
    [...where.params, q.limit + 1],
  );
  const attempts = await withRequestBodies(projectId, rows.map(toAttempt), envelopeSources(db));
  return toPage(attempts, q.limit, (a) => a.id, budgetCut(rows), scanEnd);
}

export async function getAttemptPostgres(
  db: Queryable,
  projectId: string,
  attemptId: string,
): Promise<Attempt | null> {
  const [row] = await rowsOf(db, 'SELECT * FROM attempts WHERE project_id = $1 AND id = $2', [
    projectId,
    attemptId,
  ]);
  return row ? (await withRequestBodies(projectId, [toAttempt(row)], envelopeSources(db)))[0]! : null;
}

/** Events whose envelopes attempts sent, for their bodies (attempt-bodies.ts); payloads as stored text. */
const envelopeSources =
  (db: Queryable): LoadEnvelopeSources =>
  async (projectId, eventIds) =>
    envelopeSourcesFromRows(
      await rowsOf(
        db,
        'SELECT id, type, payload::text AS payload, created_at FROM events WHERE project_id = $1 AND id = ANY($2::text[])',
        [projectId, eventIds],
      ),
    );

/** The stats' statement (exported for the plan test): attempts_endpoint over [since, until] only (idLowerBound, idUpperBound). */
export const ENDPOINT_STATS_SQL_POSTGRES = `SELECT started_at / $4::bigint * $4::bigint AS start,
    count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
    count(*) FILTER (WHERE outcome <> 'succeeded') AS failed,
    avg(duration_ms) AS avg,
    percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
  FROM attempts WHERE project_id = $1 AND endpoint_id = $2 AND started_at >= $3 AND started_at <= $5
    AND id >= $6 AND id < $7
  GROUP BY 1 ORDER BY 1`;

/**
 * For the stats' transaction: walk attempts_endpoint (project_id, endpoint_id, id) over the range,
 * whatever the statistics. A 30-day range of an endpoint with a fifth of 4.8M attempts is a tenth
 * of the table, and the planner then chose a parallel scan of the whole table (0.75-1.4 s, workers
 * and all, growing with every endpoint's history) over the index range.
 */
export const STATS_PLANNER_SETTINGS =
  'SET LOCAL enable_seqscan = off; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off';

/**
 * An endpoint's attempts in [since, until] per bucket, aggregated in SQL (one row per bucket). p95
 * is nearest rank, like the SQLite store: percentile_disc picks the ceil(0.95·n)-th value.
 */
export async function endpointStatsPostgres(
  pool: pg.Pool,
  projectId: string,
  endpointId: string,
  q: StatsQuery,
): Promise<StatsBucket[]> {
  const rows = await transaction(pool, async (client) => {
    await client.query(STATS_PLANNER_SETTINGS);
    return rowsOf(client, ENDPOINT_STATS_SQL_POSTGRES, [
      projectId,
      endpointId,
      q.since,
      q.bucketMs,
      q.until,
      idLowerBound(ID_PREFIX.attempt, q.since),
      idUpperBound(ID_PREFIX.attempt, q.until),
    ]);
  });
  return rows.map((r) => ({
    start: num(r.start),
    succeeded: num(r.succeeded),
    failed: num(r.failed),
    avgDurationMs: r.avg == null ? null : num(r.avg),
    p95DurationMs: r.p95 == null ? null : num(r.p95),
  }));
}

export async function listOperationalEventsPostgres(
  db: Queryable,
  projectId: string,
  q: OperationalEventQuery,
): Promise<Page<OperationalEvent>> {
  const where = new Where(projectId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id <', after);
  // A type filter no index serves: only the newest SCAN_ROWS events after the cursor (as attempts).
  let scanEnd: string | null = null;
  if (q.type) {
    scanEnd = await boundScan(db, 'operational_events', where, q.scanRows);
    where.add('type =', q.type);
  }
  const rows = await rowsOf(
    db,
    `SELECT * FROM operational_events WHERE ${where.sql} ORDER BY id DESC LIMIT ${where.next()}`,
    [...where.params, q.limit + 1],
  );
  return toPage(rows.map(toOperationalEvent), q.limit, (o) => o.id, false, scanEnd);
}
