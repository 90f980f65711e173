/**
 * Deliveries made due again for the PostgreSQL store (a retry, a recovery, claimed deliveries and
 * claims handed back) and the backlog of pending ones. Writes run on the client of the caller's
 * transaction; the caller wakes the dispatchers when they changed anything.
 */
import type pg from 'pg';
import type { RateLimit } from '../../domain/types.ts';
import { type CurrentLimit, dueUnderLimit, putOffByLimit } from '../rate-deferred.ts';
import type { RecoverCursor } from '../recover-batch.ts';
import type { Backlog, ReleaseItem } from '../store.ts';
import { lockedInKeyOrder } from './delivery-locks.ts';
import { num, type Row } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

const changed = async (db: Queryable, sql: string, params: unknown[]): Promise<number> =>
  (await db.query(sql, params)).rowCount ?? 0;

/**
 * One delivery, whatever its state, pending and due at `now`: the row as written, or why not.
 * First its project's row, FOR KEY SHARE, only while its delete has not begun (`gone`): the
 * delete's first step (FOR UPDATE) waits for this retry, then closes the callback it reopened, or
 * this waits for that step and finds the project `deleting` (a callback reopened after the delete
 * closed the project's callbacks was claimed and sent until the history steps deleted it). Then its
 * endpoint's row, FOR SHARE (before the delivery, the order every writer of both keeps:
 * lockEndpointPostgres): a delete (FOR UPDATE) or a disable (FOR UPDATE by a PATCH, FOR NO KEY
 * UPDATE by attempt records) comes wholly before or after this retry, whose answer says which.
 */
export async function retryDeliveryPostgres(
  c: Queryable,
  projectId: string,
  deliveryId: string,
  now: number,
  /** The `now` a lease's end is compared with: in the database's time (lease-clock.ts). */
  leaseNow = now,
): Promise<Row | 'gone' | 'in-flight' | 'endpoint-deleted' | 'endpoint-disabled'> {
  const project = await c.query('SELECT 1 FROM projects WHERE id = $1 AND NOT deleting FOR KEY SHARE', [
    projectId,
  ]);
  if (!project.rowCount) return 'gone';
  const { rows: found } = await c.query(
    'SELECT endpoint_id FROM deliveries WHERE project_id = $1 AND id = $2',
    [projectId, deliveryId],
  );
  if (!found[0]) return 'gone';
  const endpointId = (found[0] as Row).endpoint_id;
  if (endpointId !== null) {
    const { rows: endpoint } = await c.query(
      'SELECT status FROM endpoints WHERE project_id = $1 AND id = $2 FOR SHARE',
      [projectId, endpointId],
    );
    if (!endpoint[0]) return 'endpoint-deleted';
    if ((endpoint[0] as Row).status === 'disabled') return 'endpoint-disabled';
  }
  // Left alone while a lease runs (claims.ts UNLEASED): an attempt is being sent.
  const { rows } = await c.query(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, due_since = $1, leased_by = NULL,
       lease_until = NULL, held_until = NULL, updated_at = $1
     WHERE project_id = $2 AND id = $3
       AND NOT (status = 'pending' AND leased_by IS NOT NULL AND lease_until IS NOT NULL AND lease_until > $4)
     RETURNING *`,
    [now, projectId, deliveryId, leaseNow],
  );
  return (rows as Row[])[0] ?? 'in-flight';
}

/**
 * The endpoint's next `limit` failed deliveries after `from` in (created_at, id) order, created
 * until `until`: what a recover's batch then makes due (recoverDeliveriesPostgres). A walk of index
 * deliveries_failed from the cursor; a plain read: no lock is held.
 */
export async function failedDeliveriesAfterPostgres(
  db: Queryable,
  projectId: string,
  endpointId: string,
  until: number,
  from: RecoverCursor,
  limit: number,
): Promise<RecoverCursor[]> {
  const { rows } = await db.query(RECOVER_SCAN_SQL, [
    projectId,
    endpointId,
    from.createdAt,
    from.id,
    until,
    limit,
  ]);
  return (rows as Row[]).map((r) => ({ createdAt: num(r.created_at), id: String(r.id) }));
}
export const RECOVER_SCAN_SQL = `SELECT id, created_at FROM deliveries
  WHERE project_id = $1 AND endpoint_id = $2 AND status = 'failed' AND (created_at, id) > ($3::bigint, $4::text)
    AND created_at <= $5
  ORDER BY created_at, id LIMIT $6`;

/**
 * One batch of a recover: those of `ids` still failed made pending and due at `now`. `gone` when the
 * endpoint is (deleted between two batches: its deliveries were closed for good,
 * endpoint-writes.ts), `disabled` when it is (since the caller found it active: made pending, they
 * would wait on it for a claim to park them); none recovered then, and the recover stops.
 */
export async function recoverDeliveriesPostgres(
  c: Queryable,
  projectId: string,
  endpointId: string,
  ids: string[],
  now: number,
): Promise<number | 'gone' | 'disabled'> {
  // The endpoint before its deliveries, as attempt records lock them (lockEndpointPostgres); the
  // deliveries in key order, as retention does (retention.ts): old failed ones are both's. Locked,
  // it stays as read until the commit (a delete or a PATCH takes FOR UPDATE, attempt records that
  // disable it FOR NO KEY UPDATE).
  const { rows: endpoint } = await c.query(
    'SELECT status FROM endpoints WHERE project_id = $1 AND id = $2 FOR NO KEY UPDATE',
    [projectId, endpointId],
  );
  if (!endpoint[0]) return 'gone';
  if ((endpoint[0] as Row).status === 'disabled') return 'disabled';
  return changed(
    c,
    `UPDATE deliveries d SET status = 'pending', next_attempt_at = $1, due_since = $1, leased_by = NULL,
       held_until = NULL, updated_at = $1
     FROM (SELECT id FROM deliveries
           WHERE project_id = $2 AND id = ANY($4::text[]) AND endpoint_id = $3 AND status = 'failed'
           ORDER BY project_id, id FOR NO KEY UPDATE) x
     WHERE d.project_id = $2 AND d.id = x.id`,
    [now, projectId, endpointId, ids],
  );
}

/**
 * A hand-back by a worker (v.held_by) changes a delivery only while its last lease is the claim
 * handed back (v.leased_until: lease_until, which a lease sets to its end and nothing but a lease
 * changes until the delivery is reset by hand, kept once the lease is over), leased to that worker
 * or to none: an older claim of the same worker, whose lease ran out and which that worker claimed
 * again, leaves the newer claim alone; and once another worker has claimed it since, that worker's
 * hand-back (put off by a rate limit, held while its endpoint is paused) or attempt record (a retry)
 * stands: a late hand-back of the older claim would make it due at that claim's time, before the
 * limit, the pause or the backoff lets it go. Leased to none, only while its attempts are still
 * those the claim read too (v.attempts).
 */
const HELD_BY = (row: string) => `(v.held_by IS NULL
  OR ((${row}.leased_by = v.held_by OR (${row}.leased_by IS NULL AND (v.attempts IS NULL OR ${row}.attempts = v.attempts)))
    AND (v.leased_until IS NULL OR ${row}.lease_until = v.leased_until)))`;

/**
 * Claimed deliveries handed back, in one statement (the group commit's releases). One handed back
 * `parked` (the dispatcher's view of its endpoint said disabled) is parked only if its endpoint is
 * disabled as this statement runs, otherwise pending, claimed again from its time on, as any
 * hand-back: a view from before an enable would park a delivery of an active endpoint, which nothing
 * claims or resumes. Unsent, it keeps its place in the due order, held until its time (held_until,
 * migration 0021; releaseDeliveriesSqlite says why). The caller has locked those endpoints
 * (lockParkingEndpointsPostgres, or the attempt records' lock that takes them along): an enable
 * either commits first (seen here: pending) or waits for this transaction and then resumes what it
 * parked.
 */
export async function releaseDeliveriesPostgres(c: Queryable, items: ReleaseItem[]): Promise<number> {
  const releases = await underLimitsSince(c, items);
  // Locked in key order, as attempt records move deliveries (delivery-locks.ts); only those it hands back.
  return changed(
    c,
    `UPDATE deliveries d SET status = CASE WHEN v.status = 'parked' AND EXISTS (SELECT 1 FROM endpoints e
         WHERE e.project_id = d.project_id AND e.id = d.endpoint_id AND e.status = 'disabled')
       THEN 'parked' ELSE 'pending' END,
       -- Unsent, it keeps its place in the due order (next_attempt_at, which the claim left alone),
       -- held until its time; put off by the rate limit, it is due at that time, as a retry is.
       next_attempt_at = CASE WHEN v.rate_deferred THEN v.next ELSE LEAST(d.next_attempt_at, v.next) END,
       held_until = CASE WHEN v.rate_deferred THEN NULL ELSE v.next END,
       leased_by = NULL,
       rate_deferred = v.rate_deferred,
       -- Unsent, it stays late since it became due; put off by the rate limit, due when that lets it go.
       due_since = CASE WHEN v.rate_deferred OR d.due_since IS NULL THEN v.next ELSE d.due_since END
     FROM ${lockedInKeyOrder(
       `unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bool[], $6::text[], $7::bigint[], $8::int[])
         AS v(project_id, id, status, next, rate_deferred, held_by, leased_until, attempts)`,
       `l.status = 'pending' AND ${HELD_BY('l')}`,
     )}
     WHERE d.project_id = v.project_id AND d.id = v.id AND d.status = 'pending' AND ${HELD_BY('d')}`,
    [
      releases.map((r) => r.projectId),
      releases.map((r) => r.deliveryId),
      releases.map((r) => r.status ?? 'pending'),
      releases.map((r) => r.nextAttemptAt),
      releases.map((r) => r.rateLimited === true),
      releases.map((r) => r.heldBy ?? null),
      releases.map((r) => r.leasedUntil ?? null),
      releases.map((r) => r.attempts ?? null),
    ],
  );
}

/**
 * The hand-backs put off by a limit removed or raised since (rate-deferred.ts), due as of that
 * change; their endpoints are locked (parkingParams).
 */
async function underLimitsSince(c: Queryable, items: ReleaseItem[]): Promise<ReleaseItem[]> {
  const limited = items.filter(putOffByLimit);
  if (limited.length === 0) return items;
  const { rows } = await c.query(
    `SELECT d.project_id, d.id, e.rate_limit, e.updated_at
     FROM unnest($1::text[], $2::text[]) AS v(project_id, id)
     JOIN deliveries d ON d.project_id = v.project_id AND d.id = v.id
     JOIN endpoints e ON e.project_id = d.project_id AND e.id = d.endpoint_id`,
    [limited.map((r) => r.projectId), limited.map((r) => r.deliveryId)],
  );
  const current = new Map<string, CurrentLimit>(
    rows.map((r: Row) => [
      `${String(r.project_id)}/${String(r.id)}`,
      { rateLimit: (r.rate_limit ?? null) as RateLimit | null, updatedAt: num(r.updated_at) },
    ]),
  );
  return items.map((it) => dueUnderLimit(it, current.get(`${it.projectId}/${it.deliveryId}`) ?? null));
}

/**
 * The endpoints of the deliveries handed back `parked`, in the key order every writer of endpoints
 * takes them (attempt-records.ts), FOR NO KEY UPDATE, then the deliveries. Only the hand-backs that
 * say `parked` (a rare one: the dispatcher saw the endpoint disabled) or were put off by a rate
 * limit (parkingParams).
 */
export const parkingEndpoints = (projects: string, ids: string) => `SELECT d.project_id, d.endpoint_id
  FROM deliveries d JOIN unnest(${projects}::text[], ${ids}::text[]) AS v(project_id, id)
    ON d.project_id = v.project_id AND d.id = v.id
  WHERE d.endpoint_id IS NOT NULL`;

/**
 * The parking hand-backs' deliveries, as parkingEndpoints's parameters; with them those put off by
 * a rate limit, whose endpoint's limit this write reads (rate-deferred.ts): a change of the limit
 * (which locks the endpoint) commits before it, and is read, or waits and finds them handed back.
 */
export function parkingParams(releases: ReleaseItem[]): [string[], string[]] {
  const parking = releases.filter((r) => r.status === 'parked' || putOffByLimit(r));
  return [parking.map((r) => r.projectId), parking.map((r) => r.deliveryId)];
}

/** Locks the endpoints of the deliveries handed back `parked` (parkingEndpoints), in key order. */
export async function lockParkingEndpointsPostgres(c: Queryable, releases: ReleaseItem[]): Promise<void> {
  const [projects, ids] = parkingParams(releases);
  if (ids.length === 0) return;
  await c.query(
    `SELECT 1 FROM endpoints WHERE (project_id, id) IN (${parkingEndpoints('$1', '$2')})
     ORDER BY project_id, id FOR NO KEY UPDATE`,
    [projects, ids],
  );
}

/**
 * Every claim of `workerId` (with '*', every claim) due at `now` at the latest, in its place in the
 * due order (next_attempt_at, which a lease leaves alone: claims.ts UNLEASED), locked in key order as every write
 * of several deliveries (delivery-locks.ts), not in its plan's (the leased index's, or the table's):
 * beside a batch of attempt records of the same deliveries it deadlocked. No Herald process calls it
 * on PostgreSQL today (the dispatcher hands back every claim at start only for a store of one
 * process), so that could not happen yet; a caller (a stop handing back its claims) would meet it.
 * lease_until stays, the freed lease's end: a hand-back of that claim still applies (HELD_BY).
 */
export function releaseClaimsPostgres(c: Queryable, workerId: string, now: number): Promise<number> {
  const whose = workerId === '*' ? 'leased_by IS NOT NULL' : 'leased_by = $2';
  return changed(
    c,
    `UPDATE deliveries d SET next_attempt_at = LEAST(d.next_attempt_at, $1), leased_by = NULL
     FROM (SELECT project_id, id FROM deliveries WHERE status = 'pending' AND ${whose}
           ORDER BY project_id, id FOR NO KEY UPDATE) x
     WHERE d.project_id = x.project_id AND d.id = x.id`,
    workerId === '*' ? [now] : [now, workerId],
  );
}

export async function backlogPostgres(db: Queryable, now: number): Promise<Backlog> {
  // The count is an index-only scan of deliveries_due (at 1,000,000 pending: 27-30 ms once
  // vacuumed, 80-97 ms before; one aggregate with the oldest read every pending row, 87-107 ms).
  // The oldest is the first entry of deliveries_due_since (migration 0018), claimed or not (an
  // attempt in flight has not delivered it): from the time it became due, not a hand-back's, so a
  // delivery claimed again and again and never sent reads later and later. Rows a process of an
  // older version wrote during an upgrade are read as before, from their due time, unleased: one
  // without due_since (created there); one whose due_since is from before its last attempt or its
  // last change (a retry it scheduled; a parked or failed delivery it resumed, recovered or retried
  // by hand: each sets updated_at, and left the old due_since, which this version's writes never
  // leave before it: attempt-records.ts); and one it put off under a rate limit (rate_deferred,
  // which this version sets with due_since equal to next_attempt_at). Read
  // from the old due_since, the last two looked late since the delivery was created: an enable on
  // an older process, or an hour of deliveries an older worker put off a token apart, fired
  // "Deliveries are late" for as long as they waited.
  const row = (
    await db.query(
      `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending') AS pending,
         (SELECT due_since FROM deliveries WHERE status = 'pending' AND due_since <= $1
           AND (last_attempt_at IS NULL OR due_since >= last_attempt_at) AND due_since >= updated_at
           AND NOT (rate_deferred AND due_since <> next_attempt_at)
           ORDER BY due_since LIMIT 1) AS since,
         (SELECT next_attempt_at FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1
           AND (leased_by IS NULL OR lease_until IS NULL OR lease_until <= $1)
           ORDER BY next_attempt_at LIMIT 1) AS oldest`,
      [now],
    )
  ).rows[0] as Row | undefined;
  const times = [row?.oldest, row?.since].filter((t) => t != null).map(num);
  return { pending: num(row?.pending ?? 0), oldestDueAt: times.length ? Math.min(...times) : null };
}
