/**
 * Claims for the SQLite store: due deliveries picked in due order (the partial index
 * deliveries_due) and leased, with their events. Runs inside one of the store's group commits,
 * beside the attempt records waiting to be written.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { HeraldEvent } from '../../domain/types.ts';
import type { ClaimedDelivery, ClaimOptions } from '../store.ts';
import { all, get, run } from './db-helpers.ts';
import { type Row, toDelivery, toEventLazyPayload } from './rows.ts';

/** Oldest due rows a claim that leaves endpoints out looks at before probing endpoint by endpoint. */
const CLAIM_WINDOW = 2_048;
/** Endpoints one such probe visits at most. */
const CLAIM_PROBES = 256;

/** One endpoint's due deliveries, oldest first: walks deliveries_endpoint in order (migration 0003). */
export const ENDPOINT_PROBE_SQL = `SELECT * FROM deliveries WHERE project_id = ? AND endpoint_id = ? AND status = 'pending'
  AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`;

/** Due deliveries to callback URLs (no endpoint), oldest first: the partial index of migration 0004. */
export const CALLBACK_PROBE_SQL = `SELECT * FROM deliveries WHERE endpoint_id IS NULL AND status = 'pending'
  AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`;

/** How long a window found to hold only left-out endpoints' rows is not looked at again. */
export const WINDOW_SKIP_MS = 250;

/** What the store keeps between claims that leave endpoints out. */
export interface ProbeCursor {
  /** Where the next per-endpoint probe starts. */
  from: number;
  /**
   * Set when the window of oldest due rows held only the left-out endpoints' work: until `until`,
   * claims that leave at least those endpoints out go straight to the per-endpoint probes instead
   * of reading the same window again (a hanging endpoint's backlog at the head of the due order
   * would cost every claim a 2,048-row read for nothing). The probes find callbacks too; the
   * window is read again after a while so that, across endpoints, the oldest work still goes first.
   */
  skipWindow?: { excluded: Set<string>; until: number };
}

/** Leases up to `o.limit` due deliveries (leaving `o.excludeEndpointIds` out) and returns them with their events. */
export function claimDue(db: DatabaseSync, o: ClaimOptions, probe: ProbeCursor): ClaimedDelivery[] {
  const exclude = o.excludeEndpointIds ?? [];
  // Rows are picked in due order (the partial index deliveries_due), then leased in one statement.
  const lease = (select: string, ...params: SQLInputValue[]): Row[] => {
    const picked = all(
      db,
      `SELECT * FROM deliveries WHERE rowid IN (${select}) ORDER BY next_attempt_at, id`,
      ...params,
    );
    leaseRows(db, picked, o);
    return picked;
  };
  let rows: Row[];
  if (exclude.length === 0) {
    rows = lease(
      `SELECT rowid FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at LIMIT ?`,
      o.now,
      o.limit,
    );
  } else {
    // Saturated endpoints are left out. Only a bounded window of the oldest due rows is looked at,
    // so a saturated endpoint's backlog is never scanned; when that window holds too little of the
    // others, they are probed one endpoint at a time (below).
    const skip = probe.skipWindow;
    if (skip && o.now < skip.until && [...skip.excluded].every((id) => exclude.includes(id))) {
      return withEvents(db, probeEndpoints(db, o, new Set(exclude), o.limit, probe), o);
    }
    probe.skipWindow = undefined;
    const excluded = JSON.stringify(exclude);
    rows = lease(
      `SELECT rowid FROM (SELECT rowid, endpoint_id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at LIMIT ?)
       WHERE endpoint_id IS NULL OR endpoint_id NOT IN (SELECT value FROM json_each(?)) LIMIT ?`,
      o.now,
      CLAIM_WINDOW,
      excluded,
      o.limit,
    );
    // Probe only when the window was full: more due rows lie beyond it.
    const beyondWindow =
      rows.length < o.limit &&
      get(
        db,
        `SELECT 1 AS x FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at LIMIT 1 OFFSET ?`,
        o.now,
        CLAIM_WINDOW - rows.length,
      ) !== undefined;
    if (beyondWindow && rows.length === 0) {
      probe.skipWindow = { excluded: new Set(exclude), until: o.now + WINDOW_SKIP_MS };
    }
    if (beyondWindow) rows.push(...probeEndpoints(db, o, new Set(exclude), o.limit - rows.length, probe));
  }
  return withEvents(db, rows, o);
}

/** The claimed rows with their events, as the dispatcher gets them. */
function withEvents(db: DatabaseSync, rows: Row[], o: ClaimOptions): ClaimedDelivery[] {
  // Payloads stay text: the request body is built from it (ClaimedDelivery.payloadJson).
  const events = new Map<string, { event: HeraldEvent; payloadJson: string }>();
  if (rows.length) {
    const ids = JSON.stringify([...new Set(rows.map((r) => String(r.event_id)))]);
    for (const er of all(db, 'SELECT * FROM events WHERE id IN (SELECT value FROM json_each(?))', ids)) {
      events.set(String(er.id), { event: toEventLazyPayload(er), payloadJson: String(er.payload) });
    }
  }
  const out: ClaimedDelivery[] = [];
  for (const r of rows) {
    const found = events.get(String(r.event_id));
    if (!found || found.event.projectId !== String(r.project_id)) continue;
    // The returned delivery shows the lease as its due time, as stored.
    const delivery = toDelivery(r);
    delivery.nextAttemptAt = o.now + o.leaseMs;
    out.push({
      delivery,
      event: found.event,
      payloadJson: found.payloadJson,
    });
  }
  return out;
}

function leaseRows(db: DatabaseSync, rows: Row[], o: ClaimOptions): void {
  if (rows.length === 0) return;
  run(
    db,
    'UPDATE deliveries SET next_attempt_at = ?, leased_by = ? WHERE id IN (SELECT value FROM json_each(?))',
    o.now + o.leaseMs,
    o.workerId,
    JSON.stringify(rows.map((r) => String(r.id))),
  );
}

/**
 * Claims callback deliveries (index deliveries_callbacks_due), then from endpoints one at a time
 * (index deliveries_endpoint), skipping the saturated ones: used when the oldest due rows all belong
 * to saturated endpoints. Starts where the last probe stopped, so every endpoint gets its turn when
 * there are many.
 */
function probeEndpoints(
  db: DatabaseSync,
  o: ClaimOptions,
  exclude: Set<string>,
  want: number,
  probe: ProbeCursor,
): Row[] {
  const out: Row[] = all(db, CALLBACK_PROBE_SQL, o.now, want);
  leaseRows(db, out, o);
  const endpoints = all(db, "SELECT project_id, id FROM endpoints WHERE status = 'active' ORDER BY id");
  const n = endpoints.length;
  for (let i = 0; i < Math.min(n, CLAIM_PROBES) && out.length < want; i++) {
    const ep = endpoints[(probe.from + i) % n]!;
    if (exclude.has(String(ep.id))) continue;
    const rows = all(db, ENDPOINT_PROBE_SQL, String(ep.project_id), String(ep.id), o.now, want - out.length);
    leaseRows(db, rows, o);
    out.push(...rows);
  }
  probe.from = n ? (probe.from + Math.min(n, CLAIM_PROBES)) % n : 0;
  return out;
}
