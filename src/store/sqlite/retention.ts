/**
 * Store.purgeBefore for SQLite: one bounded batch per call, in one savepoint of the store's group
 * commit (the caller's transaction), walking a project's events by age (index events_created) from
 * a cursor, so a batch costs what it looks at, not the size of the tables. The store's other writes
 * wait at most one batch.
 *
 * node:sqlite is synchronous: a batch blocks the thread that runs it (the API's, in an `all`
 * process) and holds the write lock the dispatcher thread needs. So a call works in chunks of
 * PURGE_CHUNK events and stops after the first chunk that ends past its time budget, before
 * `limit`: a batch of 1,000 old events with two deliveries and two attempts each took ~47 ms, and
 * accepting an event meanwhile went from a p99 of 4.5 ms to 100 ms. A call also ends once the
 * events and attempts it deleted held purgeBytes.sqlite (purge-bytes.ts: payloads, requests and
 * responses): large events and attempts cost their bytes, whatever their number.
 *
 * A chunk is bounded by rows too (PURGE_CHUNK_ROWS), not only by events: an event fanned out to
 * 1,000 endpoints with 5 attempts each is 6,000 rows, and a chunk of 50 of them (300,000 rows)
 * took 5-6 s, the API's thread blocked all that time (requests on kept-alive sockets were closed
 * unanswered as it resumed: their idle timers ran before their bytes were read) and the dispatcher
 * thread's writes failing after their 5 s busy timeout ("database is locked").
 */
import type { DatabaseSync } from 'node:sqlite';
import { takeWithinBudget } from '../page-budget.ts';
import { purgeBytes } from '../purge-bytes.ts';
import { decodePurgeCursor, encodePurgeCursor } from '../purge-cursor.ts';
import { takeWithinRows } from '../purge-rows.ts';
import type { PurgeResult } from '../store.ts';
import { all, prepared, run } from './db-helpers.ts';
import type { Row } from './rows.ts';

/** Events looked at per chunk: small enough that one chunk stays within a few ms. */
export const PURGE_CHUNK = 50;
/**
 * Deliveries and attempts one chunk deletes, about (~10-30 µs each): a chunk takes events while
 * their deliveries and attempts (as the deliveries count them) stay within this, at least one, and
 * deletes attempts at most this many at a time. An event's deliveries go with it, in one write (its
 * `delivery_count`, and readers, rely on that), so an event fanned out to more endpoints than this
 * costs its fan-out, as accepting it did.
 */
export const PURGE_CHUNK_ROWS = 500;
/** A call starts no new chunk once it has run this long. */
export const PURGE_BUDGET_MS = 4;

export function purgeBeforeSqlite(
  db: DatabaseSync,
  projectId: string,
  cutoff: number,
  limit: number,
  after: string | null,
  budgetMs = PURGE_BUDGET_MS,
): PurgeResult {
  const n = Math.max(1, Math.floor(limit));
  const deadline = performance.now() + budgetMs;
  let events = 0;
  let deliveries = 0;
  let attempts = 0;
  let looked = 0;
  let bytes = 0;
  let position = after;
  let more: boolean;
  do {
    const size = Math.min(PURGE_CHUNK, n - looked);
    const chunk = purgeEventChunk(db, projectId, cutoff, size, position, purgeBytes.sqlite - bytes);
    events += chunk.events;
    deliveries += chunk.deliveries;
    attempts += chunk.attempts;
    looked += chunk.looked;
    bytes += chunk.bytes;
    position = chunk.position ?? position;
    more = chunk.full;
  } while (more && looked < n && bytes < purgeBytes.sqlite && performance.now() < deadline);
  const operationalEvents = run(
    db,
    `DELETE FROM operational_events WHERE rowid IN (
       SELECT rowid FROM operational_events WHERE project_id = ? AND created_at < ? LIMIT ?)`,
    projectId,
    cutoff,
    n,
  );
  // Rate-limit state idle since the cutoff is the same as none (deleted endpoints leave such rows).
  run(db, 'DELETE FROM endpoint_rate_limits WHERE project_id = ? AND tat < ?', projectId, cutoff);
  return {
    events,
    deliveries,
    attempts,
    operationalEvents,
    next: more || operationalEvents === n ? (position ?? '') : null,
  };
}

interface Chunk {
  events: number;
  deliveries: number;
  attempts: number;
  /** Events looked at (purged or kept). */
  looked: number;
  /** Bytes purged: the payloads of the events, the requests and responses of the attempts. */
  bytes: number;
  /** The cursor after the last event looked at (null: none was). */
  position: string | null;
  /** It looked at as many events as it was allowed, or stopped at its bytes: there may be more. */
  full: boolean;
}

function purgeEventChunk(
  db: DatabaseSync,
  projectId: string,
  cutoff: number,
  size: number,
  after: string | null,
  budgetBytes: number,
): Chunk {
  const from = decodePurgeCursor(after);
  // The next events made before the cutoff, each with its rows: its deliveries and their attempts,
  // counted on at most PURGE_CHUNK_ROWS deliveries (enough to fill a chunk alone). Only columns
  // stored before the payload, or in the index: reading one after it (the idempotency key)
  // walks every overflow page of a large payload, ~4 ms per 16 MiB.
  const candidates = prepared(
    db,
    `SELECT e.id, e.created_at, octet_length(e.payload) AS bytes,
       (SELECT count(*) + total(n) FROM (SELECT d.attempts AS n FROM deliveries d
          WHERE d.project_id = e.project_id AND d.event_id = e.id LIMIT ?)) AS rows
     FROM events e
     WHERE e.project_id = ? AND e.created_at < ? AND (e.created_at, e.id) > (?, ?)
     ORDER BY e.created_at, e.id LIMIT ?`,
  ).iterate(PURGE_CHUNK_ROWS, projectId, cutoff, from.createdAt, from.id, size) as Iterable<Row>;
  // Read one at a time: an event past the bound is the last one counted.
  const byRows = takeWithinRows(candidates, PURGE_CHUNK_ROWS, (e) => Number(e.rows));
  // Which are done: all their deliveries finished and untouched since the cutoff (pending, parked
  // and claimed ones are never purged). Read for these only: it reads each of their deliveries.
  const doneIds = new Set(
    all(
      db,
      `SELECT value AS id FROM json_each(?) WHERE NOT EXISTS (
         SELECT 1 FROM deliveries d WHERE d.project_id = ? AND d.event_id = value
         AND (d.status NOT IN ('succeeded', 'failed') OR d.updated_at >= ?))`,
      JSON.stringify(byRows.rows.map((e) => String(e.id))),
      projectId,
      cutoff,
    ).map((e) => String(e.id)),
  );
  const isDone = (e: Record<string, unknown>) => doneIds.has(String(e.id));
  // Up to the event whose payload reaches the bytes left; the rest are looked at by the next chunk.
  const { rows: batch, cut } = takeWithinBudget(
    byRows.rows,
    size,
    (e) => (isDone(e) ? Number(e.bytes) : 0),
    budgetBytes,
  );
  const gone = batch.filter(isDone);
  const kept = batch.filter((e) => !isDone(e));
  const goneIds = JSON.stringify(gone.map((e) => String(e.id)));
  const keptIds = JSON.stringify(kept.map((e) => String(e.id)));
  const inIds = '(SELECT value FROM json_each(?))';
  // Their attempts first, at most PURGE_CHUNK_ROWS, up to the one whose request and response bring
  // them to the bytes left (sized from the record header, not read): those of events that go, and
  // the old ones of events kept (still in use, e.g. parked for longer than the retention). When
  // that many went there may be more: the same events are looked at again (the next chunk or
  // call), and the cursor does not move past them. Attempts that went are older than the cutoff
  // either way. An attempt holds its request body as sent when it is not the event's envelope (a
  // form body, a GET query, sha256-body: ~3 times the payload) and up to 64 KiB of response: 240
  // of 768 KiB took 184 ms in one chunk when only their number bounded it.
  const sized = prepared(
    db,
    `SELECT rowid AS r, octet_length(request) + coalesce(octet_length(response), 0) AS bytes
     FROM attempts WHERE project_id = ? AND event_id IN ${inIds}
     UNION ALL
     SELECT rowid, octet_length(request) + coalesce(octet_length(response), 0)
     FROM attempts WHERE project_id = ? AND event_id IN ${inIds} AND started_at < ?
     LIMIT ?`,
  ).iterate(projectId, goneIds, projectId, keptIds, cutoff, PURGE_CHUNK_ROWS) as Iterable<Row>;
  const doomed = takeWithinBudget(sized, PURGE_CHUNK_ROWS, (a) => Number(a.bytes), budgetBytes);
  const attempts = doomed.rows.length
    ? run(
        db,
        'DELETE FROM attempts WHERE rowid IN (SELECT value FROM json_each(?))',
        JSON.stringify(doomed.rows.map((a) => Number(a.r))),
      )
    : 0;
  let bytes = doomed.rows.reduce((sum, a) => sum + Number(a.bytes), 0);
  if (attempts === PURGE_CHUNK_ROWS || doomed.cut) {
    return { events: 0, deliveries: 0, attempts, looked: 0, bytes, position: null, full: true };
  }
  let deliveries = 0;
  if (gone.length) {
    for (const e of gone) bytes += Number(e.bytes);
    deliveries = run(
      db,
      `DELETE FROM deliveries WHERE project_id = ? AND event_id IN ${inIds}`,
      projectId,
      goneIds,
    );
    // The keys are read as the events go, so a large payload's pages are walked once, not twice.
    const keyed = all(
      db,
      `DELETE FROM events WHERE project_id = ? AND id IN ${inIds} RETURNING id, idempotency_key`,
      projectId,
      goneIds,
    ).filter((e) => e.idempotency_key != null);
    for (const e of keyed) {
      run(
        db,
        'DELETE FROM idempotency_keys WHERE project_id = ? AND key = ? AND event_id = ?',
        projectId,
        String(e.idempotency_key),
        String(e.id),
      );
    }
  }
  const last = batch.at(-1);
  return {
    events: gone.length,
    deliveries,
    attempts,
    looked: batch.length,
    bytes,
    position: last ? encodePurgeCursor(Number(last.created_at), String(last.id)) : null,
    full: byRows.cut || cut || batch.length === size,
  };
}
