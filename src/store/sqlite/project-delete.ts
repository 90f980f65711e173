/**
 * Store.deleteProject for SQLite, in three steps so that a large project does not hold the write
 * lock (and the thread that also accepts events) for seconds: in one write transaction 200,000
 * events with their deliveries and attempts took 4.57 s. First what lets anything new arrive for it
 * (keys, endpoints), the project marked `deleting` (from then on not found, not listed); then its
 * pending callbacks closed and its history deleted, a chunk per write, other writes going in
 * between; last whatever arrived meanwhile, and the project. A stop in between leaves it to the
 * next start (Store.finishProjectDeletes), which runs the same steps again.
 */
import type { DatabaseSync } from 'node:sqlite';
import { takeWithinBudget } from '../page-budget.ts';
import { projectDeleteSteps } from '../project-delete-steps.ts';
import { purgeBytes } from '../purge-bytes.ts';
import { all, get, prepared, run } from './db-helpers.ts';
import type { Row } from './rows.ts';

/** A project's credentials and settings: deleted first, so nothing new arrives for it. */
const ACCESS_TABLES = ['api_keys', 'endpoint_secrets', 'endpoints', 'endpoint_rate_limits'];
/**
 * A project's history, children before parents (attempts and deliveries before their events), with
 * the bytes of a row that hold large values (sized from the record header, not read): an attempt's
 * request (its body as sent when it is not the event's envelope: a form body, a GET query, a
 * sha256-body, ~3 times the payload) and response (up to 64 KiB), an event's payload.
 */
const HISTORY_TABLES: { table: string; bytes?: string }[] = [
  { table: 'attempts', bytes: 'octet_length(request) + coalesce(octet_length(response), 0)' },
  { table: 'deliveries' },
  { table: 'idempotency_keys' },
  { table: 'operational_events' },
  { table: 'events', bytes: 'octet_length(payload)' },
];
/** Rows per write when a project's history is deleted: ~20 ms each here. */
const CHUNK_ROWS = 2_000;
/**
 * Up to ? of the project's (?) pending callback deliveries (callbackUrl: no endpoint, so deleting
 * the endpoints does not stop them) closed as failed, as an endpoint's delete closes its backlog
 * (endpoint-writes.ts), on deliveries_endpoint (project, NULL, 'pending' is one range of it).
 */
const CLOSE_CALLBACKS = `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, leased_by = NULL
  WHERE rowid IN (SELECT rowid FROM deliveries INDEXED BY deliveries_endpoint
    WHERE project_id = ? AND endpoint_id IS NULL AND status = 'pending' LIMIT ?)`;

/** `write` runs a job in one transaction of the store's group commit. */
export async function deleteProjectSqlite(
  db: DatabaseSync,
  write: <T>(job: () => T) => Promise<T>,
  projectId: string,
): Promise<boolean> {
  const exists = await write(() => {
    if (!get(db, 'SELECT 1 FROM projects WHERE id = ?', projectId)) return false;
    // From here it is not found nor listed, its uid free for another project (the operator's,
    // which a start makes again by its uid), and a stop before the last write leaves it to the next
    // start (Store.finishProjectDeletes).
    run(db, 'UPDATE projects SET deleting = 1, uid = NULL WHERE id = ? AND NOT deleting', projectId);
    for (const table of ACCESS_TABLES) run(db, `DELETE FROM ${table} WHERE project_id = ?`, projectId);
    return true;
  });
  if (!exists) return false;
  // Its callbacks first, a chunk per write: none is sent while the history goes (nor after a stop).
  for (;;) {
    const closed = await write(() => run(db, CLOSE_CALLBACKS, projectId, CHUNK_ROWS));
    projectDeleteSteps.committed?.('callbacks', closed);
    if (closed < CHUNK_ROWS) break;
  }
  for (const { table, bytes } of HISTORY_TABLES) {
    for (;;) {
      const chunk = await write(() => deleteChunk(db, table, bytes, projectId));
      projectDeleteSteps.committed?.(table, chunk.deleted);
      if (!chunk.more) break;
    }
  }
  return write(() => {
    for (const { table } of HISTORY_TABLES) run(db, `DELETE FROM ${table} WHERE project_id = ?`, projectId);
    for (const table of ACCESS_TABLES) run(db, `DELETE FROM ${table} WHERE project_id = ?`, projectId);
    return run(db, 'DELETE FROM projects WHERE id = ?', projectId) > 0;
  });
}

/**
 * One write's chunk of the project's rows in `table`: the first CHUNK_ROWS (by id), and where rows
 * hold large values, only up to the one whose `bytes` bring the chunk to purgeBytes.sqlite (at least
 * one row). Counted by rows alone, 180 MiB of attempts went in one write of 130-170 ms, the write
 * lock and the thread that accepts events held all along. `more`: the bound stopped it, so more may
 * be left.
 */
function deleteChunk(
  db: DatabaseSync,
  table: string,
  bytes: string | undefined,
  projectId: string,
): { deleted: number; more: boolean } {
  /** The first CHUNK_ROWS in `order`, in one statement. */
  const whole = (order: string) => {
    const deleted = run(
      db,
      `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE project_id = ? ${order} LIMIT ?)`,
      projectId,
      CHUNK_ROWS,
    );
    return { deleted, more: deleted === CHUNK_ROWS };
  };
  if (bytes === undefined) return whole('');
  // The chunk's sizes summed first (~0.4 ms for 2,000 rows): when they fit, as small rows do, the
  // chunk goes in one statement; read row by row into the bound, 2,000 small rows took ~2 ms more.
  // In id order both ways (the index on project_id, id), so both take the same rows.
  const sum = get(
    db,
    `SELECT coalesce(sum(bytes), 0) AS bytes FROM (
       SELECT ${bytes} AS bytes FROM ${table} WHERE project_id = ? ORDER BY id LIMIT ?)`,
    projectId,
    CHUNK_ROWS,
  );
  if (Number(sum?.bytes) < purgeBytes.sqlite) return whole('ORDER BY id');
  const sized = prepared(
    db,
    `SELECT rowid AS r, ${bytes} AS bytes FROM ${table} WHERE project_id = ? ORDER BY id LIMIT ?`,
  ).iterate(projectId, CHUNK_ROWS) as Iterable<Row>;
  const doomed = takeWithinBudget(sized, CHUNK_ROWS, (r) => Number(r.bytes), purgeBytes.sqlite);
  const deleted = run(
    db,
    `DELETE FROM ${table} WHERE rowid IN (SELECT value FROM json_each(?))`,
    JSON.stringify(doomed.rows.map((r) => Number(r.r))),
  );
  return { deleted, more: doomed.cut || doomed.rows.length === CHUNK_ROWS };
}

/** The projects whose delete began but did not end (a stop in between): Store.finishProjectDeletes. */
export const deletingProjectsSqlite = (db: DatabaseSync): string[] =>
  all(db, 'SELECT id FROM projects WHERE deleting ORDER BY id').map((r) => String(r.id));
