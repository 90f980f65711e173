import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
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
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const done = new Set(
        (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name),
      );
      const applied: string[] = [];
      const files = migrationFiles();
      for (const file of files) {
        if (done.has(file)) continue;
        Object.assign(step, { file, since: Date.now() });
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
          throw error;
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
