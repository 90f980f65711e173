/**
 * Endpoint writes for the PostgreSQL store: the row and its secrets, and a PATCH's effects (enabling
 * and disabling are in endpoint-parking.ts). Each runs on the client of the caller's transaction;
 * secrets arrive sealed.
 */
import type pg from 'pg';
import { rateLimitLoosened } from '../../domain/gcra.ts';
import { ID_PREFIX, newId } from '../../domain/ids.ts';
import type { Endpoint } from '../../domain/types.ts';
import { type LaterBatches, parkBatch } from '../park-batch.ts';
import { ENDPOINT_SETTING_COLUMNS, endpointSettingPatch, endpointSettingValues } from '../row-mapping.ts';
import { type EndpointPatch, MAX_VALID_SECRETS, type NewEndpoint } from '../store.ts';
import {
  disableEndpointPostgres,
  enableEndpointPostgres,
  recordEndpointDisabledPostgres,
} from './endpoint-parking.ts';
import { type Row, toEndpoint } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

const changed = async (db: Queryable, sql: string, params: unknown[]): Promise<number> =>
  (await db.query(sql, params)).rowCount ?? 0;

/**
 * Store.createEndpoint: the endpoint and its first secret (sealed) in one statement, so one round
 * trip and no transaction around it (a statement is atomic). A new endpoint has one secret, fewer
 * than MAX_VALID_SECRETS, so there is none to expire (insertSecretPostgres). Returns its row.
 */
export async function createEndpointPostgres(
  db: Queryable,
  id: string,
  input: NewEndpoint,
  sealed: string,
  now: number,
): Promise<Row> {
  const { rows } = await db.query(
    `WITH e AS (
       INSERT INTO endpoints (project_id, id, ${ENDPOINT_SETTING_COLUMNS}, status, disabled_reason, disabled_at,
         created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING *
     ), s AS (
       INSERT INTO endpoint_secrets (project_id, id, endpoint_id, secret, created_at, expires_at)
       SELECT project_id, $19, id, $20, created_at, NULL FROM e
     )
     SELECT * FROM e`,
    [
      input.projectId,
      id,
      ...endpointSettingValues(input, Boolean),
      input.active ? 'active' : 'disabled',
      input.active ? null : 'manual',
      input.active ? null : now,
      now,
      newId(ID_PREFIX.secret, now),
      sealed,
    ],
  );
  return rows[0] as Row;
}

/**
 * Writes the settings `fields` names (status excepted: see enable/disable) and `updated_at`, the row
 * locked FOR UPDATE first in the same statement (a subquery the UPDATE joins): one round trip for
 * what was a locking read, then a write. Returns the row as written and the endpoint as it was
 * (`before`: its status and rate limit decide what else a patch does), or null when there is none.
 * The subquery sees the row as last committed (it waited for any writer holding it), so `before`
 * is what this write replaces.
 */
export async function patchEndpointSettingsPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  fields: Omit<EndpointPatch, 'active'>,
  now: number,
): Promise<{ row: Row; before: Endpoint } | null> {
  const { columns, values } = endpointSettingPatch(fields, Boolean);
  const set = [...columns.map((c, i) => `${c} = $${i + 4}`), 'updated_at = $3'].join(', ');
  const { rows } = await db.query(
    `UPDATE endpoints e SET ${set}
     FROM (SELECT project_id, id, status, rate_limit FROM endpoints WHERE project_id = $1 AND id = $2 FOR UPDATE) old
     WHERE e.project_id = old.project_id AND e.id = old.id
     RETURNING e.*, old.status AS old_status, old.rate_limit AS old_rate_limit`,
    [projectId, endpointId, now, ...values],
  );
  const row = rows[0] as Row | undefined;
  if (!row) return null;
  const { old_status, old_rate_limit, ...written } = row;
  return { row: written, before: toEndpoint({ ...written, status: old_status, rate_limit: old_rate_limit }) };
}

/**
 * Deletes the endpoint and its secrets; its pending and parked work can never be delivered and is
 * closed as failed at `at` (its updated_at: CLOSE_BATCH), at most `limit` of it in this transaction: the caller closes the rest in
 * transactions of their own (closeDeliveriesPostgres). In one transaction a backlog of 300,000 took
 * 6.7 s, the endpoint's row locked all along: an accept fanning out to it and a batch of attempt
 * records holding one of its deliveries (and other endpoints' records) waited as long.
 * The endpoint's row is locked first, before any of its deliveries: a batch of attempt records
 * (attempt-records.ts) locks its endpoints, then moves their deliveries, and the other order
 * deadlocked with it. Then the rest in one statement, with a snapshot taken once the lock is held
 * (so it sees what a writer the lock waited for committed), as the statements it replaces did.
 * Returns whether there was one, and how many deliveries the batch picked.
 */
export async function deleteEndpointPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  limit: number,
  at: number,
): Promise<{ deleted: boolean; picked: number }> {
  await lockEndpointPostgres(db, projectId, endpointId, 'FOR UPDATE');
  const { rows } = await db.query(
    `WITH ${CLOSE_BATCH}, secrets AS (
       DELETE FROM endpoint_secrets WHERE project_id = $1 AND endpoint_id = $2
     ), rate AS (
       DELETE FROM endpoint_rate_limits WHERE project_id = $1 AND endpoint_id = $2
     ), gone AS (
       DELETE FROM endpoints WHERE project_id = $1 AND id = $2 RETURNING 1
     )
     SELECT (SELECT count(*) FROM picked)::int AS picked, (SELECT count(*) FROM gone)::int AS deleted`,
    [projectId, endpointId, limit, at],
  );
  const row = rows[0] as { picked: number; deleted: number };
  return { deleted: row.deleted > 0, picked: row.picked };
}

/**
 * After an endpoint's delete committed: waits for the project's accept batches in flight, which
 * hold its row FOR KEY SHARE (accept-batch.ts), by locking the row FOR UPDATE, and writes it (a new
 * version, with this transaction's xmin). A batch that locked the row before this had read the
 * project's endpoints, the deleted one perhaps with them: it commits first, and the delete's next
 * close of the backlog sees and closes what it made. A batch whose lock waits for this one gets the
 * row as written here, not as its snapshot (taken before the delete's commit, perhaps) holds it, and
 * so reads the endpoints again. One statement: the lock in a subquery the UPDATE joins.
 */
export async function fenceAcceptsPostgres(db: Queryable, projectId: string): Promise<void> {
  await db.query(
    `UPDATE projects p SET updated_at = p.updated_at
     FROM (SELECT id FROM projects WHERE id = $1 FOR UPDATE) l WHERE p.id = l.id`,
    [projectId],
  );
}

/**
 * Up to $3 of the endpoint's ($1, $2) pending or parked deliveries (`picked`, on index
 * deliveries_endpoint) closed as failed, locked in key order first (delivery-locks.ts), the
 * condition checked again on those a writer changed meanwhile. Closed at $4, their updated_at:
 * retention keeps an event for its period after its deliveries last changed, and closing is a
 * change. (Until 2026-12-08 it was left as it was: a delivery parked, or waiting, for longer than
 * the retention had its event purged by the next round after the delete, history and all.)
 */
const CLOSE_BATCH = `picked AS (
       SELECT id FROM deliveries WHERE project_id = $1 AND endpoint_id = $2 AND status IN ('pending', 'parked') LIMIT $3
     ), closed AS (
       UPDATE deliveries d SET status = 'failed', next_attempt_at = NULL, leased_by = NULL, updated_at = $4
       FROM (SELECT id FROM deliveries WHERE project_id = $1 AND id IN (SELECT id FROM picked)
               AND status IN ('pending', 'parked') ORDER BY id FOR NO KEY UPDATE) x
       WHERE d.project_id = $1 AND d.id = x.id
     )`;

/**
 * One more batch of a deleted endpoint's pending or parked deliveries closed as failed at `at`, in a
 * statement of its own. Returns how many it picked: fewer than `limit` once none are left.
 */
export async function closeDeliveriesPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  limit: number,
  at: number,
): Promise<number> {
  const { rows } = await db.query(`WITH ${CLOSE_BATCH} SELECT count(*)::int AS picked FROM picked`, [
    projectId,
    endpointId,
    limit,
    at,
  ]);
  return (rows[0] as { picked: number }).picked;
}

/**
 * The deleted endpoints of `projectId` that still have pending or parked deliveries: a delete cut
 * short by a stop after its first transaction (the endpoint gone, its backlog closed in later
 * statements). The project's endpoint ids in its deliveries one index seek each on
 * deliveries_endpoint (a `min` past the last, skipping each endpoint's history), each looked up in
 * endpoints and, when gone, its backlog once more (a subquery with LIMIT 1, not EXISTS, as in
 * strandedParkedPostgres: no join over every entry of the index).
 */
export async function deletedWithBacklogPostgres(db: Queryable, projectId: string): Promise<string[]> {
  const { rows } = await db.query(
    `WITH RECURSIVE seen(id) AS (
       SELECT (SELECT min(endpoint_id) FROM deliveries WHERE project_id = $1 AND endpoint_id IS NOT NULL)
       UNION ALL
       SELECT (SELECT min(endpoint_id) FROM deliveries WHERE project_id = $1 AND endpoint_id > seen.id)
       FROM seen WHERE seen.id IS NOT NULL
     )
     SELECT id FROM seen WHERE id IS NOT NULL
       AND (SELECT true FROM endpoints WHERE project_id = $1 AND id = seen.id) IS NULL
       AND (SELECT true FROM deliveries
            WHERE project_id = $1 AND endpoint_id = seen.id AND status IN ('pending', 'parked') LIMIT 1)`,
    [projectId],
  );
  return (rows as { id: string }[]).map((r) => r.id);
}

/** The endpoint's rate-limit state (rate-limit.ts), once it has no limit or no longer exists. */
async function deleteRateStatePostgres(db: Queryable, projectId: string, endpointId: string): Promise<void> {
  await db.query('DELETE FROM endpoint_rate_limits WHERE project_id = $1 AND endpoint_id = $2', [
    projectId,
    endpointId,
  ]);
}

/**
 * Locks the endpoint's row for the rest of the transaction. The lock order of every transaction that
 * writes an endpoint and its deliveries: endpoints first (several in (project_id, id) order), then
 * deliveries (several in key order too: delivery-locks.ts, endpoint-parking.ts inKeyOrder). Attempt records take FOR
 * KEY SHARE, and FOR NO KEY UPDATE on the endpoints whose row they change (attempt-records.ts); a
 * delete takes FOR UPDATE.
 */
export async function lockEndpointPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  mode: 'FOR UPDATE' | 'FOR NO KEY UPDATE',
): Promise<void> {
  await db.query(`SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 ${mode}`, [
    projectId,
    endpointId,
  ]);
}

/**
 * A new current secret (already sealed). Then, past MAX_VALID_SECRETS valid at `now`, the oldest
 * (the current one first, then by expiry, latest first) expire at `now`, and every secret of the
 * endpoint expired by `now` is deleted: nothing reads a secret past its time, and kept, every
 * rotation left one more row behind for good (an endpoint rotated daily held 365 a year), the
 * secret a rotation with grace 0 retired after a leak included.
 */
export async function insertSecretPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  sealed: string,
  now: number,
): Promise<void> {
  await db.query(
    `INSERT INTO endpoint_secrets (project_id, id, endpoint_id, secret, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, NULL)`,
    [projectId, newId(ID_PREFIX.secret, now), endpointId, sealed, now],
  );
  await db.query(EXPIRE_PAST_VALID_SQL_POSTGRES, [now, projectId, endpointId, MAX_VALID_SECRETS]);
  await db.query(
    `DELETE FROM endpoint_secrets
     WHERE project_id = $1 AND endpoint_id = $2 AND expires_at IS NOT NULL AND expires_at <= $3`,
    [projectId, endpointId, now],
  );
}

/**
 * Expires at $1 the endpoint's ($2, $3) valid secrets past the $4 newest. The rows to update are
 * picked first (ARRAY(…), computed once), and both the pick and the update name the endpoint, so
 * whichever index the planner takes reads the endpoint's secrets or the picked keys, never the
 * project's. With `project_id = $2 AND id IN (…)` alone, the planner, believing a new project small,
 * walked every secret of the project to match them, once per call: creating an endpoint slowed down
 * as its project grew (751 buffers read per create at 1,500 endpoints, 3,000 rows at 3,000).
 */
export const EXPIRE_PAST_VALID_SQL_POSTGRES = `UPDATE endpoint_secrets SET expires_at = $1
  WHERE project_id = $2 AND endpoint_id = $3 AND id = ANY(ARRAY(
    SELECT id FROM endpoint_secrets
    WHERE project_id = $2 AND endpoint_id = $3 AND (expires_at IS NULL OR expires_at > $1)
    ORDER BY (expires_at IS NULL) DESC, expires_at DESC, created_at DESC, id DESC
    OFFSET $4))`;

/**
 * A rotation's grace period: the current secret, and every older one still valid, stays valid
 * until `expiresAt` at the latest (an older one expiring sooner keeps its time). With `expiresAt`
 * now, no earlier secret stays valid.
 */
export async function expireCurrentSecretPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  expiresAt: number,
): Promise<void> {
  await db.query(
    `UPDATE endpoint_secrets SET expires_at = $1
     WHERE project_id = $2 AND endpoint_id = $3 AND (expires_at IS NULL OR expires_at > $1)`,
    [expiresAt, projectId, endpointId],
  );
}

/**
 * The endpoint's deliveries its rate limit put off (released with `rateLimited`), pending and not in
 * flight, due at `now`: its limit was removed or raised (Store.updateEndpoint). Returns how many.
 */
export async function releaseRateDeferredPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  now: number,
): Promise<number> {
  return changed(
    db,
    `UPDATE deliveries SET next_attempt_at = $1, due_since = $1, rate_deferred = false
     WHERE project_id = $2 AND endpoint_id = $3 AND status = 'pending' AND next_attempt_at > $1
       AND rate_deferred AND leased_by IS NULL`,
    [now, projectId, endpointId],
  );
}

/**
 * Store.updateEndpoint's writes after the settings (patchEndpointSettingsPostgres), on `before`, the
 * endpoint as that write found it (and locked) in the caller's transaction: `active: false`
 * disables (parking pending work), `active: true` enables. `resumed` when deliveries became due
 * (enabled, or released by a loosened rate limit); `statusChanged` when it disabled or enabled (the
 * row written by the settings is then no longer the endpoint's). A disable's (an enable's)
 * deliveries past the first batch go to `later`, for the caller to park (resume) after the commit
 * (parkRestPostgres, resumeRestPostgres).
 */
export async function applyEndpointPatchPostgres(
  c: Queryable,
  before: Endpoint,
  patch: EndpointPatch,
  now: number,
  later: LaterBatches[],
  /** The time a disable judges leases at (endpoint-parking.ts notInFlight): `now` in the database's time. */
  leaseNow = now,
  /** When what it makes due is due: `now` as claims count it (lease-clock.ts databaseDueTime). */
  dueAt = now,
): Promise<{ resumed: boolean; statusChanged: boolean }> {
  const { projectId, id: endpointId } = before;
  let resumed = false;
  let statusChanged = false;
  const { active, ...fields } = patch;
  // A disable and an enable are written at `now` in the database's time (leaseNow, dueAt: the same
  // time), the endpoint's disabledAt and updatedAt with them: a replay from disabledAt compares it
  // with events' createdAt, a loosened put-back takes updatedAt as its due time (rate-deferred.ts).
  // Until 2026-12-07 on this process's clock: one S ahead wrote them S late.
  if (active === false && before.status === 'active') {
    const off = await disableEndpointPostgres(
      c,
      projectId,
      endpointId,
      'manual',
      leaseNow,
      parkBatch.rows,
      [],
      leaseNow,
    );
    await recordEndpointDisabledPostgres(c, projectId, endpointId, { reason: 'manual', ...off }, leaseNow);
    if (off.rest) later.push({ projectId, endpointId, disabledAt: leaseNow, inFlightAt: leaseNow });
    statusChanged = true;
  }
  if (active === true && before.status === 'disabled') {
    const on = await enableEndpointPostgres(c, projectId, endpointId, dueAt, parkBatch.rows, dueAt);
    if (on.rest) later.push({ projectId, endpointId, enabledAt: dueAt });
    resumed = true;
    statusChanged = true;
  }
  // Deliveries the old limit put off are due now when it is removed or raised (store.ts).
  if (
    fields.rateLimit !== undefined &&
    rateLimitLoosened(before.rateLimit, fields.rateLimit) &&
    (await releaseRateDeferredPostgres(c, projectId, endpointId, dueAt)) > 0
  )
    resumed = true;
  if (fields.rateLimit === null) await deleteRateStatePostgres(c, projectId, endpointId);
  return { resumed, statusChanged };
}
