/**
 * Store.deleteProject for PostgreSQL, in steps as on SQLite (sqlite/project-delete.ts). In one
 * transaction (1,000,000 events with their deliveries and attempts: 2.2 s) every row of the project
 * stayed locked until the commit, and a record of one of its attempts still out waited for it; a
 * record batch holds other projects' records too, so recording stalled for everyone. First what
 * lets anything new arrive for it (keys, endpoints), the project marked `deleting` (from then on not
 * found, not listed); then its pending callbacks closed and its history deleted, a chunk per
 * statement, each committed on its own; last whatever arrived meanwhile, and the project. A stop in
 * between leaves it to the next start (Store.finishProjectDeletes), which runs the same steps again.
 */
import type pg from 'pg';
import { projectDeleteSteps } from '../project-delete-steps.ts';
import { purgeBytes } from '../purge-bytes.ts';

type Queryable = Pick<pg.Pool, 'query'>;
/** Runs `fn` in one transaction on one connection. */
type Transaction = <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>;

/** A project's credentials and settings: deleted first, so nothing new arrives for it. */
const ACCESS_TABLES = ['api_keys', 'endpoint_secrets', 'endpoints', 'endpoint_rate_limits'];
/**
 * A project's history, children before parents, with the key that names a row within the project
 * and the bytes of a row that hold large values (their stored sizes, not read): an attempt's request
 * (its body as sent when it is not the event's envelope: a form body, a GET query, a sha256-body,
 * ~3 times the payload) and response (up to 64 KiB), an event's payload.
 */
const HISTORY_TABLES: { table: string; key: string; bytes?: string }[] = [
  { table: 'attempts', key: 'id', bytes: 'pg_column_size(request) + coalesce(pg_column_size(response), 0)' },
  { table: 'deliveries', key: 'id' },
  { table: 'idempotency_keys', key: 'key' },
  { table: 'operational_events', key: 'id' },
  { table: 'events', key: 'id', bytes: 'pg_column_size(payload)' },
];
/** Rows per statement when a project's history is deleted: ~7 ms each here. */
const CHUNK_ROWS = 5_000;
/**
 * Up to $2 of the project's ($1) pending callback deliveries (callbackUrl: no endpoint, so deleting
 * the endpoints does not stop them) closed as failed, locked in key order first (delivery-locks.ts),
 * as an endpoint's delete closes its backlog (endpoint-writes.ts CLOSE_BATCH).
 */
const CLOSE_CALLBACKS = `WITH picked AS (
    SELECT id FROM deliveries WHERE project_id = $1 AND endpoint_id IS NULL AND status = 'pending' LIMIT $2
  ), closed AS (
    UPDATE deliveries d SET status = 'failed', next_attempt_at = NULL, leased_by = NULL
    FROM (SELECT id FROM deliveries WHERE project_id = $1 AND id IN (SELECT id FROM picked)
            AND status = 'pending' ORDER BY id FOR NO KEY UPDATE) x
    WHERE d.project_id = $1 AND d.id = x.id
  )
  SELECT count(*)::int AS picked FROM picked`;

/**
 * Locks the project's endpoints in (project_id, id) order, as a batch of attempt records does before
 * it moves their deliveries (attempt-records.ts): a DELETE locks them in whatever order it finds
 * them, and the last transaction deletes deliveries before endpoints, each a deadlock with a batch.
 */
const lockEndpoints = (c: pg.PoolClient, projectId: string) =>
  c.query('SELECT 1 FROM endpoints WHERE project_id = $1 ORDER BY project_id, id FOR UPDATE', [projectId]);

/**
 * Locks the project's deliveries in `range` (on $2, $3 of `params`) in key order, as every write of
 * several deliveries does (delivery-locks.ts), before the DELETE that removes them: a DELETE locks
 * them in whatever order its plan finds them (the table's on a scan), and a batch of attempt
 * records moving some of them in key order deadlocked with it (test/store/postgres-lock-order.test.ts,
 * callback deliveries, which no endpoint lock orders; endpoints are deleted before the history).
 */
const lockDeliveries = (c: pg.PoolClient, range: string, params: unknown[]) =>
  c.query(`SELECT 1 FROM deliveries WHERE project_id = $1 AND ${range} ORDER BY id FOR UPDATE`, params);

export async function deleteProjectPostgres(
  db: Queryable,
  tx: Transaction,
  projectId: string,
): Promise<boolean> {
  const exists = await tx(async (c) => {
    // FOR UPDATE: an accept batch that locked the row FOR KEY SHARE before this (accept-batch.ts)
    // commits first, its callbacks then closed below; one after it waits, then sees `deleting`. (The
    // update alone conflicts with that lock only when it clears a uid, a key column.)
    if (!(await c.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [projectId])).rowCount)
      return false;
    // From here it is not found nor listed, its uid free for another project (the operator's,
    // which a start makes again by its uid), and a stop before the last transaction leaves it to
    // the next start (Store.finishProjectDeletes).
    await c.query('UPDATE projects SET deleting = true, uid = NULL WHERE id = $1 AND NOT deleting', [
      projectId,
    ]);
    await lockEndpoints(c, projectId);
    for (const table of ACCESS_TABLES)
      await c.query(`DELETE FROM ${table} WHERE project_id = $1`, [projectId]);
    return true;
  });
  if (!exists) return false;
  // Its callbacks first, a chunk per statement: none is sent while the history goes (nor after a stop).
  for (;;) {
    const { rows } = await db.query(CLOSE_CALLBACKS, [projectId, CHUNK_ROWS]);
    const picked = (rows[0] as { picked: number }).picked;
    projectDeleteSteps.committed?.('callbacks', picked);
    if (picked < CHUNK_ROWS) break;
  }
  for (const { table, key, bytes } of HISTORY_TABLES) {
    // A chunk is a range of keys, walked in key order on the primary key: the next starts past the
    // last. (Deleting `key IN (the next 5,000)` let the planner pick a hash join over the whole
    // table for each chunk: 25 s for 1,000,000 events, against 3.2 s in one transaction.) The
    // last chunk (fewer rows, and within the bytes) has no upper bound.
    let after = '';
    for (;;) {
      const upTo = await chunkEnd(db, table, key, bytes, projectId, after);
      const range = upTo === undefined ? `${key} > $2` : `${key} > $2 AND ${key} <= $3`;
      const params = upTo === undefined ? [projectId, after] : [projectId, after, upTo];
      const chunk = `DELETE FROM ${table} WHERE project_id = $1 AND ${range}`;
      const { rowCount } =
        table === 'deliveries'
          ? // Locked in key order first (lockDeliveries), in the chunk's own transaction.
            await tx(async (c) => {
              await lockDeliveries(c, range, params);
              return c.query(chunk, params);
            })
          : await db.query(chunk, params);
      const deleted = rowCount ?? 0;
      projectDeleteSteps.committed?.(table, deleted);
      if (upTo === undefined) break;
      after = upTo;
    }
  }
  return tx(async (c) => {
    // First the project row: waits for accept batches that hold it (FOR KEY SHARE, accept-batch.ts)
    // so that their events are deleted below, and makes those that come later find it gone.
    await c.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
    await lockEndpoints(c, projectId); // any created meanwhile
    await lockDeliveries(c, 'true', [projectId]);
    for (const { table } of HISTORY_TABLES)
      await c.query(`DELETE FROM ${table} WHERE project_id = $1`, [projectId]);
    for (const table of ACCESS_TABLES)
      await c.query(`DELETE FROM ${table} WHERE project_id = $1`, [projectId]);
    return (
      ((await c.query('DELETE FROM projects WHERE project_id = $1 AND id = $1', [projectId])).rowCount ?? 0) >
      0
    );
  });
}

/**
 * The last key of the next chunk of the project's rows in `table` past `after`: the CHUNK_ROWS-th,
 * and where rows hold large values, the one whose `bytes` bring the chunk to purgeBytes.postgres if
 * that comes first (at least one row); undefined when the rest is fewer and within the bytes.
 * Counted by rows alone, a chunk of 5,000 attempts of 1 MiB (their bodies as sent) took past the
 * 20 s query timeout on every try: that project could never be deleted.
 */
async function chunkEnd(
  db: Queryable,
  table: string,
  key: string,
  bytes: string | undefined,
  projectId: string,
  after: string,
): Promise<string | undefined> {
  if (bytes === undefined) {
    const { rows } = await db.query(
      `SELECT ${key} AS k FROM ${table} WHERE project_id = $1 AND ${key} > $2 ORDER BY ${key} OFFSET $3 LIMIT 1`,
      [projectId, after, CHUNK_ROWS - 1],
    );
    return rows[0]?.k as string | undefined;
  }
  // The chunk's sizes summed first, on the rows the key range holds: when they fit, as small rows
  // do, that is the chunk (~1.3 ms for 5,000 attempts; a running sum over them ~4.5 ms).
  const first = `SELECT ${key} AS k, ${bytes} AS bytes FROM ${table}
    WHERE project_id = $1 AND ${key} > $2 ORDER BY ${key} LIMIT $3`;
  const { rows } = await db.query<{ last: string | null; n: string; bytes: string }>(
    `SELECT max(k) AS last, count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM (${first}) a`,
    [projectId, after, CHUNK_ROWS],
  );
  const chunk = rows[0]!;
  if (Number(chunk.bytes) < purgeBytes.postgres) {
    return Number(chunk.n) < CHUNK_ROWS ? undefined : (chunk.last ?? undefined);
  }
  // Else up to the row that brings them to the bound, as takeWithinBudget takes them: each row
  // whose predecessors hold less than it (the first always does).
  const { rows: cut } = await db.query<{ up_to: string | null }>(
    `SELECT max(k) AS up_to FROM (
       SELECT k, coalesce(sum(bytes) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
       FROM (${first}) a
     ) s WHERE before < $4`,
    [projectId, after, CHUNK_ROWS, purgeBytes.postgres],
  );
  return cut[0]?.up_to ?? undefined;
}

/** The projects whose delete began but did not end (a stop in between): Store.finishProjectDeletes. */
export async function deletingProjectsPostgres(db: Queryable): Promise<string[]> {
  const { rows } = await db.query('SELECT id FROM projects WHERE deleting ORDER BY id');
  return (rows as { id: string }[]).map((r) => r.id);
}
