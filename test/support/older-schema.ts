/**
 * Databases at an older schema, as an earlier version of Herald left them: the first `count` of
 * this version's migration files applied and recorded in schema_migrations, the rest not, and one
 * project with one endpoint whose secret is stored as `storedSecret` (sealed or plaintext), written
 * with the columns of the first migration (which every later one keeps). For tests of what a start
 * or `herald migrate` does to a restored backup.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { migrationFiles as postgresMigrations } from '../../src/store/postgres/migrate.ts';
import { migrationFiles as sqliteMigrations } from '../../src/store/sqlite/migrate.ts';

const SQLITE_DIR = join(import.meta.dirname, '../../src/store/sqlite/migrations');
const POSTGRES_DIR = join(import.meta.dirname, '../../src/store/postgres/migrations');
const T0 = Date.UTC(2026, 0, 1);

/** The ids of the project and endpoint an older database holds. */
export interface OlderRows {
  projectId: string;
  endpointId: string;
}

const ROWS: OlderRows = { projectId: 'proj_older', endpointId: 'ep_older' };

/** A SQLite file at `file` (created) with the first `count` migrations and one endpoint secret. */
export function olderSqliteDatabase(file: string, count: number, storedSecret: string): OlderRows {
  const db = new DatabaseSync(file);
  try {
    db.exec('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const name of sqliteMigrations().slice(0, count)) {
      db.exec('BEGIN');
      db.exec(readFileSync(join(SQLITE_DIR, name), 'utf8'));
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, T0);
      db.exec('COMMIT');
    }
    db.prepare(
      'INSERT INTO projects (id, project_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ).run(ROWS.projectId, ROWS.projectId, 'older', T0, T0);
    db.prepare(
      `INSERT INTO endpoints (id, project_id, url, timeout_ms, signature, created_at, updated_at)
       VALUES (?, ?, 'https://receiver.example/hook', 15000, '{"scheme":"standard"}', ?, ?)`,
    ).run(ROWS.endpointId, ROWS.projectId, T0, T0);
    db.prepare(
      'INSERT INTO endpoint_secrets (id, project_id, endpoint_id, secret, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run('sec_older', ROWS.projectId, ROWS.endpointId, storedSecret, T0);
  } finally {
    db.close();
  }
  return ROWS;
}

/** The same on the empty PostgreSQL database at `url`. */
export async function olderPostgresDatabase(
  url: string,
  count: number,
  storedSecret: string,
): Promise<OlderRows> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
    for (const name of postgresMigrations().slice(0, count)) {
      await client.query('BEGIN');
      await client.query(readFileSync(join(POSTGRES_DIR, name), 'utf8'));
      await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [name, T0]);
      await client.query('COMMIT');
    }
    await client.query(
      'INSERT INTO projects (id, project_id, name, created_at, updated_at) VALUES ($1, $1, $2, $3, $3)',
      [ROWS.projectId, 'older', T0],
    );
    await client.query(
      `INSERT INTO endpoints (project_id, id, url, event_types, headers, timeout_ms, signature, created_at, updated_at)
       VALUES ($1, $2, 'https://receiver.example/hook', '[]', '{}', 15000, '{"scheme":"standard"}', $3, $3)`,
      [ROWS.projectId, ROWS.endpointId, T0],
    );
    await client.query(
      'INSERT INTO endpoint_secrets (project_id, id, endpoint_id, secret, created_at) VALUES ($1, $2, $3, $4, $5)',
      [ROWS.projectId, 'sec_older', ROWS.endpointId, storedSecret, T0],
    );
  } finally {
    await client.end();
  }
  return ROWS;
}

/** The migrations a SQLite file records, in order. */
export function sqliteRecorded(file: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare('SELECT name FROM schema_migrations ORDER BY name').all() as { name: string }[]).map(
      (r) => r.name,
    );
  } finally {
    db.close();
  }
}

/** The migrations a PostgreSQL database records, in order. */
export async function postgresRecorded(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}
