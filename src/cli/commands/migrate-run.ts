/**
 * What `herald migrate` does: apply the migrations a database lacks and say which. Loaded by
 * migrate.ts only when the command runs.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type ConfigFlags, loadConfig } from '../../config/load-config.ts';
import { newerSchemaError } from '../../config/newer-schema-error.ts';
import { redactDatabaseUrl } from '../../config/redact-database-url.ts';
import { openStore } from '../../store/open-store.ts';
import { migrationFiles as postgresMigrations } from '../../store/postgres/migrate.ts';
import { migrationFiles as sqliteMigrations } from '../../store/sqlite/migrate.ts';
import { explainDatabaseError } from '../../store/store-unavailable.ts';

/** Creates or upgrades the schema of the configured database, printing each migration applied. */
export async function migrate(flags: Pick<ConfigFlags, 'database' | 'dataDir'>): Promise<void> {
  const config = loadConfig({ flags, resolveAdminToken: false });
  const url = config.databaseUrl;
  const before = await appliedMigrations(url).catch((error: unknown) => {
    throw explainDatabaseError(error, url);
  });
  // openStore applies what is missing (under a lock, so other processes may migrate too).
  let unknown: string[] = [];
  const store = await openStore(url, {
    dataDir: config.dataDir,
    encryptionKey: config.encryptionKey,
    onMigrated: (result) => {
      unknown = result.unknown;
    },
  }).catch((error: unknown) => {
    throw explainDatabaseError(error, url);
  });
  await store.close();
  const files = url.startsWith('sqlite:') ? sqliteMigrations() : postgresMigrations();
  const applied = files.filter((file) => !before.has(file));
  for (const file of applied) process.stdout.write(`herald: applied ${file}\n`);
  if (unknown.length > 0) {
    if (!config.allowNewerSchema) throw newerSchemaError(unknown, config);
    process.stderr.write(
      `herald: warning: the database has migrations this version does not know (${unknown.join(', ')}): a newer Herald applied them; downgrades are not supported\n`,
    );
  }
  process.stdout.write(
    applied.length
      ? `herald: schema is up to date (${redactDatabaseUrl(url)}): ${applied.length} migration(s) applied\n`
      : `herald: schema is up to date (${redactDatabaseUrl(url)}): nothing to apply\n`,
  );
}

/** The migrations a database already has; none when it (or its schema_migrations table) does not exist yet. */
async function appliedMigrations(databaseUrl: string): Promise<Set<string>> {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    if (path === ':memory:' || !existsSync(resolve(path))) return new Set();
    const db = new DatabaseSync(resolve(path), { readOnly: true });
    try {
      const table = db.prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
      );
      if (!table.get()) return new Set();
      const rows = db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[];
      return new Set(rows.map((r) => r.name));
    } finally {
      db.close();
    }
  }
  const { default: pg } = await import('pg'); // loaded only for PostgreSQL, as in openStore
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // a connection cut is reported by the query that fails
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
    return new Set(rows.map((r) => r.name));
  } catch (error) {
    if ((error as { code?: unknown }).code === '42P01') return new Set(); // undefined_table
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
