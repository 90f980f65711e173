import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { foreignMigrationsTable } from '../foreign-migrations.ts';
import type { MigrationOptions, MigrationResult } from '../store.ts';
import { explainFullFileSystem } from './open-database.ts';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');

/** The numbered migration files, in the order they apply (0001_…, 0002_…). */
export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort();
}

/**
 * Applies the migrations not yet recorded in schema_migrations, each in its own transaction, and
 * returns the names applied and the recorded names this version does not have. Idempotent, and
 * safe when another process migrates at the same time: BEGIN IMMEDIATE takes the write lock
 * (busy_timeout waits for it) and the check is repeated under it.
 */
export function migrateSqlite(
  db: DatabaseSync,
  options: Pick<MigrationOptions, 'onApplying'> = {},
): MigrationResult {
  try {
    return applyMigrations(db, options);
  } catch (error) {
    // A first start on a full disk fails here as often as at open (open-database.ts): say so.
    throw explainFullFileSystem(db.location() ?? '', error);
  }
}

function applyMigrations(db: DatabaseSync, options: Pick<MigrationOptions, 'onApplying'>): MigrationResult {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  const columns = db.prepare('PRAGMA table_info(schema_migrations)').all() as { name: string }[];
  const foreign = foreignMigrationsTable(columns.map((c) => c.name));
  if (foreign) throw foreign;
  const isApplied = db.prepare('SELECT 1 AS done FROM schema_migrations WHERE name = ?');
  const record = db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)');
  const applied: string[] = [];
  for (const file of migrationFiles()) {
    if (isApplied.get(file)) continue;
    options.onApplying?.(file);
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      throw withMigrationNamed(error, file);
    }
    try {
      if (!isApplied.get(file)) {
        db.exec(readFileSync(join(MIGRATIONS_DIR, file), 'utf8'));
        record.run(file, Date.now());
        applied.push(file);
      }
      db.exec('COMMIT');
    } catch (error) {
      // A COMMIT that fails writing (a full disk, an I/O error) has rolled the transaction back
      // already: a ROLLBACK then throws "cannot rollback - no transaction is active", in place of
      // the error that says what happened.
      if (db.isTransaction) db.exec('ROLLBACK');
      throw withMigrationNamed(error, file);
    }
  }
  const known = new Set(migrationFiles());
  const recorded = db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[];
  return { applied, unknown: recorded.map((r) => r.name).filter((name) => !known.has(name)) };
}

/** This version's migration files, read once (unknownMigrationsSqlite runs every 30 s). */
let knownFiles: Set<string> | undefined;

/**
 * The recorded migrations this version does not know (a newer Herald applied them), by name: what
 * migrateSqlite returns as `unknown`, read without migrating (Store.unknownMigrations).
 */
export function unknownMigrationsSqlite(db: DatabaseSync): string[] {
  knownFiles ??= new Set(migrationFiles());
  const known = knownFiles;
  const recorded = db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[];
  return recorded.map((r) => r.name).filter((name) => !known.has(name));
}

/**
 * A migration's failure, naming the migration as PostgreSQL's do (postgres/migrate.ts), with the
 * SQLite codes callers classify by kept (open-store.ts, explainFullFileSystem).
 */
function withMigrationNamed(error: unknown, file: string): unknown {
  if (!(error instanceof Error)) return error;
  const { code, errcode, errstr } = error as { code?: unknown; errcode?: unknown; errstr?: unknown };
  return Object.assign(new Error(`${error.message} (migration ${file})`, { cause: error }), {
    code,
    errcode,
    errstr,
  });
}
