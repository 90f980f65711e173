/**
 * Claims for the PostgreSQL store: due deliveries picked in due order and leased by setting
 * lease_until and leased_by, with FOR UPDATE SKIP LOCKED so several processes never take the same
 * row. Neither lease column is indexed, so a lease is a HOT update when the row's page has room
 * (migration 0005); every pick skips rows whose lease has not run out (UNLEASED). Runs inside the
 * claim's transaction (PostgresStore.claimDueDeliveries), under CLAIM_PLANNER_SETTINGS.
 */
import type pg from 'pg';
import type { HeraldEvent } from '../../domain/types.ts';
import { ACTIVE_ENDPOINTS_MAX_AGE_MS, CLAIM_PROBES, CLAIM_WINDOW, WINDOW_SKIP_MS } from '../claim-limits.ts';
import {
  advanceTurns,
  CALLBACKS_ID,
  callbacksKey,
  fairPart,
  leftOutKeys,
  planTurns,
  type TurnCursor,
  type TurnEndpoint,
  type TurnList,
  turnKey,
  turnLimits,
  turnListOf,
  withCallbackTurnList,
  withProjectsRead,
} from '../claim-turns.ts';
import type { ClaimedDelivery, ClaimOptions } from '../store.ts';
import { lockedInKeyOrder } from './delivery-locks.ts';
import { num, type Row, toDelivery, toEventLazyPayload } from './rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** What the store keeps between claims. */
export interface ClaimState {
  /** Where the next per-endpoint probe starts: which project, and each project's next endpoint. */
  turns: TurnCursor;
  /**
   * Set when the window of oldest due rows was fuller than a claim could use (a saturated
   * endpoint's backlog at the head of the due order): until `until`, claims that leave endpoints out
   * go straight to the probes (callbacks included) instead of reading that window, and counting
   * past it, again (see leaseDue). As in the SQLite store (sqlite/claims.ts).
   */
  skipWindow: { excluded: Set<string>; until: number } | null;
  /** Active endpoints, as the last probe counted them. */
  activeEndpoints: number;
  /**
   * The active endpoints by project, all read at `at`, kept WINDOW_SKIP_MS (a claim in turn reads
   * them every time), or, while `endpointsWatched`, with the projects `endpointNotices` names read
   * again, until it says to read them all (activeEndpoints).
   */
  active?: { list: TurnList; at: number };
  /** What changed since the active endpoints were read (noteEndpointChange). */
  endpointNotices?: EndpointNotices;
  /** Whether this store's listener is listening for those notices (notify.ts DueListener). */
  endpointsWatched?: boolean;
  /** The projects with callbacks due as of `at`, kept WINDOW_SKIP_MS while any callback is due. */
  callbackProjects?: { list: string[]; at: number };
  /** `active` with the callbacks of `callbackProjects` (withCallbackTurnList), made of those two. */
  withCallbacks?: { endpoints: TurnList; callbacks: string[]; list: TurnList };
}

/** The projects whose endpoints changed since the last read of them, or `all`: read them all again. */
export interface EndpointNotices {
  projects: Set<string>;
  all: boolean;
}

/**
 * More projects named by notices than this between two claims in turn: they are all read again,
 * one statement, rather than a list of projects as long.
 */
export const ENDPOINT_NOTICES_MAX = 256;

/**
 * Notes a notice on ENDPOINTS_CHANNEL naming `projectId` (migration 0023), or, without one (a
 * notice that names none, the listening connection lost or listening again: notices may have been
 * lost), that every project's endpoints are to be read again.
 */
export function noteEndpointChange(state: ClaimState, projectId?: string): void {
  state.endpointNotices ??= { projects: new Set(), all: false };
  const notices = state.endpointNotices;
  if (notices.all) return;
  if (projectId) notices.projects.add(projectId);
  if (!projectId || notices.projects.size > ENDPOINT_NOTICES_MAX) {
    notices.all = true;
    notices.projects.clear();
  }
}

/**
 * A pending row is free to claim unless a lease on it runs past $1 (now), or a hand-back holds it
 * past then (held_until: it keeps its place in the due order, next_attempt_at, and waits out its
 * hand-back's time; due-deliveries.ts releaseDeliveriesPostgres). A lease taken by a process from
 * before migration 0005 has no lease_until: it moved next_attempt_at instead, which keeps the row
 * out of every pick until it runs out.
 */
const UNLEASED =
  '(leased_by IS NULL OR lease_until IS NULL OR lease_until <= $1) AND (held_until IS NULL OR held_until <= $1)';

/**
 * Leases the picked rows `c` ($1 now, $2 lease length, $3 worker) and returns them with their due
 * time and the end of their last lease before this one (was_lease_until: withEvents gives it back
 * to a row it does not take, whose last claim's hand-back then still applies).
 */
const LEASE = (pick: string) => `UPDATE deliveries d SET lease_until = $1::bigint + $2::bigint, leased_by = $3
  FROM (${pick}) c
  WHERE d.project_id = c.project_id AND d.id = c.id
  RETURNING d.*, c.due, c.was_lease_until`;

const query = async (sql: string, params: unknown[], db: Queryable): Promise<Row[]> =>
  (await db.query(sql, params)).rows as Row[];

/** For the claim's transaction (claimDueDeliveries): index order and key lookups, whatever the statistics. */
export const CLAIM_PLANNER_SETTINGS =
  'SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off';

const DATABASE_NOW = 'SELECT floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint AS ms';

/** The database's clock (ms), when the statement reached the server. */
export async function databaseNowIn(db: Queryable): Promise<number> {
  return Number((await query(DATABASE_NOW, [], db))[0]!.ms);
}

/**
 * CLAIM_PLANNER_SETTINGS, and the database's clock (ms) read in the same round trip: when the
 * statements reached the server, for the claim's lease times (lease-clock.ts).
 */
export async function claimSettingsAndDatabaseNow(db: Queryable): Promise<number> {
  const results = (await db.query(`${CLAIM_PLANNER_SETTINGS}; ${DATABASE_NOW}`)) as unknown as {
    rows: Row[];
  }[];
  return Number(results[results.length - 1]!.rows[0]!.ms);
}

/**
 * The rows a claim that leaves endpoints out takes from the window of oldest due rows ($1 now, $4
 * limit, $5 endpoints left out, $6 window). The window drives: each of its rows not left out is
 * looked up (and locked) in due order until the claim is full; OFFSET 0 keeps the planner from
 * turning that into a scan of every due row. Rows left out are dropped before the lookup: a window
 * that holds only a saturated endpoint's backlog costs its index walk (0.9 ms for 2,048 rows) rather
 * than 2,048 lookups (8.3 ms). Locked inside, so the caller adds no locking clause.
 *
 * The lookup checks status and due time again (a row another claim leased or a record moved
 * meanwhile is skipped), written so no index can use them (`|| ''`, `+ 0`): only the key
 * (deliveries_pkey) finds the row. Written plainly, statistics taken early in a burst let the
 * planner walk deliveries_endpoint on (project_id, status, next_attempt_at) for each window row,
 * reading every due row of the project each time: a scratch run (two workers, a burst of 100,000)
 * saw claims of 3-25 s (63,588 rows read per lookup), and the row locks such a claim takes on rows
 * the other worker leased meanwhile (then skipped) held that worker's attempt records as long.
 */
export const CLAIM_WINDOW_PICK = `SELECT x.project_id, x.id, x.due, x.was_lease_until
  FROM (SELECT project_id, id, endpoint_id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1
          AND ${UNLEASED}
        ORDER BY next_attempt_at LIMIT $6) w
  CROSS JOIN LATERAL (SELECT project_id, id, next_attempt_at AS due, lease_until AS was_lease_until FROM deliveries x
                      WHERE x.project_id = w.project_id AND x.id = w.id
                        AND x.status || '' = 'pending' AND x.next_attempt_at + 0 <= $1
                        AND (x.leased_by IS NULL OR x.lease_until IS NULL OR x.lease_until <= $1)
                        AND (x.held_until IS NULL OR x.held_until <= $1)
                      OFFSET 0 FOR UPDATE SKIP LOCKED) x
  WHERE coalesce(w.endpoint_id, 'callbacks/' || w.project_id) <> ALL($5::text[])
  LIMIT $4`;

/**
 * The oldest due callbacks but those of the projects left out ($1 now, $4 limit, $5 project ids, $6
 * window): CLAIM_WINDOW_PICK over the window of the oldest due callbacks (deliveries_callbacks_due),
 * so that a backlog of callbacks of a project at its cap is not walked at every claim.
 */
export const CALLBACK_WINDOW_PICK = `SELECT x.project_id, x.id, x.due, x.was_lease_until
  FROM (SELECT project_id, id FROM deliveries WHERE endpoint_id IS NULL AND status = 'pending' AND next_attempt_at <= $1
          AND ${UNLEASED}
        ORDER BY next_attempt_at LIMIT $6) w
  CROSS JOIN LATERAL (SELECT project_id, id, next_attempt_at AS due, lease_until AS was_lease_until FROM deliveries x
                      WHERE x.project_id = w.project_id AND x.id = w.id
                        AND x.status || '' = 'pending' AND x.next_attempt_at + 0 <= $1
                        AND (x.leased_by IS NULL OR x.lease_until IS NULL OR x.lease_until <= $1)
                        AND (x.held_until IS NULL OR x.held_until <= $1)
                      OFFSET 0 FOR UPDATE SKIP LOCKED) x
  WHERE w.project_id <> ALL($5::text[])
  LIMIT $4`;

/**
 * Leases due rows for a claim, inside its transaction (PostgresStore.claimDueDeliveries): those of
 * the endpoints asked for first (`o.first`, one statement), then the oldest due of the rest. The
 * rows of the claim's part in turn are added to `inTurn` too (withEvents reads them early).
 */
export async function leaseDue(
  db: Queryable,
  o: ClaimOptions,
  state: ClaimState,
  inTurn: Row[] = [],
): Promise<Row[]> {
  if (!o.first?.length) return leaseOldest(db, o, state, inTurn);
  const first = await probeRound(db, o, o.first, o.limit);
  if (first.length >= o.limit) return first;
  return first.concat(await leaseOldest(db, { ...o, limit: o.limit - first.length }, state, inTurn));
}

/**
 * Leases due rows, leaving `o.excludeEndpointIds` out: the oldest due, but in a claim that finds
 * more due than it takes, a part (fairPart: a quarter, or one row every few claims of a small
 * claim) goes to endpoints in turn, so a backlog at the head of the due order does not hold
 * everyone else's work back. As in the SQLite store.
 */
async function leaseOldest(db: Queryable, o: ClaimOptions, state: ClaimState, inTurn: Row[]): Promise<Row[]> {
  const fair = fairPart(o.limit, state.turns);
  // A claim of one whose turn it is: all of it in turn, no statement for none.
  const oldest = fair < o.limit ? await leaseOldestDue(db, { ...o, limit: o.limit - fair }, state) : [];
  if (fair === 0 || oldest.length < o.limit - fair) return oldest;
  const turn = await probeEndpoints(db, o, leftOutKeys(o), fair, state);
  inTurn.push(...turn);
  const rest = turn.length < fair ? await leaseOldestDue(db, { ...o, limit: fair - turn.length }, state) : [];
  return oldest.concat(turn, rest);
}

/**
 * Leases the oldest due rows, leaving `o.excludeEndpointIds` out, and the callbacks of
 * `o.excludeCallbackProjectIds` (their keys among those left out: leftOutKeys; see leaseDue).
 */
async function leaseOldestDue(db: Queryable, o: ClaimOptions, state: ClaimState): Promise<Row[]> {
  const exclude = leftOutKeys(o);
  // One statement: pick due rows in index order, skip rows leased or being claimed by another
  // worker right now, and lease them. Its cost is the batch (and the leases in flight, which the
  // walk steps over), not the backlog.
  const lease = (pick: string, params: unknown[], lock = 'FOR UPDATE SKIP LOCKED') =>
    query(LEASE(`${pick} ${lock}`), [o.now, o.leaseMs, o.workerId, ...params], db);
  if (exclude.length === 0) {
    return lease(
      `SELECT project_id, id, next_attempt_at AS due, lease_until AS was_lease_until FROM deliveries
       WHERE status = 'pending' AND next_attempt_at <= $1 AND ${UNLEASED}
       ORDER BY next_attempt_at LIMIT $4`,
      [o.limit],
    );
  }
  // With no more active endpoints than one claim probes, the probes see everything the window
  // would (callbacks included) but rows of endpoints deleted meanwhile, which the next window read
  // takes. With more, only while the endpoints left out include those the window was full of.
  const few = state.activeEndpoints <= CLAIM_PROBES;
  const skip = state.skipWindow;
  if (skip && o.now < skip.until && (few || [...skip.excluded].every((id) => exclude.includes(id)))) {
    return probeEndpoints(db, o, exclude, o.limit, state);
  }
  // Saturated endpoints are left out, looking only at a bounded window of the oldest due rows so
  // their backlog is never scanned; when the window holds too little of the others, they are
  // probed endpoint by endpoint. Callback deliveries (endpoint_id NULL) are left out by project.
  state.skipWindow = null;
  const claimed = await lease(CLAIM_WINDOW_PICK, [o.limit, exclude, CLAIM_WINDOW], '');
  if (claimed.length < o.limit) {
    const beyond = await query(
      `SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1 AND ${UNLEASED}
       ORDER BY next_attempt_at OFFSET $2 LIMIT 1`,
      [o.now, CLAIM_WINDOW - claimed.length],
      db,
    );
    if (beyond.length && (few || claimed.length === 0)) {
      state.skipWindow = { excluded: new Set(exclude), until: o.now + WINDOW_SKIP_MS };
    }
    if (beyond.length)
      claimed.push(...(await probeEndpoints(db, o, exclude, o.limit - claimed.length, state)));
  }
  return claimed;
}

/** Whether any callback delivery is due and unleased ($1 now): one row of deliveries_callbacks_due. */
const CALLBACKS_DUE_SQL = `SELECT 1 FROM deliveries WHERE endpoint_id IS NULL AND status = 'pending' AND next_attempt_at <= $1
  AND ${UNLEASED} LIMIT 1`;

/**
 * The projects with callback deliveries due ($1 now): the projects with callbacks pending, found one
 * seek each in deliveries_callbacks_by_project (migration 0022; the next project after the last
 * found), then for each a seek for one due. Its cost is the projects with callbacks pending: asked
 * of every project (a seek each in deliveries_endpoint, or a scan of deliveries) it took 46-76 ms at
 * 100,000 projects. Not driven by deliveries_callbacks_due: a project's backlog of callbacks due
 * would be read at each call.
 */
export const CALLBACK_PROJECTS_SQL = `WITH RECURSIVE callback_projects(id) AS (
    SELECT (SELECT project_id FROM deliveries WHERE endpoint_id IS NULL AND status = 'pending'
            ORDER BY project_id LIMIT 1)
    UNION ALL
    SELECT (SELECT project_id FROM deliveries WHERE endpoint_id IS NULL AND status = 'pending' AND project_id > c.id
            ORDER BY project_id LIMIT 1)
    FROM callback_projects c WHERE c.id IS NOT NULL)
  SELECT id FROM callback_projects c WHERE c.id IS NOT NULL AND EXISTS (
    SELECT 1 FROM deliveries WHERE project_id = c.id AND endpoint_id IS NULL AND status = 'pending' AND next_attempt_at <= $1)
  ORDER BY id`;

/**
 * Claims from the endpoints not left out: projects in turn, each an equal part of `want`, split
 * between its endpoints (a project's callbacks, when any are due, one more of them:
 * withCallbackTurns), then what is left to those that had more, a statement per round
 * (claim-turns.ts), then to the oldest due callbacks (index deliveries_callbacks_due, migration
 * 0004). Visits at most CLAIM_PROBES endpoints, resuming where the last probe stopped. Without
 * callbacks due, a claim reads no more than CALLBACKS_DUE_SQL of them.
 */
async function probeEndpoints(
  db: Queryable,
  o: ClaimOptions,
  exclude: string[],
  want: number,
  state: ClaimState,
): Promise<Row[]> {
  const callbacks = (limit: number) =>
    o.excludeCallbackProjectIds?.length
      ? query(
          LEASE(CALLBACK_WINDOW_PICK),
          [o.now, o.leaseMs, o.workerId, limit, o.excludeCallbackProjectIds, CLAIM_WINDOW],
          db,
        )
      : query(
          LEASE(`SELECT project_id, id, next_attempt_at AS due, lease_until AS was_lease_until FROM deliveries
             WHERE endpoint_id IS NULL AND status = 'pending' AND next_attempt_at <= $1 AND ${UNLEASED}
             ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED`),
          [o.now, o.leaseMs, o.workerId, limit],
          db,
        );
  const callbacksDue = (await query(CALLBACKS_DUE_SQL, [o.now], db)).length > 0;
  const active = await activeEndpoints(db, o.now, state);
  state.activeEndpoints = active.ids.length;
  const turns = callbacksDue
    ? callbackTurns(active, await callbackProjects(db, o.now, state), state)
    : active;
  const plan = planTurns(turns, new Set(exclude), state.turns, CLAIM_PROBES);
  const visited = plan.visited;
  // Which projects have work due is not asked first: each visited project an equal part first,
  // then what is left to those that had more (leased already, so their second probe sees past the
  // first). One statement per round, whatever the endpoints.
  const out: Row[] = [];
  let probed = 0;
  if (visited.length > 0) {
    const limits = turnLimits(plan, want);
    const first = await probeRound(
      db,
      o,
      round(visited, (i) => limits[i]!),
      want,
    );
    out.push(...first);
    const got = new Map<string, number>();
    for (const r of first) {
      const key = rowTurnKey(r);
      got.set(key, (got.get(key) ?? 0) + 1);
    }
    // The round stops once it has enough: the next probe starts after the last endpoint it reached.
    probed = first.length < want ? visited.length : lastReached(visited, got) + 1;
    const hadMore = visited.filter((ep, i) => got.get(turnKey(ep)) === limits[i]);
    if (out.length < want && hadMore.length > 0) {
      const left = want - out.length;
      out.push(
        ...(await probeRound(
          db,
          o,
          round(hadMore, () => left),
          left,
        )),
      );
    }
  }
  advanceTurns(state.turns, plan, probed);
  if (out.length < want && callbacksDue) out.push(...(await callbacks(want - out.length)));
  return out;
}

/** A row's key among those of a round: its endpoint's id, or its project's callbacks' (turnKey). */
const rowTurnKey = (r: Row) =>
  r.endpoint_id === null ? callbacksKey(String(r.project_id)) : String(r.endpoint_id);

/** The projects with callbacks due (CALLBACK_PROJECTS_SQL), kept WINDOW_SKIP_MS. */
async function callbackProjects(db: Queryable, now: number, state: ClaimState): Promise<string[]> {
  const kept = state.callbackProjects;
  if (kept && now >= kept.at && now - kept.at < WINDOW_SKIP_MS) return kept.list;
  const list = (await query(CALLBACK_PROJECTS_SQL, [now], db)).map((r) => String(r.id));
  state.callbackProjects = { list, at: now };
  return list;
}

/** The index in `visited` of the last endpoint that gave rows (-1 when none did). */
function lastReached(visited: TurnEndpoint[], got: Map<string, number>): number {
  for (let i = visited.length - 1; i >= 0; i--) if (got.has(turnKey(visited[i]!))) return i;
  return -1;
}

/**
 * The active endpoints by project, as one text: each endpoint's project id and id, all separated by
 * spaces (ids.ts ids have none), in the order of endpoints_pkey (project_id, id), which the planner
 * walks for it (no sort). Read as a row per endpoint, the read and its list took 112-146 ms at
 * 100,000 endpoints (medians of 10, two runs), most of it the rows sent and parsed (the walk 20-45
 * ms); as one text, 63-82 ms. An index of the active ones (as SQLite's, migration 0021), walked index-only once vacuumed,
 * saved ~8 ms more of the walk: not added.
 */
export const ACTIVE_ENDPOINTS_SQL = `SELECT string_agg(project_id || ' ' || id, ' ') AS list
  FROM (SELECT project_id, id FROM endpoints WHERE status = 'active' ORDER BY project_id, id) e`;

/**
 * The TurnList of ACTIVE_ENDPOINTS_SQL's text (null: no active endpoint), made straight from its
 * parts. The text's order is that of its subquery, which PostgreSQL keeps but does not promise:
 * out of order, each project's endpoints are gathered (turnListOf) instead.
 */
export function activeEndpointList(text: string | null): TurnList {
  const parts = text ? text.split(' ') : [];
  const projectIds: string[] = [];
  const ids: string[] = [];
  const starts: number[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const projectId = parts[i]!;
    const id = parts[i + 1]!;
    const last = projectIds[projectIds.length - 1];
    if (last === undefined || projectId > last) {
      projectIds.push(projectId);
      starts.push(ids.length);
    } else if (projectId < last || id <= ids[ids.length - 1]!) {
      const pairs: [string, string][] = [];
      for (let j = 0; j + 1 < parts.length; j += 2) pairs.push([parts[j]!, parts[j + 1]!]);
      return turnListOf(pairs);
    }
    ids.push(id);
  }
  starts.push(ids.length);
  return { projectIds, ids, starts };
}

/** The active endpoints of the projects $1, by project (withProjectsRead): a range of endpoints_pkey each. */
export const PROJECT_ENDPOINTS_SQL = `SELECT project_id, id FROM endpoints WHERE status = 'active' AND project_id = ANY($1::text[])
  ORDER BY project_id, id`;

/**
 * The active endpoints, kept WINDOW_SKIP_MS (one a claim does not see yet is seen by the window),
 * and longer while the store listens for their changes (migrations 0020, 0023): then only the
 * projects named by notices since are read again, and all of them after a notice that names none,
 * after a lost connection (notices may have been lost), past ENDPOINT_NOTICES_MAX projects, and 30 s
 * after the last read of them all. Read every 250 ms, changed or not, they took 190 ms a claim at
 * 100,000 endpoints; read all at each change, 63-82 ms in every listening process. A notice comes
 * after the change commits, so a read that starts after it sees the change, and one noted while
 * the read runs is kept for the next.
 */
async function activeEndpoints(db: Queryable, now: number, state: ClaimState): Promise<TurnList> {
  const kept = state.active;
  if (kept && now >= kept.at && now - kept.at < WINDOW_SKIP_MS) return kept.list;
  const notices = state.endpointNotices ?? { projects: new Set<string>(), all: false };
  const patch =
    kept &&
    state.endpointsWatched &&
    !notices.all &&
    now >= kept.at &&
    now - kept.at < ACTIVE_ENDPOINTS_MAX_AGE_MS;
  if (patch && notices.projects.size === 0) return kept.list;
  state.endpointNotices = { projects: new Set(), all: false };
  try {
    if (patch) {
      const rows = await query(PROJECT_ENDPOINTS_SQL, [[...notices.projects]], db);
      const list = withProjectsRead(
        kept.list,
        notices.projects,
        rows.map((r): [string, string] => [String(r.project_id), String(r.id)]),
      );
      if (list) {
        // Another claim's read meanwhile (a claim of this store's that overlaps): these next time.
        if (state.active === kept) state.active = { list, at: kept.at };
        else for (const projectId of notices.projects) noteEndpointChange(state, projectId);
        return list;
      }
    }
    const [row] = await query(ACTIVE_ENDPOINTS_SQL, [], db);
    const list = activeEndpointList(row?.list == null ? null : String(row.list));
    state.active = { list, at: now };
    return list;
  } catch (error) {
    // What the notices said is not read: all of them next time.
    noteEndpointChange(state);
    throw error;
  }
}

/** `endpoints` with the callbacks of `callbacks` (withCallbackTurnList), made again only when either is. */
function callbackTurns(endpoints: TurnList, callbacks: string[], state: ClaimState): TurnList {
  const kept = state.withCallbacks;
  if (kept?.endpoints === endpoints && kept.callbacks === callbacks) return kept.list;
  const list = withCallbackTurnList(endpoints, callbacks);
  state.withCallbacks = { endpoints, callbacks, list };
  return list;
}

/**
 * The rows of one probe round ($1 now, $4 project ids, $5 endpoint ids, $6 rows per endpoint at
 * most, one per endpoint, $7 in all): the endpoints, in the list's order, drive a LATERAL walk each
 * of deliveries_endpoint in due order, and the walk stops once $7 rows are found. Locked inside.
 *
 * "Pending and due" is written as `status >= 'pending' AND (status, next_attempt_at) <= ('pending',
 * now)`, which is the same rows (the other statuses sort before or after 'pending'), and ordered by
 * (status, next_attempt_at): with `status = 'pending'` the partial index deliveries_due qualifies
 * too, and once ANALYZE has seen a saturated endpoint's backlog at the head of the due order the
 * planner walked it, filtering by endpoint, for every probed endpoint (20,000 rows read per
 * endpoint in the plan test, claims of 100-190 ms in the isolation benchmark). This way only
 * deliveries_endpoint fits, with fresh statistics or stale ones.
 */
export const PROBE_ROUND_PICK = `SELECT x.project_id, x.id, x.due, x.was_lease_until
  FROM unnest($4::text[], $5::text[], $6::int[]) AS e(project_id, endpoint_id, n)
  CROSS JOIN LATERAL (SELECT project_id, id, next_attempt_at AS due, lease_until AS was_lease_until FROM deliveries
                      WHERE project_id = e.project_id AND endpoint_id = e.endpoint_id
                        AND status >= 'pending' AND (status, next_attempt_at) <= ('pending', $1)
                        AND ${UNLEASED}
                      ORDER BY status, next_attempt_at LIMIT e.n FOR UPDATE SKIP LOCKED) x
  LIMIT $7`;

/**
 * PROBE_ROUND_PICK for a round that visits projects' callbacks too (endpoint id CALLBACKS_ID, ''):
 * each entry walks its endpoint's due rows, or its project's callbacks (endpoint_id IS NULL) in
 * the same index. Ordered by endpoint_id too, though it is null: the planner does not take `IS
 * NULL` for an equality, and without it found the index out of order for the walk, so it read and
 * sorted every callback of the project (a seq scan of 20,000 rows in the plan test). Used only
 * when callbacks are due: the other rounds keep the plain pick.
 */
export const PROBE_ROUND_WITH_CALLBACKS_PICK = `SELECT x.project_id, x.id, x.due, x.was_lease_until
  FROM unnest($4::text[], $5::text[], $6::int[]) AS e(project_id, endpoint_id, n)
  CROSS JOIN LATERAL (
    SELECT * FROM (SELECT project_id, id, next_attempt_at AS due, lease_until AS was_lease_until FROM deliveries
                   WHERE e.endpoint_id <> '' AND project_id = e.project_id AND endpoint_id = e.endpoint_id
                     AND status >= 'pending' AND (status, next_attempt_at) <= ('pending', $1)
                     AND ${UNLEASED}
                   ORDER BY status, next_attempt_at LIMIT e.n FOR UPDATE SKIP LOCKED) ep
    UNION ALL
    SELECT * FROM (SELECT project_id, id, next_attempt_at AS due, lease_until AS was_lease_until FROM deliveries
                   WHERE e.endpoint_id = '' AND project_id = e.project_id AND endpoint_id IS NULL
                     AND status >= 'pending' AND (status, next_attempt_at) <= ('pending', $1)
                     AND ${UNLEASED}
                   ORDER BY endpoint_id, status, next_attempt_at LIMIT e.n FOR UPDATE SKIP LOCKED) cb) x
  LIMIT $7`;

/** One probe round in one statement (PROBE_ROUND_PICK), leased: up to each endpoint's `limit`, `total` in all. */
function probeRound(
  db: Queryable,
  o: ClaimOptions,
  endpoints: { projectId: string; endpointId: string; limit: number }[],
  total: number,
): Promise<Row[]> {
  const callbacks = endpoints.some((ep) => ep.endpointId === CALLBACKS_ID);
  return query(
    LEASE(callbacks ? PROBE_ROUND_WITH_CALLBACKS_PICK : PROBE_ROUND_PICK),
    [
      o.now,
      o.leaseMs,
      o.workerId,
      endpoints.map((ep) => ep.projectId),
      endpoints.map((ep) => ep.endpointId),
      endpoints.map((ep) => ep.limit),
      total,
    ],
    db,
  );
}

/** The endpoints with a limit each (`limit(i)` for the i-th), for probeRound. */
const round = (endpoints: TurnEndpoint[], limit: (i: number) => number) =>
  endpoints.map((ep, i) => ({ projectId: ep.projectId, endpointId: ep.id, limit: limit(i) }));

/**
 * The events of a claim ($1 project ids, $2 event ids, in the claim's order), each with the bytes of
 * payload before it ($3 the most a claim reads: ClaimOptions.maxBytes); only the payloads of
 * those starting within it are sent (the others' is null). Measured as text inside the database:
 * the stored size (what listings take for small values, budgeted-list.ts) is the compressed one,
 * and 10 KB of a repeated character stored in under 2 KB.
 */
export const CLAIM_EVENTS_SQL = `SELECT id, project_id, type, test, idempotency_key, callback_url, callback_envelope, created_at,
    CASE WHEN bytes_before < $3 THEN payload::text END AS payload
  FROM (SELECT e.*, sum(octet_length(e.payload::text)) OVER (ORDER BY u.ord) - octet_length(e.payload::text) AS bytes_before
        FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(project_id, id, ord)
        JOIN events e ON e.project_id = u.project_id AND e.id = u.id) q`;

/**
 * The leased rows in due order with their events, as the dispatcher gets them (one query for the
 * events). With `o.maxBytes`, the events are taken until those taken hold that many bytes of
 * payload (at least one), those of the endpoints asked for first (`o.first`) first, then those of
 * the claim's part in turn (`inTurn`), then in due order, as the SQLite store reads them: the
 * leases of the rows of the others are given back.
 */
export async function withEvents(
  db: Queryable,
  claimed: Row[],
  o: ClaimOptions,
  inTurn: readonly Row[] = [],
): Promise<ClaimedDelivery[]> {
  if (claimed.length === 0) return [];
  claimed.sort((a, b) => num(a.due) - num(b.due) || (String(a.id) < String(b.id) ? -1 : 1));
  const refs = new Map<string, { projectId: string; eventId: string }>();
  const addRef = (r: Row) => {
    const key = `${r.project_id}/${r.event_id}`;
    if (!refs.has(key)) refs.set(key, { projectId: String(r.project_id), eventId: String(r.event_id) });
  };
  // In due order alone, a claim stopped by its bytes kept an older backlog's large events and cut
  // the rows asked for first (a rate limit's put-backs, a failing endpoint's free connections),
  // which then waited behind that backlog as `first` is there to prevent.
  const firstIds = new Set(o.first?.map((f) => turnKey({ projectId: f.projectId, id: f.endpointId })));
  if (firstIds.size) for (const r of claimed) if (firstIds.has(rowTurnKey(r))) addRef(r);
  // Nor may its oldest rows cut its part in turn: other projects' deliveries there waited again
  // behind a backlog of large events (claims of a few 1 MiB events under 4 MiB in flight).
  for (const r of inTurn) addRef(r);
  for (const r of claimed) addRef(r);
  const list = [...refs.values()];
  // Payloads as text (json keeps it byte for byte): the request body is built from it, unparsed.
  const eventRows = await query(
    CLAIM_EVENTS_SQL,
    [list.map((r) => r.projectId), list.map((r) => r.eventId), o.maxBytes ?? Number.MAX_SAFE_INTEGER],
    db,
  );
  const events = new Map<string, { event: HeraldEvent; payloadJson: string } | null>(
    eventRows.map((r) => [
      `${r.project_id}/${r.id}`,
      r.payload === null ? null : { event: toEventLazyPayload(r), payloadJson: String(r.payload) },
    ]),
  );
  const out: ClaimedDelivery[] = [];
  const left: Row[] = [];
  for (const r of claimed) {
    const found = events.get(`${r.project_id}/${r.event_id}`);
    if (found) out.push({ delivery: toDelivery(r), event: found.event, payloadJson: found.payloadJson });
    else if (found === null) left.push(r);
  }
  if (left.length) {
    // Locked in key order (delivery-locks.ts), not in the due order they were claimed in nor the
    // table's: another worker's late records of them (its lease ran out), or a delete closing them,
    // lock the same rows by key, and in due order the two deadlocked (postgres-lock-order.test.ts).
    // Unleased with their last lease's end as it was before this claim (LEASE's was_lease_until):
    // that lease's claim, not this one, is the last, and its hand-back still applies
    // (due-deliveries.ts HELD_BY).
    await query(
      `UPDATE deliveries d SET lease_until = v.was_lease_until, leased_by = NULL
       FROM ${lockedInKeyOrder(
         'unnest($1::text[], $2::text[], $4::bigint[]) AS v(project_id, id, was_lease_until)',
         'l.leased_by = $3',
       )}
       WHERE d.project_id = v.project_id AND d.id = v.id AND d.leased_by = $3`,
      [
        left.map((r) => r.project_id),
        left.map((r) => r.id),
        o.workerId,
        left.map((r) => r.was_lease_until ?? null),
      ],
      db,
    );
  }
  return out;
}
