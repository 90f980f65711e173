/**
 * Claims for the SQLite store: due deliveries picked in due order (the partial index
 * deliveries_due) and leased (claimDue), inside one of the store's group commits, beside the
 * attempt records waiting to be written; then, after its commit, read with their events
 * (withEvents), so that no payload is read while SQLite's write lock is held.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { HeraldEvent } from '../../domain/types.ts';
import { ACTIVE_ENDPOINTS_MAX_AGE_MS, CLAIM_PROBES, CLAIM_WINDOW, WINDOW_SKIP_MS } from '../claim-limits.ts';
import {
  advanceTurns,
  CALLBACKS_ID,
  fairPart,
  leftOutKeys,
  planTurns,
  type TurnCursor,
  type TurnEndpoint,
  type TurnList,
  turnLimits,
  turnListOf,
  withCallbackTurnList,
  withProjectsRead,
} from '../claim-turns.ts';
import type { ClaimedDelivery, ClaimOptions } from '../store.ts';
import { all, get, prepared, run } from './db-helpers.ts';
import { type Row, toDelivery, toEventLazyPayload } from './rows.ts';

/**
 * Not held by a hand-back past now, the statement's parameter `?n` (due-deliveries.ts
 * releaseDeliveriesSqlite: a delivery handed back keeps its place in the due order, next_attempt_at,
 * and waits out held_until). Every pick of due rows checks it; deliveries_due holds held_until, so
 * a pick of the oldest due needs no row for it (migration 0023). The reads of which endpoints and
 * projects have work due (DUE_ENDPOINTS_SQL, CALLBACK_PROJECTS_SQL) do not: they stay in their
 * index, and one whose due rows are all held (for a second at most) costs a probe that finds none.
 */
const notHeld = (n: number) => `(held_until IS NULL OR held_until <= ?${n})`;

/** One endpoint's due deliveries, oldest first: walks deliveries_endpoint in order (migration 0003). */
export const ENDPOINT_PROBE_SQL = `SELECT rowid AS row_id, * FROM deliveries WHERE project_id = ? AND endpoint_id = ? AND status = 'pending'
  AND next_attempt_at <= ? AND ${notHeld(3)} ORDER BY next_attempt_at LIMIT ?`;

/** Due deliveries to callback URLs (no endpoint), oldest first: the partial index of migration 0004. */
export const CALLBACK_PROBE_SQL = `SELECT rowid AS row_id, * FROM deliveries WHERE endpoint_id IS NULL AND status = 'pending'
  AND next_attempt_at <= ? AND ${notHeld(1)} ORDER BY next_attempt_at LIMIT ?`;

/**
 * One project's due callback deliveries, oldest first: its part in turn (claim-turns.ts). Walks
 * deliveries_endpoint on (project_id, endpoint_id IS NULL, status, next_attempt_at): the partial
 * index deliveries_callbacks_due would walk every project's due callbacks in due order for it.
 */
export const PROJECT_CALLBACK_PROBE_SQL = `SELECT rowid AS row_id, * FROM deliveries INDEXED BY deliveries_endpoint
  WHERE project_id = ? AND endpoint_id IS NULL AND status = 'pending' AND next_attempt_at <= ? AND ${notHeld(2)}
  ORDER BY next_attempt_at LIMIT ?`;

/**
 * The projects with callback deliveries due, read only while any callback is due, at most every
 * WINDOW_SKIP_MS (callbackProjects): the projects with callbacks pending, found one seek each in
 * deliveries_callbacks_by_project (migration 0024; the next project after the last found), then
 * for each a seek for one due. Its cost is the projects with callbacks pending: asked of every
 * project (a seek each in deliveries_endpoint) it took 42-74 ms at 100,000 projects. In project
 * order, as the recursion finds them (its queue is first in, first out). Every seek is a search
 * (`project_id > ''` for the first one).
 */
export const CALLBACK_PROJECTS_SQL = `WITH RECURSIVE callback_projects(id) AS (
    SELECT (SELECT project_id FROM deliveries INDEXED BY deliveries_callbacks_by_project
            WHERE endpoint_id IS NULL AND status = 'pending' AND project_id > '' ORDER BY project_id LIMIT 1)
    UNION ALL
    SELECT (SELECT project_id FROM deliveries INDEXED BY deliveries_callbacks_by_project
            WHERE endpoint_id IS NULL AND status = 'pending' AND project_id > c.id ORDER BY project_id LIMIT 1)
    FROM callback_projects c WHERE c.id IS NOT NULL)
  SELECT id FROM callback_projects c WHERE c.id IS NOT NULL AND EXISTS (
    SELECT 1 FROM deliveries INDEXED BY deliveries_callbacks_by_project
    WHERE project_id = c.id AND endpoint_id IS NULL AND status = 'pending' AND next_attempt_at <= ?)`;

/** What the store keeps between claims that leave endpoints out. */
export interface ProbeCursor {
  /** Where the next per-endpoint probe starts: which project, and each project's next endpoint. */
  turns: TurnCursor;
  /** Until when claims go straight to the probes, and for which left-out endpoints (skipsWindow). */
  skipWindow?: { excluded: Set<string>; until: number };
  /** Window reads in a row that found nothing usable: each after the first doubles the skip. */
  emptyWindows?: number;
  /**
   * The active endpoints by project, as of `at` (checked again after WINDOW_SKIP_MS), read at
   * `readAt` (all of them: read again ACTIVE_ENDPOINTS_MAX_AGE_MS later, changed or not), and their
   * count of changes (those of the projects that changed since are read again: activeEndpoints).
   */
  endpoints?: { list: TurnList; at: number; readAt: number; changes: number };
  /** Until when leases that ran out were put back in their place (returnEndedLeases). */
  leasesEndedTo?: number;
  /** The projects with callbacks due, as of `at` (kept WINDOW_SKIP_MS while any callback is due). */
  callbackProjects?: { list: string[]; at: number };
  /** `endpoints` with the callbacks of `callbackProjects` (withCallbackTurnList), made of those two. */
  withCallbacks?: { endpoints: TurnList; callbacks: string[]; list: TurnList };
}

/**
 * Leases up to `o.limit` due deliveries: those of the endpoints asked for first (`o.first`), then
 * the oldest due, leaving `o.excludeEndpointIds` out. A claim stopped by its bytes (withinBytes)
 * keeps those asked for first and the part in turn before the oldest due. Reads no payload: their
 * events are read after the commit (withEvents). Runs inside one of the store's group commits.
 */
export function claimDue(db: DatabaseSync, o: ClaimOptions, probe: ProbeCursor): LeasedClaim {
  returnEndedLeases(db, o, probe);
  const inTurn: Row[] = [];
  if (!o.first?.length) return withinBytes(db, leaseOldest(db, o, probe, inTurn), o, inTurn);
  const first: Row[] = [];
  for (const ep of o.first) {
    if (first.length >= o.limit) break;
    const limit = Math.min(ep.limit, o.limit - first.length);
    first.push(
      ...(ep.endpointId === CALLBACKS_ID
        ? all(db, PROJECT_CALLBACK_PROBE_SQL, ep.projectId, o.now, limit)
        : all(db, ENDPOINT_PROBE_SQL, ep.projectId, ep.endpointId, o.now, limit)),
    );
  }
  leaseRows(db, first, o);
  const rest =
    first.length < o.limit ? leaseOldest(db, { ...o, limit: o.limit - first.length }, probe, inTurn) : [];
  return withinBytes(db, first.concat(rest), o, first.concat(inTurn));
}

/**
 * Leases up to `o.limit` due deliveries, leaving `o.excludeEndpointIds` out: the oldest due, but in a
 * claim that finds more due than it takes, a part (fairPart: a quarter, or one row every few claims
 * of a small claim) goes to endpoints in turn, so a backlog at the head of the due order does not
 * hold everyone else's work back. The rows of that part are added to `inTurn` too.
 */
function leaseOldest(db: DatabaseSync, o: ClaimOptions, probe: ProbeCursor, inTurn: Row[]): Row[] {
  // Straight to the endpoints in turn (below): the whole claim in one round of probes.
  if (skipsWindow(db, o, probe)) return probeEndpoints(db, o, new Set(leftOutKeys(o)), o.limit, probe);
  const fair = fairPart(o.limit, probe.turns);
  // A claim of one whose turn it is: all of it in turn, no window read for none.
  const oldest = fair < o.limit ? leaseOldestDue(db, { ...o, limit: o.limit - fair }, probe) : [];
  if (fair === 0 || oldest.length < o.limit - fair) return oldest;
  const turn = probeEndpoints(db, o, new Set(leftOutKeys(o)), fair, probe);
  inTurn.push(...turn);
  const rest = turn.length < fair ? leaseOldestDue(db, { ...o, limit: fair - turn.length }, probe) : [];
  return oldest.concat(turn, rest);
}

/**
 * Leases up to `o.limit` of the oldest due deliveries, leaving `o.excludeEndpointIds` out, and the
 * callbacks of `o.excludeCallbackProjectIds` (their keys among those left out: leftOutKeys).
 */
function leaseOldestDue(db: DatabaseSync, o: ClaimOptions, probe: ProbeCursor): Row[] {
  const exclude = leftOutKeys(o);
  // Rows are picked in due order (the partial index deliveries_due), then leased in one statement.
  const lease = (select: string, ...params: SQLInputValue[]): Row[] => {
    const picked = all(
      db,
      `SELECT rowid AS row_id, * FROM deliveries WHERE rowid IN (${select}) ORDER BY next_attempt_at, id`,
      ...params,
    );
    leaseRows(db, picked, o);
    return picked;
  };
  if (exclude.length === 0) {
    return lease(
      `SELECT rowid FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND ${notHeld(1)}
       ORDER BY next_attempt_at LIMIT ?`,
      o.now,
      o.limit,
    );
  }
  // Saturated endpoints are left out. Only a bounded window of the oldest due rows is looked at,
  // so a saturated endpoint's backlog is never scanned; when that window holds too little of the
  // others, they are probed one endpoint at a time (below).
  const leftOut = new Set(exclude);
  if (skipsWindow(db, o, probe)) return probeEndpoints(db, o, leftOut, o.limit, probe);
  const few = activeEndpoints(db, o.now, probe).ids.length <= CLAIM_PROBES;
  probe.skipWindow = undefined;
  const rows = lease(
    `SELECT rowid FROM (SELECT rowid, endpoint_id, project_id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
       AND ${notHeld(1)} ORDER BY next_attempt_at LIMIT ?)
     WHERE ${LEFT_OUT_KEY} NOT IN (SELECT value FROM json_each(?)) LIMIT ?`,
    o.now,
    CLAIM_WINDOW,
    JSON.stringify(exclude),
    o.limit,
  );
  // Probe only when the window was full: more due rows lie beyond it.
  const beyondWindow =
    rows.length < o.limit &&
    get(
      db,
      `SELECT 1 AS x FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND ${notHeld(1)}
       ORDER BY next_attempt_at LIMIT 1 OFFSET ?`,
      o.now,
      CLAIM_WINDOW - rows.length,
    ) !== undefined;
  if (few || (beyondWindow && rows.length === 0)) {
    // With few endpoints the probes see all the window would: it is read again only to close rows
    // of endpoints deleted meanwhile, every 2 s, whether or not it held all that is due (each read
    // costs a table lookup per row: 4-11 ms of the dispatcher's thread with a hanging endpoint's
    // backlog of fewer than CLAIM_WINDOW rows in it, read at every claim until session 29). With
    // more, after 250 ms, doubling to 2 s while reads in a row find nothing usable.
    const empty = rows.length === 0 ? Math.min((probe.emptyWindows ?? 0) + 1, EMPTY_WINDOW_STEPS) : 0;
    probe.emptyWindows = empty;
    const steps = few ? EMPTY_WINDOW_STEPS : empty;
    probe.skipWindow = { excluded: leftOut, until: o.now + WINDOW_SKIP_MS * 2 ** Math.max(0, steps - 1) };
  } else probe.emptyWindows = 0;
  if (beyondWindow) rows.push(...probeEndpoints(db, o, leftOut, o.limit - rows.length, probe));
  return rows;
}

/** A row's key among those a claim leaves out: its endpoint's id, or its project's callbacks' (callbacksKey). */
const LEFT_OUT_KEY = `coalesce(endpoint_id, 'callbacks/' || project_id)`;

/** Empty window reads in a row that lengthen the skip: 250 ms after the first, doubling up to 2 s. */
const EMPTY_WINDOW_STEPS = 4;

/**
 * Whether a claim that leaves endpoints out goes straight to the per-endpoint probes: a window read
 * lately found the oldest due rows fuller of left-out work than it could use. With no more
 * endpoints than one claim probes, the probes see everything the window would (callbacks included)
 * but rows of endpoints deleted meanwhile, which the next window read closes. With more, only while
 * the endpoints left out include those the window was full of.
 */
function skipsWindow(db: DatabaseSync, o: ClaimOptions, probe: ProbeCursor): boolean {
  const skip = probe.skipWindow;
  const keys = leftOutKeys(o);
  if (!skip || o.now >= skip.until || keys.length === 0) return false;
  if (activeEndpoints(db, o.now, probe).ids.length <= CLAIM_PROBES) return true;
  const leftOut = new Set(keys);
  return [...skip.excluded].every((id) => leftOut.has(id));
}

/**
 * A claim's leased rows, in the claim's order, and their events' ids in the order their payloads
 * are to be read (withEvents): what claimDue decides inside the write transaction.
 */
export interface LeasedClaim {
  rows: Row[];
  eventIds: string[];
  /** The lease's end: the returned deliveries' due time, and the claim's name in a hand-back. */
  leaseUntil: number;
}

/**
 * Keeps the claim within `o.maxBytes` of payload by the events' sizes alone (`octet_length`
 * reads the size from the row's header, never the payload's overflow pages): events are counted
 * one at a time, those of the rows `ahead` first (the endpoints asked for first, the part in turn),
 * then in the claim's order, until those counted hold `o.maxBytes` (at least one is counted); the
 * rows of the events left are given back their due time and lease as they were before this claim.
 * Counted in the claim's order alone, a claim whose oldest rows held its bytes (a backlog of large
 * events) was cut before its part in turn, and the other projects' deliveries there went back to
 * wait. Runs inside the claim's write transaction; the payloads are read after its commit
 * (withEvents): read here, 136 distinct 1 MiB events held SQLite's write lock 0.6-1.4 s a claim,
 * and the API thread's accepts waited for it up to the busy timeout (bench/claim-write-lock.ts).
 */
function withinBytes(db: DatabaseSync, rows: Row[], o: ClaimOptions, ahead: Row[]): LeasedClaim {
  const leaseUntil = o.now + o.leaseMs;
  if (rows.length === 0) return { rows, eventIds: [], leaseUntil };
  const ids = [...new Set(ahead.concat(rows).map((r) => String(r.event_id)))];
  if (o.maxBytes === undefined) return { rows, eventIds: ids, leaseUntil };
  // CROSS JOIN: the list drives, so events come in its order and one past the budget is never counted.
  // id and project_id come before payload in the row: no column past it is read.
  const sizes = prepared(
    db,
    'SELECT e.id, octet_length(e.payload) AS bytes FROM json_each(?) AS j CROSS JOIN events AS e ON e.id = j.value',
  ).iterate(JSON.stringify(ids)) as Iterable<Row>;
  const kept: string[] = [];
  let bytes = 0;
  let cut = false;
  for (const er of sizes) {
    kept.push(String(er.id));
    bytes += Number(er.bytes);
    // Ends the statement: the next event is not counted.
    if (bytes >= o.maxBytes && kept.length < ids.length) {
      cut = true;
      break;
    }
  }
  if (!cut) return { rows, eventIds: ids, leaseUntil };
  const keep = new Set(kept);
  unlease(
    db,
    rows.filter((r) => !keep.has(String(r.event_id))),
  );
  return { rows: rows.filter((r) => keep.has(String(r.event_id))), eventIds: kept, leaseUntil };
}

/**
 * The leased rows with their events, as the dispatcher gets them: run after the claim's commit,
 * outside any write transaction (a WAL reader blocks no writer, and its one statement reads one
 * snapshot). An event deleted between the commit and this read (its project deleted, retention)
 * took its deliveries with it (ON DELETE CASCADE, in the same transaction): its rows are left out,
 * and none of them is left leased.
 */
export function withEvents(db: DatabaseSync, claim: LeasedClaim): ClaimedDelivery[] {
  if (claim.rows.length === 0) return [];
  // Payloads stay text: the request body is built from it (ClaimedDelivery.payloadJson).
  const events = new Map<string, { event: HeraldEvent; payloadJson: string }>();
  const read = prepared(
    db,
    'SELECT e.* FROM json_each(?) AS j CROSS JOIN events AS e ON e.id = j.value',
  ).iterate(JSON.stringify(claim.eventIds)) as Iterable<Row>;
  for (const er of read) {
    events.set(String(er.id), { event: toEventLazyPayload(er), payloadJson: String(er.payload) });
  }
  const out: ClaimedDelivery[] = [];
  for (const r of claim.rows) {
    const found = events.get(String(r.event_id));
    if (!found || found.event.projectId !== String(r.project_id)) continue;
    // The returned delivery shows the lease as its due time, as stored, and as its lease's end
    // (the row was read before the lease): a hand-back names the claim by it (ReleaseItem.leasedUntil).
    const delivery = toDelivery(r);
    delivery.nextAttemptAt = claim.leaseUntil;
    delivery.leasedUntil = claim.leaseUntil;
    out.push({
      delivery,
      event: found.event,
      payloadJson: found.payloadJson,
    });
  }
  return out;
}

/**
 * Gives the rows of a claim whose events could not be read after its commit (withEvents threw)
 * back as they were before it, those still under its lease (`lease_until` and worker: a row
 * deleted since is not there, and its rowid, if taken again, holds another lease).
 */
export function unleaseUnread(db: DatabaseSync, claim: LeasedClaim, workerId: string): void {
  if (claim.rows.length === 0) return;
  run(
    db,
    `UPDATE deliveries SET next_attempt_at = j.value ->> 1, leased_by = j.value ->> 2, held_until = j.value ->> 3,
       lease_until = j.value ->> 4
     FROM json_each(?1) AS j WHERE deliveries.rowid = j.value ->> 0 AND deliveries.id = j.value ->> 5
       AND deliveries.lease_until = ?2 AND deliveries.leased_by = ?3`,
    JSON.stringify(claim.rows.map(unleasedValues)),
    claim.leaseUntil,
    workerId,
  );
}

/** A row's values before a claim leased it, as unlease and unleaseUnread write them back. */
const unleasedValues = (r: Row) => [
  r.row_id,
  r.next_attempt_at,
  r.leased_by ?? null,
  r.held_until ?? null,
  r.lease_until ?? null,
  r.id,
];

/**
 * Gives rows leased by this claim back their due time, hold, lease holder and last lease's end as
 * they were read: a claim that did not take a row leaves the hand-back of the row's last claim
 * (ReleaseItem.leasedUntil) to apply.
 */
function unlease(db: DatabaseSync, rows: Row[]): void {
  if (rows.length === 0) return;
  run(
    db,
    `UPDATE deliveries SET next_attempt_at = j.value ->> 1, leased_by = j.value ->> 2, held_until = j.value ->> 3,
       lease_until = j.value ->> 4
     FROM json_each(?) AS j WHERE deliveries.rowid = j.value ->> 0`,
    JSON.stringify(rows.map(unleasedValues)),
  );
}

/**
 * A lease: next_attempt_at and held_until at its end (LEASE_ENDED_SQL finds it by the two being
 * equal, in deliveries_due alone), and its worker. Moved past now, the leased rows are out of every
 * pick of due rows, which never walks them; held_until costs no more index work, as
 * deliveries_due's entry moves with next_attempt_at anyway.
 */
function leaseRows(db: DatabaseSync, rows: Row[], o: ClaimOptions): void {
  if (rows.length === 0) return;
  run(
    db,
    'UPDATE deliveries SET next_attempt_at = ?1, held_until = ?1, lease_until = ?1, leased_by = ?2 WHERE rowid IN (SELECT value FROM json_each(?3))',
    o.now + o.leaseMs,
    o.workerId,
    JSON.stringify(rows.map((r) => r.row_id)),
  );
}

/**
 * Leases that ran out in (?1, ?2], back in their place in the due order: due from when they became
 * due (due_since), unleased, as releaseClaims leaves them at a start. A lease moves next_attempt_at
 * to its end, so one that ran out without its record (a worker stalled past it, records given up)
 * came back behind everything that had become due while it ran; PostgreSQL keeps the due time under
 * a lease (lease_until). A walk of deliveries_due over what came due since the last claim, the index
 * alone but for the leases among it (held_until = next_attempt_at: none else has both equal but a
 * hand-back whose place was its hold's time, which this leaves where it is).
 */
export const LEASE_ENDED_SQL = `UPDATE deliveries SET next_attempt_at = min(coalesce(due_since, next_attempt_at), next_attempt_at),
  held_until = NULL, leased_by = NULL
  WHERE status = 'pending' AND next_attempt_at > ?1 AND next_attempt_at <= ?2 AND held_until = next_attempt_at
    AND leased_by IS NOT NULL`;

/**
 * Puts the leases that ran out since the last claim back in their place (LEASE_ENDED_SQL), before
 * a claim picks. The first claim looks back a lease's length (a start hands back every claim of the
 * previous run: releaseClaims). A clock stepped back leaves those it skips as they were, due at
 * their lease's end.
 */
function returnEndedLeases(db: DatabaseSync, o: ClaimOptions, probe: ProbeCursor): void {
  const from = probe.leasesEndedTo ?? o.now - o.leaseMs;
  if (o.now <= from) return;
  run(db, LEASE_ENDED_SQL, from, o.now);
  probe.leasesEndedTo = o.now;
}

/**
 * How many of the active endpoints' last changes endpoint_change_projects keeps (migration 0025,
 * whose triggers drop older ones): a claim at most this many behind reads the projects they were in.
 */
export const ENDPOINT_CHANGES_KEPT = 256;

/**
 * The active endpoints, by project, when a claim cannot read only those of the projects that
 * changed (? the count of changes of the list kept, or null): first the count of changes
 * (migration 0022), a row of its own, then, unless it is at most ENDPOINT_CHANGES_KEPT past `?`,
 * every active endpoint from the partial index endpoints_active (migration 0021), covering. One
 * statement, so a claim that reads them runs no more than before. In id order (the primary key's
 * index, then each row read for its status and project) the read took 100-300 ms at 100,000
 * endpoints, every WINDOW_SKIP_MS, whether or not any had changed; from the index, at each change,
 * 83 ms (a scratch run, delivery.md).
 */
export const ACTIVE_ENDPOINTS_SQL = `SELECT changes, NULL, NULL FROM endpoint_changes
  UNION ALL SELECT * FROM (SELECT NULL, project_id, id FROM endpoints WHERE status = 'active' ORDER BY project_id, id
    LIMIT (SELECT CASE WHEN changes - ?1 BETWEEN 0 AND ${ENDPOINT_CHANGES_KEPT} THEN 0 ELSE -1 END FROM endpoint_changes))`;

/**
 * The projects of the changes past ? (migration 0025) with their active endpoints, from
 * endpoints_active, in project then id order; a project with none, once, with a null id.
 */
export const CHANGED_ENDPOINTS_SQL = `SELECT c.project_id, e.id
  FROM (SELECT DISTINCT project_id FROM endpoint_change_projects WHERE change > ?) c
  LEFT JOIN endpoints e INDEXED BY endpoints_active ON e.project_id = c.project_id AND e.status = 'active'
  ORDER BY c.project_id, e.id`;

/**
 * The active endpoints, checked every WINDOW_SKIP_MS (one a claim does not see yet is seen by the
 * window): when they have changed, those of the projects that changed are read again
 * (CHANGED_ENDPOINTS_SQL), and all of them when the list kept is more than ENDPOINT_CHANGES_KEPT
 * changes behind, and ACTIVE_ENDPOINTS_MAX_AGE_MS after the last read of them all, changed or not.
 * Every writer on the file counts its changes (triggers), this process's or another's.
 */
function activeEndpoints(db: DatabaseSync, now: number, probe: ProbeCursor): TurnList {
  const kept = probe.endpoints;
  if (kept && now >= kept.at && now - kept.at < WINDOW_SKIP_MS) return kept.list;
  // Rows as arrays: an object per row was most of the read's time.
  const read = prepared(db, ACTIVE_ENDPOINTS_SQL);
  read.setReturnArrays(true);
  const readAll = (from: number | null) => read.all(from) as unknown as [number, string, string][];
  // null, never a count: read all of them (ACTIVE_ENDPOINTS_MAX_AGE_MS after the last such read).
  const fresh = kept && now >= kept.readAt && now - kept.readAt < ACTIVE_ENDPOINTS_MAX_AGE_MS;
  let rows = readAll(fresh ? kept.changes : null);
  const changes = Number(rows[0]![0]);
  if (fresh && changes === kept.changes) {
    probe.endpoints = { ...kept, at: now };
    return kept.list;
  }
  if (fresh && changes - kept.changes >= 0 && changes - kept.changes <= ENDPOINT_CHANGES_KEPT) {
    const changed = all(db, CHANGED_ENDPOINTS_SQL, kept.changes);
    const pairs: [string, string][] = [];
    for (const r of changed) if (r.id !== null) pairs.push([String(r.project_id), String(r.id)]);
    const list = withProjectsRead(kept.list, new Set(changed.map((r) => String(r.project_id))), pairs);
    if (list) {
      probe.endpoints = { list, at: now, readAt: kept.readAt, changes };
      return list;
    }
    rows = readAll(null);
  }
  const list = turnListOf(
    rows.slice(1).map(([, projectId, id]) => [projectId, id]),
    true,
  );
  probe.endpoints = { list, at: now, readAt: now, changes };
  return list;
}

/** The projects with callbacks due (CALLBACK_PROJECTS_SQL), kept WINDOW_SKIP_MS. */
function callbackProjects(db: DatabaseSync, now: number, probe: ProbeCursor): string[] {
  const kept = probe.callbackProjects;
  if (kept && now >= kept.at && now - kept.at < WINDOW_SKIP_MS) return kept.list;
  const list = all(db, CALLBACK_PROJECTS_SQL, now).map((r) => String(r.id));
  probe.callbackProjects = { list, at: now };
  return list;
}

/**
 * Claims from the endpoints not left out, one at a time (index deliveries_endpoint): projects in
 * turn, each with due work an equal part of `want`, split between its endpoints with due work (a
 * project's callbacks, when any are due, one more of them: withCallbackTurns), then what is left
 * to those that had more (claim-turns.ts), then to the oldest due callbacks. Visits at most
 * CLAIM_PROBES endpoints, starting where the last probe stopped, so every project and every
 * endpoint gets its turn when there are many. Which of them have anything due is asked in one
 * statement first (DUE_ENDPOINTS_SQL): an idle endpoint costs a probe statement (~14 µs)
 * otherwise, and most of an installation's endpoints are idle at any moment (200 of them added
 * ~2.8 ms to a claim of 256, or ~6 ms with a saturated endpoint left out; every claim probes up to
 * 256). Without callbacks due, a claim reads no more than that one row of deliveries_callbacks_due.
 */
function probeEndpoints(
  db: DatabaseSync,
  o: ClaimOptions,
  leftOut: Set<string>,
  want: number,
  probe: ProbeCursor,
): Row[] {
  const callbacksDue = get(db, CALLBACK_PROBE_SQL, o.now, 1) !== undefined;
  const active = activeEndpoints(db, o.now, probe);
  const turns = callbacksDue ? callbackTurns(active, callbackProjects(db, o.now, probe), probe) : active;
  const plan = planTurns(turns, leftOut, probe.turns, CLAIM_PROBES);
  const visited = plan.visited;
  // A project's callbacks are in the plan only when it has some due (as of WINDOW_SKIP_MS ago).
  const due = dueAmong(db, visited, o.now);
  for (let i = 0; i < visited.length; i++) if (visited[i]!.id === CALLBACKS_ID) due.add(i);
  const limits = turnLimits(plan, want, due);
  const probeOne = (ep: TurnEndpoint, limit: number) =>
    ep.id === CALLBACKS_ID
      ? all(db, PROJECT_CALLBACK_PROBE_SQL, ep.projectId, o.now, limit)
      : all(db, ENDPOINT_PROBE_SQL, ep.projectId, ep.id, o.now, limit);
  const out: Row[] = [];
  const hadMore: TurnEndpoint[] = [];
  // Endpoints reached, idle ones included: the next probe starts after the last one.
  let reached = 0;
  for (let i = 0; i < visited.length && out.length < want; i++) {
    reached = i + 1;
    if (!due.has(i)) continue;
    const rows = probeOne(visited[i]!, Math.min(limits[i]!, want - out.length));
    out.push(...rows);
    if (rows.length === limits[i]) hadMore.push(visited[i]!);
  }
  advanceTurns(probe.turns, plan, reached);
  leaseRows(db, out, o); // leased first, so the second pass sees past them
  const more: Row[] = [];
  for (const ep of hadMore) {
    if (out.length + more.length >= want) break;
    more.push(...probeOne(ep, want - out.length - more.length));
  }
  leaseRows(db, more, o);
  const got = out.length + more.length;
  // What the endpoints left, to the oldest due callbacks (leased: the probe sees past those taken),
  // but those of projects left out: among a bounded window of them, so that a full project's
  // backlog of callbacks is not walked at every claim.
  const callbacks = got < want && callbacksDue ? oldestCallbacks(db, o, want - got) : [];
  leaseRows(db, callbacks, o);
  return out.concat(more, callbacks);
}

/** `endpoints` with the callbacks of `callbacks` (withCallbackTurnList), made again only when either is. */
function callbackTurns(endpoints: TurnList, callbacks: string[], probe: ProbeCursor): TurnList {
  const kept = probe.withCallbacks;
  if (kept?.endpoints === endpoints && kept.callbacks === callbacks) return kept.list;
  const list = withCallbackTurnList(endpoints, callbacks);
  probe.withCallbacks = { endpoints, callbacks, list };
  return list;
}

/** The oldest due callbacks, `limit` at most, but those of the projects whose callbacks are left out. */
function oldestCallbacks(db: DatabaseSync, o: ClaimOptions, limit: number): Row[] {
  if (!o.excludeCallbackProjectIds?.length) return all(db, CALLBACK_PROBE_SQL, o.now, limit);
  return all(
    db,
    `SELECT rowid AS row_id, * FROM deliveries WHERE rowid IN (
       SELECT rowid FROM (SELECT rowid, project_id FROM deliveries WHERE endpoint_id IS NULL AND status = 'pending'
         AND next_attempt_at <= ? AND ${notHeld(1)} ORDER BY next_attempt_at LIMIT ?)
       WHERE project_id NOT IN (SELECT value FROM json_each(?)) LIMIT ?)
     ORDER BY next_attempt_at`,
    o.now,
    CLAIM_WINDOW,
    JSON.stringify(o.excludeCallbackProjectIds),
    limit,
  );
}

/**
 * The positions in `endpoints` (`[project id, endpoint id]` as JSON) of those with a due delivery:
 * one index seek each in deliveries_endpoint, all in one statement.
 */
export const DUE_ENDPOINTS_SQL = `SELECT e.key AS i FROM json_each(?) AS e WHERE EXISTS (
  SELECT 1 FROM deliveries WHERE project_id = e.value ->> 0 AND endpoint_id = e.value ->> 1
    AND status = 'pending' AND next_attempt_at <= ?)`;

function dueAmong(db: DatabaseSync, endpoints: TurnEndpoint[], now: number): Set<number> {
  if (!endpoints.some((ep) => ep.id !== CALLBACKS_ID)) return new Set();
  const list = JSON.stringify(endpoints.map((ep) => [ep.projectId, ep.id]));
  return new Set(all(db, DUE_ENDPOINTS_SQL, list, now).map((r) => Number(r.i)));
}
