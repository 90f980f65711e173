/**
 * Endpoint writes for the SQLite store: the row and its secrets, enabling (parked work resumes)
 * and disabling (pending work is parked), and the operational events those record. Each runs inside
 * one of the store's group commits; secrets arrive sealed.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { Endpoint, Json, OperationalEvent } from '../../domain/types.ts';
import { type LaterBatches, type ParkRest, parkBatch, type ResumeRest } from '../park-batch.ts';
import { ENDPOINT_SETTING_COLUMNS, endpointSettingValues } from '../row-mapping.ts';
import { type EndpointPatch, MAX_VALID_SECRETS, type NewEndpoint } from '../store.ts';
import { all, get, run } from './db-helpers.ts';

const json = (v: unknown): string => JSON.stringify(v);

const sqliteBool = (v: boolean): number => (v ? 1 : 0);

export function insertEndpointSqlite(db: DatabaseSync, id: string, input: NewEndpoint, now: number): void {
  run(
    db,
    `INSERT INTO endpoints (id, project_id, ${ENDPOINT_SETTING_COLUMNS}, status, disabled_reason, disabled_at,
       created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id,
    input.projectId,
    ...(endpointSettingValues(input, sqliteBool) as SQLInputValue[]),
    input.active ? 'active' : 'disabled',
    input.active ? null : 'manual',
    input.active ? null : now,
    now,
    now,
  );
}

/** Writes every setting of `e` (status excepted: see enable/disable). */
export function updateEndpointSqlite(db: DatabaseSync, e: Endpoint, now: number): void {
  run(
    db,
    `UPDATE endpoints SET (${ENDPOINT_SETTING_COLUMNS}, updated_at) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     WHERE project_id = ? AND id = ?`,
    ...(endpointSettingValues(e, sqliteBool) as SQLInputValue[]),
    now,
    e.projectId,
    e.id,
  );
}

/**
 * Deletes the endpoint and its secrets; its pending and parked work can never be delivered and is
 * closed as failed, at most `limit` of it in this write: the caller closes the rest in writes of
 * their own (closeDeliveriesSqlite), as a disable parks (park-batch.ts). One write closing a
 * backlog of 1,000,000 held the write lock, and the thread that accepts events, 4.9 s.
 */
export function deleteEndpointSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  limit: number,
  now: number,
): { deleted: boolean; closed: number } {
  const closed = closeDeliveriesSqlite(db, projectId, endpointId, limit, now);
  run(db, 'DELETE FROM endpoint_secrets WHERE project_id = ? AND endpoint_id = ?', projectId, endpointId);
  deleteRateStateSqlite(db, projectId, endpointId);
  const deleted = run(db, 'DELETE FROM endpoints WHERE project_id = ? AND id = ?', projectId, endpointId) > 0;
  return { deleted, closed };
}

/**
 * Up to `limit` pending or parked deliveries of a deleted endpoint closed as failed at `now` (their
 * updated_at: retention keeps an event for its period after its deliveries last changed; until
 * 2026-12-08 left as it was, and a delivery parked or waiting for longer than the retention had its
 * event purged by the next round after the delete), on index deliveries_endpoint. Returns how many;
 * fewer than `limit` once none are left. An attempt record of one that was in flight finds it
 * failed and leaves it so (attempt-records.ts).
 */
export function closeDeliveriesSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  limit: number,
  now: number,
): number {
  return run(
    db,
    `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, leased_by = NULL, updated_at = ? WHERE rowid IN (
       SELECT rowid FROM deliveries WHERE project_id = ? AND endpoint_id = ? AND status IN ('pending', 'parked') LIMIT ?)`,
    now,
    projectId,
    endpointId,
    limit,
  );
}

/**
 * The deleted endpoints of `projectId` that still have pending or parked deliveries: a delete cut
 * short by a stop after its first write (the endpoint gone, its backlog closed in later writes).
 * The project's endpoint ids in its deliveries one index seek each on deliveries_endpoint (a
 * `min` past the last, skipping each endpoint's history), each looked up in endpoints and, when
 * gone, its backlog once more: 1,500,000 rows of 600 endpoints took ~3 ms.
 */
export function deletedWithBacklogSqlite(db: DatabaseSync, projectId: string): string[] {
  return all(
    db,
    `WITH RECURSIVE seen(id) AS (
       SELECT (SELECT min(endpoint_id) FROM deliveries WHERE project_id = ?1 AND endpoint_id IS NOT NULL)
       UNION ALL
       SELECT (SELECT min(endpoint_id) FROM deliveries WHERE project_id = ?1 AND endpoint_id > seen.id)
       FROM seen WHERE seen.id IS NOT NULL
     )
     SELECT id FROM seen WHERE id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM endpoints WHERE project_id = ?1 AND id = seen.id)
       AND EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_endpoint
                   WHERE project_id = ?1 AND endpoint_id = seen.id AND status IN ('pending', 'parked'))`,
    projectId,
  ).map((r) => String(r.id));
}

/** The endpoint's rate-limit state (rate-limit.ts), once it has no limit or no longer exists. */
function deleteRateStateSqlite(db: DatabaseSync, projectId: string, endpointId: string): void {
  run(db, 'DELETE FROM endpoint_rate_limits WHERE project_id = ? AND endpoint_id = ?', projectId, endpointId);
}

/**
 * A new current secret (already sealed). Then, past MAX_VALID_SECRETS valid at `now`, the oldest
 * (the current one first, then by expiry, latest first) expire at `now`, and every secret of the
 * endpoint expired by `now` is deleted: nothing reads a secret past its time, and kept, every
 * rotation left one more row behind for good (an endpoint rotated daily held 365 a year), the
 * secret a rotation with grace 0 retired after a leak included.
 */
export function insertSecretSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  sealed: string,
  now: number,
): void {
  run(
    db,
    'INSERT INTO endpoint_secrets (id, project_id, endpoint_id, secret, created_at, expires_at) VALUES (?, ?, ?, ?, ?, NULL)',
    newId(ID_PREFIX.secret, now),
    projectId,
    endpointId,
    sealed,
    now,
  );
  run(
    db,
    `UPDATE endpoint_secrets SET expires_at = ? WHERE id IN (
       SELECT id FROM endpoint_secrets
       WHERE project_id = ? AND endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY (expires_at IS NULL) DESC, expires_at DESC, created_at DESC, id DESC
       LIMIT -1 OFFSET ?)`,
    now,
    projectId,
    endpointId,
    now,
    MAX_VALID_SECRETS,
  );
  run(
    db,
    `DELETE FROM endpoint_secrets
     WHERE project_id = ? AND endpoint_id = ? AND expires_at IS NOT NULL AND expires_at <= ?`,
    projectId,
    endpointId,
    now,
  );
}

/**
 * A rotation's grace period: the current secret, and every older one still valid, stays valid
 * until `expiresAt` at the latest (an older one expiring sooner keeps its time). With `expiresAt`
 * now, no earlier secret stays valid.
 */
export function expireCurrentSecretSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  expiresAt: number,
): void {
  run(
    db,
    `UPDATE endpoint_secrets SET expires_at = ?
     WHERE project_id = ? AND endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)`,
    expiresAt,
    projectId,
    endpointId,
    expiresAt,
  );
}

/**
 * The endpoint's deliveries its rate limit put off (released with `rateLimited`), pending and not in
 * flight, due at `now`: its limit was removed or raised (Store.updateEndpoint). Returns how many.
 */
export function releaseRateDeferredSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  now: number,
): number {
  return run(
    db,
    `UPDATE deliveries SET next_attempt_at = ?, due_since = ?, rate_deferred = 0
     WHERE project_id = ? AND endpoint_id = ? AND status = 'pending' AND next_attempt_at > ?
       AND rate_deferred = 1 AND leased_by IS NULL`,
    now,
    now,
    projectId,
    endpointId,
    now,
  );
}

/**
 * Enables the endpoint (its failure count starts over) and resumes its parked work, due now: at
 * most `limit` of it in this write (park-batch.ts), the others counted and left to later writes
 * (resumeRestSqlite), so one write never resumes a whole backlog. Records `endpoint.recovered` when
 * it was disabled, `resumed` counting them all. Returns how many resume in all (now and later) and
 * whether some are left.
 */
export function enableEndpointSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  now: number,
  limit: number,
): { resumed: number; rest: boolean } {
  const wasDisabled =
    run(
      db,
      `UPDATE endpoints SET status = 'active', disabled_reason = NULL, disabled_at = NULL, consecutive_failures = 0,
         updated_at = ? WHERE project_id = ? AND id = ? AND status = 'disabled'`,
      now,
      projectId,
      endpointId,
    ) > 0;
  if (!wasDisabled) {
    run(
      db,
      'UPDATE endpoints SET consecutive_failures = 0 WHERE project_id = ? AND id = ?',
      projectId,
      endpointId,
    );
  }
  const first = resumeParkedSqlite(db, projectId, endpointId, now, limit);
  // The rest, counted on index deliveries_endpoint: what the later writes will resume.
  const rest =
    first < limit
      ? 0
      : Number(
          get(
            db,
            "SELECT COUNT(*) AS n FROM deliveries WHERE project_id = ? AND endpoint_id = ? AND status = 'parked'",
            projectId,
            endpointId,
          )?.n ?? 0,
        );
  const resumed = first + rest;
  if (wasDisabled)
    insertOperationalEventSqlite(db, projectId, 'endpoint.recovered', { endpointId, resumed }, now);
  return { resumed, rest: rest > 0 };
}

/** Up to `limit` of the endpoint's parked deliveries pending again, due at `now`. */
function resumeParkedSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  now: number,
  limit: number,
): number {
  return run(
    db,
    `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, due_since = ?, leased_by = NULL, held_until = NULL,
       updated_at = ?
     WHERE rowid IN (
       SELECT rowid FROM deliveries WHERE project_id = ? AND endpoint_id = ? AND status = 'parked' LIMIT ?)`,
    now,
    now,
    now,
    projectId,
    endpointId,
    limit,
  );
}

/**
 * One later write of an enable (ResumeRest): up to `limit` more of the endpoint's parked deliveries
 * resumed, due at the enable's time, while the endpoint is still active. Returns how many; fewer
 * than `limit` when none are left or the endpoint was disabled (or deleted) meanwhile: what a
 * disable parked stays parked.
 */
export function resumeRestSqlite(db: DatabaseSync, rest: ResumeRest, limit: number): number {
  const still = get(
    db,
    "SELECT 1 AS x FROM endpoints WHERE project_id = ? AND id = ? AND status = 'active'",
    rest.projectId,
    rest.endpointId,
  );
  if (!still) return 0;
  return resumeParkedSqlite(db, rest.projectId, rest.endpointId, rest.enabledAt, limit);
}

/**
 * Active endpoints that still have parked deliveries (an enable's later writes cut short by a stop,
 * park-batch.ts ResumeRest): for each active endpoint, the first entry of its parked range on index
 * deliveries_endpoint, if any. 10,000 active endpoints, none stranded: a few ms.
 */
export function strandedParkedSqlite(db: DatabaseSync): { projectId: string; endpointId: string }[] {
  return all(
    db,
    `SELECT e.project_id, e.id FROM endpoints e WHERE e.status = 'active' AND EXISTS (
       SELECT 1 FROM deliveries d INDEXED BY deliveries_endpoint
       WHERE d.project_id = e.project_id AND d.endpoint_id = e.id AND d.status = 'parked')`,
  ).map((r) => ({ projectId: String(r.project_id), endpointId: String(r.id) }));
}

/** Not in flight at `?`: a lease is leased_by with next_attempt_at at its end (claims.ts). */
const NOT_IN_FLIGHT = 'NOT (leased_by IS NOT NULL AND next_attempt_at > ?)';

/**
 * Disables the endpoint and parks its pending deliveries, except those in flight (a worker's lease
 * on them runs: their attempt record decides their state, `parked` if it plans a retry) and those in
 * `except` (the attempt records of the batch that disables it, which do the same): at most `limit`
 * of them now (park-batch.ts), the others counted and left to later writes (parkRestSqlite), so one
 * write never parks a whole backlog. Returns how many it parks in all (now and later) and whether
 * some are left; the caller records `endpoint.disabled` (recordEndpointDisabledSqlite).
 */
export function disableEndpointSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  reason: string,
  now: number,
  limit: number,
  except: string[] = [],
): { parked: number; rest: boolean } {
  run(
    db,
    `UPDATE endpoints SET status = 'disabled', disabled_reason = ?, disabled_at = ?, updated_at = ?
     WHERE project_id = ? AND id = ?`,
    reason,
    now,
    now,
    projectId,
    endpointId,
  );
  const parked = limit > 0 ? parkPendingSqlite(db, projectId, endpointId, now, limit, except) : 0;
  if (parked < limit) return { parked, rest: false };
  // The rest, counted on index deliveries_endpoint: what the later writes will park.
  const rest = Number(
    get(
      db,
      `SELECT COUNT(*) AS n FROM deliveries WHERE project_id = ? AND endpoint_id = ? AND status = 'pending'
         AND ${NOT_IN_FLIGHT} AND id NOT IN (SELECT value FROM json_each(?))`,
      projectId,
      endpointId,
      now,
      JSON.stringify(except),
    )?.n ?? 0,
  );
  return { parked: parked + rest, rest: rest > 0 };
}

/** Parks up to `limit` of the endpoint's pending deliveries not in flight at `now` nor in `except`. */
function parkPendingSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  now: number,
  limit: number,
  except: string[] = [],
): number {
  return run(
    db,
    `UPDATE deliveries SET status = 'parked', leased_by = NULL, updated_at = ? WHERE rowid IN (
       SELECT rowid FROM deliveries WHERE project_id = ? AND endpoint_id = ? AND status = 'pending'
         AND ${NOT_IN_FLIGHT} AND id NOT IN (SELECT value FROM json_each(?)) LIMIT ?)`,
    now,
    projectId,
    endpointId,
    now,
    JSON.stringify(except),
    limit,
  );
}

/**
 * One later write of a disable (ParkRest): up to `limit` more of the endpoint's pending deliveries
 * parked, as the disable would have, while the endpoint is still disabled by it. Returns how many;
 * fewer than `limit` when none are left or the endpoint was enabled (or deleted, or disabled anew)
 * meanwhile. A pending delivery of a disabled endpoint these never reach (the process stopped) is
 * parked by the dispatcher when it claims it (dispatcher.ts).
 */
export function parkRestSqlite(db: DatabaseSync, rest: ParkRest, limit: number): number {
  const still = get(
    db,
    "SELECT 1 AS x FROM endpoints WHERE project_id = ? AND id = ? AND status = 'disabled' AND disabled_at = ?",
    rest.projectId,
    rest.endpointId,
    rest.disabledAt,
  );
  if (!still) return 0;
  return parkPendingSqlite(db, rest.projectId, rest.endpointId, rest.disabledAt, limit);
}

/** Records `endpoint.disabled`: the reason, the endpoint's failure count, how many deliveries the disable parked. */
export function recordEndpointDisabledSqlite(
  db: DatabaseSync,
  projectId: string,
  endpointId: string,
  reason: string,
  parked: number,
  now: number,
): void {
  const failures = Number(
    get(
      db,
      'SELECT consecutive_failures AS n FROM endpoints WHERE project_id = ? AND id = ?',
      projectId,
      endpointId,
    )?.n ?? 0,
  );
  insertOperationalEventSqlite(
    db,
    projectId,
    'endpoint.disabled',
    { endpointId, reason, consecutiveFailures: failures, parked },
    now,
  );
}

export function insertOperationalEventSqlite(
  db: DatabaseSync,
  projectId: string,
  type: OperationalEvent['type'],
  data: { [k: string]: Json },
  now: number,
): void {
  run(
    db,
    'INSERT INTO operational_events (id, project_id, type, data, created_at) VALUES (?, ?, ?, ?, ?)',
    newId(ID_PREFIX.operationalEvent, now),
    projectId,
    type,
    json(data),
    now,
  );
}

/**
 * Store.updateEndpoint's write, on `cur` as read before it: the settings, then `active: false`
 * disables (parking pending work), `active: true` enables, and `loosened` (the rate limit was
 * removed or raised) makes the deliveries the old limit put off due now. A disable's (an enable's)
 * deliveries past the first batch go to `later`, for the caller to park (resume) after the commit
 * (parkRestSqlite, resumeRestSqlite).
 */
export function applyEndpointPatchSqlite(
  db: DatabaseSync,
  cur: Endpoint,
  patch: EndpointPatch,
  loosened: boolean,
  now: number,
  later: LaterBatches[],
): void {
  const { projectId, id: endpointId } = cur;
  const { active, ...fields } = patch;
  updateEndpointSqlite(db, { ...cur, ...fields }, now);
  if (active === false && cur.status === 'active') {
    const off = disableEndpointSqlite(db, projectId, endpointId, 'manual', now, parkBatch.rows);
    recordEndpointDisabledSqlite(db, projectId, endpointId, 'manual', off.parked, now);
    if (off.rest) later.push({ projectId, endpointId, disabledAt: now });
  }
  if (active === true && cur.status === 'disabled') {
    const on = enableEndpointSqlite(db, projectId, endpointId, now, parkBatch.rows);
    if (on.rest) later.push({ projectId, endpointId, enabledAt: now });
  }
  if (loosened) releaseRateDeferredSqlite(db, projectId, endpointId, now);
  if (fields.rateLimit === null) deleteRateStateSqlite(db, projectId, endpointId);
}
