import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { foreignMigrationsTable } from '../foreign-migrations.ts';
import type { MigrationOptions, MigrationResult } from '../store.ts';
import { type MigrationStep, watchMigrationWaits } from './migration-waits.ts';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
/** Advisory lock key of Herald's migrations (any fixed 64-bit number; "herald" in ASCII). */
export const MIGRATION_LOCK_KEY = '114600851534436';
/** How often a migration that waits on a lock says what it waits for (MigrationOptions.onWait). */
export const MIGRATION_WAIT_REPORT_MS = 10_000;

/** The numbered migration files, in the order they apply (0001_…, 0002_…). */
export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort();
}

/**
 * Applies the migrations not yet recorded in schema_migrations, each in its own transaction, and
 * returns the names applied and the recorded names this version does not have. Several processes
 * may start at once: a session advisory lock makes them take turns, and each re-reads
 * schema_migrations once it holds the lock. `pool` is one without bounds (PostgresStore.migrate):
 * a migration may build an index on a big table, and the lock may be held by another process's.
 * With `onWait`, it also has a second connection, to say what a wait on a lock is for.
 */
export async function migratePostgres(pool: Pool, options: MigrationOptions = {}): Promise<MigrationResult> {
  const client = await pool.connect();
  let broken = false;
  const step: MigrationStep = { file: null, since: Date.now() };
  let watch: { stop(): Promise<void> } | null = null;
  try {
    if (options.onWait) {
      const { pid } = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
      const every = options.waitReportMs ?? MIGRATION_WAIT_REPORT_MS;
      watch = watchMigrationWaits(pool, pid, step, options.onWait, every);
    }
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      // Only when missing: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the
      // table is there, and a role kept to reading and writing rows (its schema migrated by
      // another, with `herald migrate`) must still be able to start.
      const { rows } = await client.query<{ found: string | null; read_only: string; columns: string[] }>(
        `SELECT to_regclass('schema_migrations')::text AS found, current_setting('transaction_read_only') AS read_only,
          ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass('schema_migrations')
            AND attnum > 0 AND NOT attisdropped ORDER BY attnum) AS columns`,
      );
      // That CREATE was also the write that refused a start on a standby: refused here as PostgreSQL would.
      if (rows[0]?.read_only === 'on') throw readOnlyRefusal();
      // Another application's database, whose migrations table has Herald's name (foreign-migrations.ts).
      const foreign = rows[0]?.found === null ? null : foreignMigrationsTable(rows[0]?.columns ?? []);
      if (foreign) throw foreign;
      if (rows[0]?.found === null) {
        // Part of applying the first migration: a role that may not create it is told what to do.
        await client
          .query(
            'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
          )
          .catch((error: unknown) => {
            throw withMigrationNamed(error, migrationFiles()[0] ?? 'schema_migrations');
          });
      }
      const done = new Set(
        (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name),
      );
      const applied: string[] = [];
      const files = migrationFiles();
      for (const file of files) {
        if (done.has(file)) continue;
        Object.assign(step, { file, since: Date.now() });
        options.onApplying?.(file);
        await client.query('BEGIN');
        try {
          await client.query(readFileSync(join(MIGRATIONS_DIR, file), 'utf8'));
          await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [
            file,
            Date.now(),
          ]);
          await client.query('COMMIT');
          applied.push(file);
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw withMigrationNamed(error, file);
        }
      }
      const known = new Set(files);
      return { applied, unknown: [...done].filter((name) => !known.has(name)).sort() };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => {
        // A lost connection releases the lock by itself; do not hand this client back to the pool.
        broken = true;
      });
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    await watch?.stop();
    client.release(broken);
  }
}

/**
 * The recorded migrations this version does not know (a newer Herald applied them), by name: what
 * migratePostgres returns as `unknown`, read without migrating (Store.unknownMigrations). One
 * query, answered from schema_migrations' primary key; none of its rows normally.
 */
export async function unknownMigrationsPostgres(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    'SELECT name FROM schema_migrations WHERE NOT (name = ANY($1::text[])) ORDER BY name',
    [knownFiles()],
  );
  return rows.map((r) => r.name);
}

/** This version's migration files, read once (unknownMigrationsPostgres runs every 30 s). */
let knownNames: string[] | undefined;
function knownFiles(): string[] {
  knownNames ??= migrationFiles();
  return knownNames;
}

/** insufficient_privilege: the role may not create or change the tables (not their owner). */
const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * A migration's failure, naming the migration (and, for a role that may not change the schema,
 * what to do), with the PostgreSQL error's code and severity kept for explainDatabaseError.
 */
function withMigrationNamed(error: unknown, file: string): unknown {
  if (!(error instanceof Error)) return error;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  const hint =
    code === INSUFFICIENT_PRIVILEGE
      ? ": this role may not change Herald's tables; run `herald migrate` once as a role that may (the tables' owner, with CREATE on the schema), then start with this one"
      : '';
  return Object.assign(new Error(`${error.message} (migration ${file})${hint}`, { cause: error }), {
    code,
    severity,
  });
}

/** A standby's (or default_transaction_read_only's) refusal of the migrations, coded as PostgreSQL codes a write it refuses. */
function readOnlyRefusal(): Error {
  return Object.assign(new Error('cannot migrate in a read-only transaction (transaction_read_only is on)'), {
    code: '25006',
    severity: 'ERROR',
  });
}
