/**
 * Enabling and disabling an endpoint on PostgreSQL: its pending work parked when it is disabled,
 * its parked work resumed when it is enabled, a batch in the caller's transaction and the rest in
 * later ones (park-batch.ts), deliveries locked in key order; and the operational events these
 * record (`endpoint.disabled`, `endpoint.recovered`). Each runs on the client of the caller's
 * transaction, the endpoint locked first (endpoint-writes.ts lockEndpointPostgres).
 */
import type pg from 'pg';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { Json, OperationalEvent } from '../../domain/types.ts';
import type { ParkRest, ResumeRest } from '../park-batch.ts';
import { num, type Row } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

const json = (v: unknown): string => JSON.stringify(v);
const changed = async (db: Queryable, sql: string, params: unknown[]): Promise<number> =>
  (await db.query(sql, params)).rowCount ?? 0;

/**
 * Enables the endpoint (its failure count starts over) and resumes its parked work, due now: at
 * most `limit` of it in this transaction (park-batch.ts), the others counted and left to later
 * transactions (resumeRestPostgres), so one transaction never resumes a whole backlog. Records
 * `endpoint.recovered` when it was disabled, `resumed` counting them all. Returns how many resume
 * in all (now and later) and whether some are left.
 */
export async function enableEndpointPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  now: number,
  limit: number,
  /** When the resumed deliveries are due: `now` as claims count it (lease-clock.ts databaseDueTime). */
  dueAt = now,
): Promise<{ resumed: number; rest: boolean }> {
  const wasDisabled =
    (await changed(
      db,
      `UPDATE endpoints SET status = 'active', disabled_reason = NULL, disabled_at = NULL, consecutive_failures = 0,
         updated_at = $1 WHERE project_id = $2 AND id = $3 AND status = 'disabled'`,
      [now, projectId, endpointId],
    )) > 0;
  if (!wasDisabled) {
    await db.query('UPDATE endpoints SET consecutive_failures = 0 WHERE project_id = $1 AND id = $2', [
      projectId,
      endpointId,
    ]);
  }
  const ids = await parkedToResumePostgres(db, projectId, endpointId, limit);
  const first = await resumeIdsPostgres(db, projectId, endpointId, dueAt, ids);
  let rest = 0;
  if (ids.length >= limit) {
    // The rest, counted on index deliveries_endpoint: what the later transactions will resume.
    const { rows } = await db.query(
      `SELECT count(*) AS n FROM deliveries WHERE project_id = $1 AND endpoint_id = $2 AND status = 'parked'`,
      [projectId, endpointId],
    );
    rest = num((rows[0] as Row | undefined)?.n ?? 0);
  }
  const resumed = first + rest;
  if (wasDisabled)
    await insertOperationalEventPostgres(db, projectId, 'endpoint.recovered', { endpointId, resumed }, now);
  return { resumed, rest: rest > 0 };
}

/**
 * The ids of up to `limit` (null: all) of the endpoint's parked deliveries, on index
 * deliveries_endpoint: picked first, then updated by key, as the parking does (pendingToParkPostgres).
 */
export async function parkedToResumePostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  limit: number | null,
): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT id FROM deliveries WHERE project_id = $1 AND endpoint_id = $2 AND status = 'parked' LIMIT $3`,
    [projectId, endpointId, limit],
  );
  return (rows as Row[]).map((r) => String(r.id));
}

/**
 * Those of `ids` still parked pending again, due at `now`, locked in key order (inKeyOrder).
 * Returns how many.
 */
async function resumeIdsPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  now: number,
  ids: string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  return changed(
    db,
    `UPDATE deliveries d SET status = 'pending', next_attempt_at = $1, due_since = $1, leased_by = NULL,
       held_until = NULL, updated_at = $1
     FROM ${inKeyOrder("status = 'parked'")} x WHERE d.project_id = $2 AND d.id = x.id`,
    [now, projectId, endpointId, ids],
  );
}

/**
 * Those of the endpoint's ($2, $3) deliveries in $4 that meet `condition`, locked in key order, as
 * a subquery for an UPDATE to join: the order attempt records move deliveries in
 * (attempt-records.ts rounds) and retention and a recover lock them in. An UPDATE by `id =
 * ANY(…)` alone locks them in the order of whichever index its plan walks: due order on
 * deliveries_endpoint, table order on a bitmap scan. In a scratch run a disable's park (due order)
 * and another worker's late records of the deliveries it parked deadlocked in 4 rounds of 10, the
 * records in the order they finished or sorted. The condition is checked again on a row a writer
 * changed meanwhile, once it is locked.
 */
const inKeyOrder = (condition: string) => `(SELECT id FROM deliveries
     WHERE project_id = $2 AND id = ANY($4::text[]) AND endpoint_id = $3 AND ${condition}
     ORDER BY id FOR NO KEY UPDATE)`;

/**
 * One later transaction of an enable (ResumeRest): the endpoint locked (endpoints before
 * deliveries, lockEndpointPostgres) and, while it is still active, those of `ids`
 * (parkedToResumePostgres, read once when the resume starts) resumed, due at the enable's time.
 * Returns how many, or null when the endpoint was disabled (or deleted) meanwhile: the resume stops,
 * and what a disable parked stays parked.
 */
export async function resumeRestPostgres(
  db: Queryable,
  rest: ResumeRest,
  ids: string[],
): Promise<number | null> {
  const { rows } = await db.query(
    `SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 AND status = 'active' FOR NO KEY UPDATE`,
    [rest.projectId, rest.endpointId],
  );
  if (rows.length === 0) return null;
  await db.query(BY_KEY);
  return resumeIdsPostgres(db, rest.projectId, rest.endpointId, rest.enabledAt, ids);
}

/**
 * Active endpoints that still have parked deliveries (an enable's later transactions cut short by a
 * stop, park-batch.ts ResumeRest): for each active endpoint, the first entry of its parked range on
 * index deliveries_endpoint, if any. A plain read.
 */
export async function strandedParkedPostgres(
  db: Queryable,
): Promise<{ projectId: string; endpointId: string }[]> {
  const { rows } = await db.query(
    // A subquery with LIMIT 1 per endpoint, not EXISTS: the planner turns EXISTS into a join that
    // reads every parked entry of the index (a disabled endpoint's backlog too), or all of it.
    `SELECT e.project_id, e.id FROM endpoints e WHERE e.status = 'active' AND (
       SELECT true FROM deliveries d
       WHERE d.project_id = e.project_id AND d.endpoint_id = e.id AND d.status = 'parked' LIMIT 1)`,
  );
  return (rows as Row[]).map((r) => ({ projectId: String(r.project_id), endpointId: String(r.id) }));
}

/** Updates by key, whatever the statistics of a fresh backlog say (a scan of the table per batch otherwise). */
const BY_KEY = 'SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off';

/**
 * Not in flight at the time in `at` (a placeholder): leased, the lease running (claims.ts UNLEASED).
 * On PostgreSQL a lease's end is in the database's time, so is that time (the callers' `leaseNow`,
 * lease-clock.ts leaseJudgedAt): judged on this process's clock, a disable from a process S ahead
 * parked the deliveries being sent for the last S of their leases, leased to no one, and an enable
 * then made them due while their attempts were still out (sent twice; until 2026-12-07).
 */
const notInFlight = (at: string) =>
  `NOT (leased_by IS NOT NULL AND lease_until IS NOT NULL AND lease_until > ${at})`;

/**
 * Disables the endpoint and parks its pending deliveries, except those in flight (a worker's lease
 * on them runs: their attempt record decides their state, `parked` if it plans a retry) and those in
 * `except` (the attempt records of the batch that disables it, which do the same): at most `limit`
 * of them now (park-batch.ts), the others counted and left to later transactions
 * (parkRestPostgres), so one transaction never parks a whole backlog. Returns how many it parks in
 * all (now and later), whether some are left, and the endpoint's failure count; the caller records
 * `endpoint.disabled` (recordEndpointDisabledPostgres). In two steps for a batch of attempt records,
 * which locks what the first picks with its other deliveries before the second parks them
 * (attempt-records.ts).
 */
export async function disableEndpointPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  reason: string,
  now: number,
  limit: number,
  except: string[] = [],
  leaseNow = now,
): Promise<{ parked: number; rest: boolean; consecutiveFailures: number }> {
  const picked = await disablePickingPostgres(
    db,
    projectId,
    endpointId,
    reason,
    now,
    limit,
    except,
    leaseNow,
  );
  return {
    ...(await parkPickedPostgres(db, projectId, endpointId, now, limit, except, picked.ids, leaseNow)),
    ...picked,
  };
}

/**
 * The first step of disableEndpointPostgres: the endpoint disabled, its failure count, and the ids
 * of up to `limit` of its deliveries to park now (none locked yet).
 */
export async function disablePickingPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  reason: string,
  now: number,
  limit: number,
  except: string[],
  leaseNow = now,
): Promise<{ consecutiveFailures: number; ids: string[] }> {
  const { rows } = await db.query(
    `UPDATE endpoints SET status = 'disabled', disabled_reason = $1, disabled_at = $2, updated_at = $2
     WHERE project_id = $3 AND id = $4 RETURNING consecutive_failures`,
    [reason, now, projectId, endpointId],
  );
  const consecutiveFailures = num((rows[0] as Row | undefined)?.consecutive_failures ?? 0);
  const ids =
    limit > 0 ? await pendingToParkPostgres(db, projectId, endpointId, leaseNow, limit, except) : [];
  return { consecutiveFailures, ids };
}

/**
 * The second step of disableEndpointPostgres: those of `ids` still pending and not in flight
 * parked (one a claim took in between is parked by its dispatcher, dispatcher.ts), and the rest
 * counted when `ids` filled the batch. Returns how many it parks in all and whether some are left.
 */
export async function parkPickedPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  now: number,
  limit: number,
  except: string[],
  ids: string[],
  leaseNow = now,
): Promise<{ parked: number; rest: boolean }> {
  await parkIdsPostgres(db, projectId, endpointId, now, ids, leaseNow);
  const parked = ids.length;
  if (parked < limit) return { parked, rest: false };
  // The rest, counted on index deliveries_endpoint: what the later transactions will park.
  const { rows: counted } = await db.query(
    `SELECT count(*) AS n FROM deliveries WHERE project_id = $2 AND endpoint_id = $3 AND status = 'pending'
       AND ${notInFlight('$1')} AND id <> ALL($4::text[])`,
    [leaseNow, projectId, endpointId, except],
  );
  const rest = num((counted[0] as Row | undefined)?.n ?? 0);
  return { parked: parked + rest, rest: rest > 0 };
}

/**
 * The ids of up to `limit` (null: all) of the endpoint's pending deliveries not in flight at `leaseNow`
 * nor in `except`, on index deliveries_endpoint. Picked first, then updated by key, as a recover
 * does (due-deliveries.ts): one statement with a join let the planner, on the stale statistics of a
 * fresh backlog, scan the table once per picked row (a batch of 1,000 took seconds).
 */
export async function pendingToParkPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  leaseNow: number,
  limit: number | null,
  except: string[] = [],
): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT id FROM deliveries WHERE project_id = $2 AND endpoint_id = $3 AND status = 'pending'
       AND ${notInFlight('$1')} AND id <> ALL($4::text[]) LIMIT $5`,
    [leaseNow, projectId, endpointId, except, limit],
  );
  return (rows as Row[]).map((r) => String(r.id));
}

/**
 * Those of `ids` still pending and not in flight at `leaseNow` parked at `now` (one a claim took in
 * between is left to it), locked in key order (inKeyOrder).
 */
async function parkIdsPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  now: number,
  ids: string[],
  leaseNow: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  return changed(
    db,
    `UPDATE deliveries d SET status = 'parked', leased_by = NULL, updated_at = $1
     FROM ${inKeyOrder(`status = 'pending' AND ${notInFlight('$5')}`)} x WHERE d.project_id = $2 AND d.id = x.id`,
    [now, projectId, endpointId, ids, leaseNow],
  );
}

/**
 * One later transaction of a disable (ParkRest): the endpoint locked (endpoints before deliveries,
 * lockEndpointPostgres) and, while it is still disabled by that disable, those of `ids`
 * (pendingToParkPostgres, read once when the parking starts: walking the index again for each batch
 * walks past the entries of every row parked before) parked as the disable would have. False when
 * the endpoint was enabled (or deleted, or disabled anew) meanwhile: the parking stops. A pending
 * delivery of a disabled endpoint these never reach (the process stopped) is parked by the
 * dispatcher that claims it (dispatcher.ts).
 */
export async function parkRestPostgres(db: Queryable, rest: ParkRest, ids: string[]): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 AND status = 'disabled' AND disabled_at = $3
     FOR NO KEY UPDATE`,
    [rest.projectId, rest.endpointId, rest.disabledAt],
  );
  if (rows.length === 0) return false;
  await db.query(BY_KEY);
  await parkIdsPostgres(
    db,
    rest.projectId,
    rest.endpointId,
    rest.disabledAt,
    ids,
    rest.inFlightAt ?? rest.disabledAt,
  );
  return true;
}

/** Records `endpoint.disabled`: the reason, the endpoint's failure count, how many deliveries the disable parked. */
export async function recordEndpointDisabledPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  data: { reason: string; consecutiveFailures: number; parked: number },
  now: number,
): Promise<void> {
  await insertOperationalEventPostgres(
    db,
    projectId,
    'endpoint.disabled',
    { endpointId, reason: data.reason, consecutiveFailures: data.consecutiveFailures, parked: data.parked },
    now,
  );
}

export async function insertOperationalEventPostgres(
  db: Queryable,
  projectId: string,
  type: OperationalEvent['type'],
  data: { [k: string]: Json },
  now: number,
): Promise<void> {
  await db.query(
    'INSERT INTO operational_events (project_id, id, type, data, created_at) VALUES ($1, $2, $3, $4, $5)',
    [projectId, newId(ID_PREFIX.operationalEvent, now), type, json(data), now],
  );
}
