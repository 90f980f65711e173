/**
 * Reads of the PostgreSQL store's history: events and attempts page by page (under a page's byte
 * budget, budgeted-list.ts), one attempt with its request body, an endpoint's attempts per
 * time bucket for its charts, and a project's operational events. A `since` also bounds the id, so the (…, id) indexes are walked from
 * `since` on: an id's time is never earlier than the created_at or started_at it was made with.
 */
import type pg from 'pg';
import { ID_PREFIX } from '../../domain/ids.ts';
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
 * The statement of boundScan: the id of the `scanRows`-th newest row of `table` that `where`
 * already selects, its time range taken by its id bounds alone (Where.idRange: the column besides
 * made the planner read and sort the whole range, 26 ms against 2.7 ms at 33,000 attempts in
 * range; the few more rows at its ends only move the bound a little). Exported for its plan test.
 */
export function boundScanQuery(
  table: 'attempts' | 'events' | 'operational_events',
  selects: Where,
  scanRows: number,
): { sql: string; params: unknown[] } {
  const where = selects.idRange();
  return {
    sql: `SELECT id FROM ${table} WHERE ${where.sql} ORDER BY id DESC LIMIT 1 OFFSET ${where.next()}`,
    params: [...where.params, scanRows - 1],
  };
}

/**
 * For a filter no index serves: bounds `where` to the newest `scanRows` (SCAN_ROWS) rows of `table`
 * it already selects, and returns the id of the last of them (the page goes on after it), or null
 * when fewer are left (nothing bounded).
 */
async function boundScan(
  db: Queryable,
  table: 'attempts' | 'events' | 'operational_events',
  where: Where,
  scanRows = SCAN_ROWS,
): Promise<string | null> {
  const { sql, params } = boundScanQuery(table, where, scanRows);
  const [last] = await rowsOf(db, sql, params);
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
  // A filter no index serves: only the newest SCAN_ROWS events of the others (page-budget.ts).
  let scanEnd: string | null = null;
  if (q.idempotencyKey !== undefined) {
    scanEnd = await boundScan(db, 'events', where, q.scanRows);
    where.add('idempotency_key =', q.idempotencyKey);
  }
  const rows = await rowsOf(
    db,
    budgetedListSql(
      `SELECT *, ${jsonBytes('payload')} AS bytes FROM events
       WHERE ${where.sql} ORDER BY id DESC LIMIT ${where.next()}`,
    ),
    [...where.params, q.limit + 1],
  );
  return toPage(rows.map(toEvent), q.limit, (e) => e.id, budgetCut(rows), scanEnd);
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

/**
 * At most about this many attempts are read per statement of an endpoint's stats
 * (endpointStatsPostgres): ~20-40 ms each, read from disk (30 days of 3,000,000 attempts in a
 * 5M-attempt table: 150 steps). One statement for the whole range took 10-14 s there, sorting
 * 98 MB on disk, and would pass the pool's 20 s query timeout (a 503) for a longer range.
 */
export const STATS_STEP_ROWS_POSTGRES = 20_000;

/**
 * Where a step ends: the id of the (offset + 1)-th attempt of the endpoint from an id on, below
 * the range's upper id bound, and when it started. The offset walks attempts_endpoint alone (an
 * index-only scan: ORDER BY endpoint_id, id is that index's order, which the key index does not
 * give); the one row it ends on is then read by key.
 */
const stepEnd = (from: '>=' | '>') => `SELECT id, started_at FROM attempts WHERE project_id = $1 AND id = (
    SELECT id FROM attempts WHERE project_id = $1 AND endpoint_id = $2 AND id ${from} $3 AND id < $4
    ORDER BY endpoint_id, id LIMIT 1 OFFSET $5)`;
export const STATS_STEP_END_POSTGRES = stepEnd('>=');
const BUCKET_STEP_END = stepEnd('>');

/**
 * A step of whole buckets, aggregated (exported for the plan test): per bucket, how many attempts,
 * how many succeeded, the sum of their durations and the nearest-rank p95 (percentile_disc picks
 * the ceil(0.95·n)-th smallest, as the SQLite store). Walks attempts_endpoint over the step's ids
 * ($6 to $7, and no further than $8, the step's last attempt); one row out per bucket.
 */
export const ENDPOINT_STATS_SQL_POSTGRES = `SELECT started_at / $3::bigint AS bucket, count(*) AS n,
    count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded, sum(duration_ms) AS total,
    percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
  FROM attempts WHERE project_id = $1 AND endpoint_id = $2 AND started_at >= $4 AND started_at <= $5
    AND id >= $6 AND id < $7 AND id <= $8
  GROUP BY 1`;

/** One step of a bucket counted on its own: its attempts per duration. */
const BUCKET_STEP_SQL = `SELECT duration_ms, count(*) AS n, count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded
  FROM attempts WHERE project_id = $1 AND endpoint_id = $2 AND id > $3 AND id <= $4
    AND started_at >= $5 AND started_at <= $6
  GROUP BY duration_ms`;

/**
 * For the stats' transaction: walk attempts_endpoint over each step, whatever the statistics (a
 * scan of the whole table, workers and all, was chosen for a range holding a tenth of it).
 */
export const STATS_PLANNER_SETTINGS =
  'SET LOCAL enable_seqscan = off; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off';

/**
 * An endpoint's attempts in [since, until] per bucket, for its charts, as the SQLite store reads
 * them: in steps of whole buckets holding about STATS_STEP_ROWS_POSTGRES attempts (stats-steps.ts),
 * each one statement aggregating in SQL, so no statement reads more than a step whatever the range,
 * and a chart whose caller left stops at its next step. One transaction (its planner settings),
 * its connection one of the chart turns (postgres-store.ts).
 */
export async function endpointStatsPostgres(
  pool: pg.Pool,
  projectId: string,
  endpointId: string,
  q: StatsQuery,
  stepRows = STATS_STEP_ROWS_POSTGRES,
): Promise<StatsBucket[]> {
  const bucketMs = q.bucketMs;
  return transaction(pool, async (db) => {
    await db.query(STATS_PLANNER_SETTINGS);
    return readStatsInSteps(
      {
        stepEnd: async (fromId, upper, offset, after) => {
          const [end] = await rowsOf(db, after ? BUCKET_STEP_END : STATS_STEP_END_POSTGRES, [
            projectId,
            endpointId,
            fromId,
            upper,
            offset,
          ]);
          return end ? { id: String(end.id), startedAt: num(end.started_at) } : null;
        },
        wholeBuckets: async (from, until, fromId, upper, lastId) =>
          (
            await rowsOf(db, ENDPOINT_STATS_SQL_POSTGRES, [
              projectId,
              endpointId,
              bucketMs,
              from,
              until,
              fromId,
              upper,
              // No last id: the step's upper bound ($7) again, which bounds nothing more. Not
              // '\uffff' as the SQLite store has it: ids compare in the database's collation here,
              // where a noncharacter's order is the locale's to decide.
              lastId ?? upper,
            ])
          ).map((r) => bucketOfRow(r, bucketMs)),
        durations: async (after, to, from, until) =>
          (await rowsOf(db, BUCKET_STEP_SQL, [projectId, endpointId, after, to, from, until])).map((r) =>
            durationsOfRow(r),
          ),
        // Each step is a round trip: the thread is free meanwhile.
        between: async () => undefined,
      },
      q,
      stepRows,
    );
  });
}

export async function listOperationalEventsPostgres(
  db: Queryable,
  projectId: string,
  q: OperationalEventQuery,
): Promise<Page<OperationalEvent>> {
  const where = new Where(projectId);
  const after = decodeCursor(q.cursor);
  if (after) where.add('id <', after);
  // Filters no index serves: only the newest SCAN_ROWS events after the cursor (as attempts).
  let scanEnd: string | null = null;
  if (q.type || q.endpointId) scanEnd = await boundScan(db, 'operational_events', where, q.scanRows);
  if (q.type) where.add('type =', q.type);
  if (q.endpointId) where.add(`data->>'endpointId' =`, q.endpointId);
  const rows = await rowsOf(
    db,
    `SELECT * FROM operational_events WHERE ${where.sql} ORDER BY id DESC LIMIT ${where.next()}`,
    [...where.params, q.limit + 1],
  );
  return toPage(rows.map(toOperationalEvent), q.limit, (o) => o.id, false, scanEnd);
}
