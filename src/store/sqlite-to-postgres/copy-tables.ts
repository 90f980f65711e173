/**
 * The copy itself (`herald copy-to-postgres`): every table of a SQLite database into an empty
 * PostgreSQL one, in one PostgreSQL transaction, so a copy that fails anywhere leaves the target
 * as empty as it found it. Rows are read one at a time from a SQLite read transaction (a consistent
 * snapshot) and inserted in batches bounded in rows and bytes: an event may be 1 MiB, and a table
 * is never held whole.
 */
import type { DatabaseSync } from 'node:sqlite';
import type pg from 'pg';
import { counted } from '../../domain/counted.ts';
import { APPLICATION_NAME } from '../postgres/pool.ts';
import {
  COPY_ORDER,
  isClaimed,
  planCopy,
  rowBytes,
  type TablePlan,
  type TargetColumn,
  targetValues,
} from './copy-plan.ts';

/** Rows per INSERT at most (fewer for wide rows: BATCH_BYTES, and PostgreSQL's 65,535 parameters). */
export const BATCH_ROWS = 500;
/** Characters of values per INSERT at most: a batch of 1 MiB events holds a few, not 500. */
export const BATCH_BYTES = 4 * 1024 * 1024;
/** lock_not_available: LOCK TABLE waited past lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';
/** How often a table being copied reports its rows so far. */
export const PROGRESS_EVERY_MS = 10_000;
/** How long the check before the commit waits for this command's migration connections to end. */
const OWN_SESSIONS_GONE_MS = 5_000;
/** How long the copy waits for the target's tables (a process using them) before giving up. */
const LOCK_WAIT = '10s';

export interface TableCount {
  table: string;
  rows: number;
}

export interface CopyResult {
  /** Rows per table, in copy order, each verified: SQLite's count = rows read = PostgreSQL's count. */
  tables: TableCount[];
  /** Deliveries that were claimed in SQLite, made due and unclaimed (copy-plan.ts deliveryRow). */
  claimsReset: number;
  /** Why the ANALYZE after the commit failed (the copy is committed all the same), or null. */
  analyzeFailed: string | null;
}

/** The target already holds Herald data: the copy never merges into it. */
export class TargetNotEmptyError extends Error {
  readonly held: TableCount[];
  /** `tables`: Herald's tables the target has, for the DROP that starts over in it. */
  constructor(held: TableCount[], tables: readonly string[]) {
    // schema_migrations goes with them: kept, it says every migration is applied to tables that
    // are gone, and the next copy would find no tables to copy into.
    const drop = `DROP TABLE ${[...tables, 'schema_migrations'].join(', ')}`;
    super(
      `the PostgreSQL database is not empty: it holds rows in ${held.map((h) => `${h.table} (${h.rows})`).join(', ')}; copy into a new, empty database (createdb), or, to start over in this one, drop its tables, schema_migrations with them (${drop}) (nothing was copied)`,
    );
    this.name = 'TargetNotEmptyError';
    this.held = held;
  }
}

/** The tables of a SQLite database and their columns (its own tables only). */
export function sqliteColumns(db: DatabaseSync): Map<string, string[]> {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  return new Map(
    tables.map(({ name }) => [
      name,
      (db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(name) as { name: string }[]).map(
        (c) => c.name,
      ),
    ]),
  );
}

/** The tables of the connection's schema and their columns with their types. */
export async function postgresColumns(client: pg.ClientBase): Promise<Map<string, TargetColumn[]>> {
  const { rows } = await client.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
     ORDER BY c.table_name, c.ordinal_position`,
  );
  const tables = new Map<string, TargetColumn[]>();
  for (const r of rows) {
    const columns = tables.get(r.table_name) ?? [];
    columns.push({ name: r.column_name, type: r.data_type });
    tables.set(r.table_name, columns);
  }
  return tables;
}

/** The tables of `tables` that hold rows, with how many. */
async function heldRows(client: pg.ClientBase, tables: readonly string[]): Promise<TableCount[]> {
  const counts = await countPostgres(client, tables);
  return counts.filter((c) => c.rows > 0);
}

async function countPostgres(client: pg.ClientBase, tables: readonly string[]): Promise<TableCount[]> {
  if (tables.length === 0) return [];
  const { rows } = await client.query<Record<string, string>>(
    `SELECT ${tables.map((t) => `(SELECT count(*) FROM ${quote(t)}) AS ${quote(t)}`).join(', ')}`,
  );
  return tables.map((table) => ({ table, rows: Number(rows[0]![table]) }));
}

/** The target's schema holds tables of another application: the copy puts nothing beside them. */
export class TargetNotHeraldsError extends Error {
  constructor(tables: TableCount[]) {
    super(
      `the PostgreSQL database holds tables that are not Herald's: ${tables.map((t) => `${t.table} (${counted(t.rows, 'rows')})`).join(', ')}; copy into a new, empty database (createdb) (nothing was copied)`,
    );
    this.name = 'TargetNotHeraldsError';
  }
}

/**
 * Refuses a target that holds rows (TargetNotEmptyError) or another application's tables, empty
 * or not (TargetNotHeraldsError), before the copy migrates it: a URL that names the wrong database
 * gets nothing created in it, and the copy (planCopy) never meets a table it does not know. Without
 * locking: a first check before the copy, which checks again under its locks.
 */
export async function refuseNonEmptyTarget(client: pg.ClientBase): Promise<void> {
  const columns = await postgresColumns(client);
  const present = [...columns.keys()];
  const herald = new Set<string>([...COPY_ORDER, 'schema_migrations']);
  // Another tool records its migrations in a table of the same name (golang-migrate's version and
  // dirty): it is that tool's, and Herald's migration would fail on it (column "name" does not exist).
  const migrationColumns = columns
    .get('schema_migrations')
    ?.map((c) => c.name)
    .join(',');
  const foreign = present.filter(
    (t) => !herald.has(t) || (t === 'schema_migrations' && migrationColumns !== 'name,applied_at'),
  );
  if (foreign.length > 0) throw new TargetNotHeraldsError(await countPostgres(client, foreign));
  // Herald's tables in copy order (projects before their events).
  const tables = COPY_ORDER.filter((t) => present.includes(t));
  const held = await heldRows(client, tables);
  if (held.length > 0) throw new TargetNotEmptyError(held, tables);
  // Every migration creates projects first (0001) and none drops it: recorded migrations without
  // it are what a DROP of the tables alone leaves, which no migration would create again.
  if (present.includes('schema_migrations') && !present.includes('projects')) {
    const [migrations] = await countPostgres(client, ['schema_migrations']);
    if (migrations!.rows > 0) throw new TargetHalfDroppedError(migrations!.rows);
  }
}

/** Herald's tables were dropped from the target, its schema_migrations not: nothing to copy into. */
export class TargetHalfDroppedError extends Error {
  constructor(migrations: number) {
    super(
      `the PostgreSQL database holds Herald's schema_migrations (${migrations} migrations) without its tables (dropped?): drop schema_migrations too (DROP TABLE schema_migrations), so the copy creates them again, or copy into a new, empty database (nothing was copied)`,
    );
    this.name = 'TargetHalfDroppedError';
  }
}

/**
 * A Herald process is connected to the target (application_name, pool.ts): a `herald serve`
 * started before the copy did its start-time work (the encryption key check, closing what endpoint
 * deletes left, sealing plaintext secrets) on an empty database, and would not do it again.
 */
export class TargetInUseError extends Error {
  constructor(sessions: { pid: number; client_addr: string | null }[]) {
    const who = sessions.map((s) => `pid ${s.pid}${s.client_addr ? ` from ${s.client_addr}` : ''}`);
    super(
      `a Herald process is connected to the PostgreSQL database (${who.join(', ')}): stop it, copy, then start herald serve on PostgreSQL (nothing was copied)`,
    );
    this.name = 'TargetInUseError';
  }
}

/**
 * Refuses a target another Herald process is connected to (TargetInUseError), after waiting up to
 * `waitMs` for them to go: this command's own migration connections end as it goes on. Herald's
 * connections are named 'herald', or what an application_name in their URL says: a serve given the
 * same URL as `--to` has the name this connection has (a serve under another name is not seen).
 */
export async function refuseServedTarget(client: pg.ClientBase, waitMs = 0): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { rows } = await client.query<{ pid: number; client_addr: string | null }>(
      `SELECT pid, host(client_addr) AS client_addr FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()
         AND application_name IN ($1, current_setting('application_name')) ORDER BY pid`,
      [APPLICATION_NAME],
    );
    if (rows.length === 0) return;
    if (Date.now() >= deadline) throw new TargetInUseError(rows);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Copies every table of `db` (migrated to the current schema, not served) into the database of
 * `client` (migrated, empty), in one transaction: the target's tables are locked against writers
 * first, found empty again under the lock, filled, and their counts checked against the source's
 * before the commit. `onTable` hears of each table as it is done, `onProgress` of a long one's rows
 * so far every PROGRESS_EVERY_MS (progress; nothing is committed before the end). Then ANALYZE, so
 * the planner knows the tables' sizes before the first `herald serve` queries them.
 */
export async function copyIntoPostgres(
  db: DatabaseSync,
  client: pg.ClientBase,
  options: {
    now: number;
    onTable?: (count: TableCount, ms: number) => void;
    onProgress?: (count: TableCount) => void;
  },
): Promise<CopyResult> {
  const plans = planCopy(sqliteColumns(db), await postgresColumns(client));
  const tables = plans.map((p) => p.table);
  await client.query('BEGIN');
  db.exec('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`);
    // EXCLUSIVE: reads go on, nothing else writes (a migration or a writer waits for the commit;
    // a `herald serve` connected meanwhile is refused before it: refuseServedTarget).
    await client
      .query(`LOCK TABLE ${tables.map(quote).join(', ')} IN EXCLUSIVE MODE`)
      .catch((error: unknown) => {
        if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
        throw new Error(
          `another session kept Herald's tables in the PostgreSQL database locked for ${LOCK_WAIT} (a herald serve or a migration running on it?): stop what uses them and copy again (nothing was copied)`,
          { cause: error },
        );
      });
    const held = await heldRows(client, tables);
    if (held.length > 0) throw new TargetNotEmptyError(held, tables);
    let claimsReset = 0;
    const copied: TableCount[] = [];
    for (const plan of plans) {
      const started = Date.now();
      const result = await copyTable(db, client, plan, options.now, options.onProgress);
      claimsReset += result.claimsReset;
      copied.push({ table: plan.table, rows: result.rows });
      options.onTable?.({ table: plan.table, rows: result.rows }, Date.now() - started);
    }
    verifyCounts(copied, countSqlite(db, tables), await countPostgres(client, tables));
    // Again at the end: a serve started meanwhile read the tables as they were before the copy.
    await refuseServedTarget(client, OWN_SESSIONS_GONE_MS);
    await client.query('COMMIT');
    return { tables: copied, claimsReset, analyzeFailed: await analyze(client, tables) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    db.exec('COMMIT'); // the read transaction: nothing was written
  }
}

/**
 * Statistics at once rather than when autovacuum gets to the tables: a fresh table of a million
 * deliveries is planned as empty until then. ANALYZE samples: seconds, not a scan. After the
 * commit, so its failure (the connection lost) is said, not thrown: thrown, it read as a failed
 * copy of a database that holds the copy, and a second run was refused as a non-empty target.
 */
async function analyze(client: pg.ClientBase, tables: readonly string[]): Promise<string | null> {
  try {
    await client.query(`ANALYZE ${tables.map(quote).join(', ')}`);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

async function copyTable(
  db: DatabaseSync,
  client: pg.ClientBase,
  plan: TablePlan,
  now: number,
  onProgress?: (count: TableCount) => void,
): Promise<{ rows: number; claimsReset: number }> {
  const maxRows = Math.min(BATCH_ROWS, Math.floor(65_535 / plan.target.length));
  // rowid order: the order rows were written, and a walk of the table's b-tree without a sort.
  const read = db.prepare(
    `SELECT ${plan.source.map(quote).join(', ')} FROM ${quote(plan.table)} ORDER BY rowid`,
  );
  let batch: unknown[][] = [];
  let bytes = 0;
  let rows = 0;
  let claimsReset = 0;
  let reportAt = Date.now() + PROGRESS_EVERY_MS;
  const flush = async () => {
    if (batch.length === 0) return;
    await insertBatch(client, plan, batch);
    batch = [];
    bytes = 0;
    if (onProgress && Date.now() >= reportAt) {
      reportAt = Date.now() + PROGRESS_EVERY_MS;
      onProgress({ table: plan.table, rows });
    }
  };
  for (const row of read.iterate() as Iterable<Record<string, unknown>>) {
    if (plan.table === 'deliveries' && isClaimed(row)) claimsReset += 1;
    const values = targetValues(plan, row, now);
    const size = rowBytes(values);
    if (batch.length > 0 && (batch.length >= maxRows || bytes + size > BATCH_BYTES)) await flush();
    batch.push(values);
    bytes += size;
    rows += 1;
  }
  await flush();
  return { rows, claimsReset };
}

async function insertBatch(client: pg.ClientBase, plan: TablePlan, batch: unknown[][]): Promise<void> {
  const width = plan.target.length;
  const tuples = batch.map(
    (_, r) => `(${plan.target.map((c, i) => `$${r * width + i + 1}::${c.type}`).join(', ')})`,
  );
  const sql = `INSERT INTO ${quote(plan.table)} (${plan.target.map((c) => quote(c.name)).join(', ')}) VALUES ${tuples.join(', ')}`;
  try {
    await client.query(sql, batch.flat());
  } catch (error) {
    // Which rows: a value PostgreSQL refuses (text with a NUL byte, JSON it cannot parse).
    const first = String(batch[0]![plan.target.findIndex((c) => c.name === 'id')] ?? '');
    throw new Error(
      `copying ${plan.table} (a batch of ${counted(batch.length, 'rows')} from ${first || 'its start'}): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function countSqlite(db: DatabaseSync, tables: readonly string[]): TableCount[] {
  return tables.map((table) => ({
    table,
    rows: Number((db.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n),
  }));
}

/** Throws unless every table has as many rows in the source, as read, and in the target. */
export function verifyCounts(read: TableCount[], source: TableCount[], target: TableCount[]): void {
  const wrong = COPY_ORDER.flatMap((table) => {
    const [r, s, t] = [read, source, target].map((list) => list.find((c) => c.table === table)?.rows);
    return r === s && s === t ? [] : [`${table}: ${s} in SQLite, ${r} read, ${t} in PostgreSQL`];
  });
  if (wrong.length > 0)
    throw new Error(`the row counts do not match (nothing was copied): ${wrong.join('; ')}`);
}

/** A name as an SQL identifier (the names here are Herald's own tables and columns). */
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
