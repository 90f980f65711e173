/**
 * Migrations under a PostgreSQL role that may not change the schema. A role kept to reading and
 * writing rows starts on a database another role migrated (`herald migrate` as the tables' owner,
 * serve as the application's role); on a database it would have to migrate it fails naming the
 * migration and what to do; and a read-only server still refuses the migrations, though they no
 * longer write to find out.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { migrationFiles } from '../../src/store/postgres/migrate.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';

const server = await withPostgres();
after(() => server.stop());

/** Runs `sql` on `url` as the server's superuser. */
async function asOwner(url: string, ...sql: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of sql) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A new login role (roles are the server's, not the database's: a unique name), and `url` as it. */
async function newRole(url: string): Promise<{ name: string; url: string }> {
  const name = `herald_app_${randomBytes(4).toString('hex')}`;
  await asOwner(url, `CREATE ROLE ${name} LOGIN`);
  const asRole = new URL(url);
  asRole.username = name;
  return { name, url: asRole.href };
}

test('a role that may only read and write rows starts on a schema another role migrated', async () => {
  const url = await server.createDatabase();
  const owner = new PostgresStore(url);
  await owner.migrate();
  await owner.close();
  const role = await newRole(url);
  await asOwner(
    url,
    'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role.name}`,
  );
  const store = new PostgresStore(role.url);
  try {
    // Refused before with 42501 "permission denied for schema public" (CREATE TABLE IF NOT EXISTS).
    assert.deepEqual(await store.migrate(), { applied: [], unknown: [] });
  } finally {
    await store.close();
  }
});

test('a role that may not create tables, on a database to migrate: the error names the migration and what to do, its code kept', async () => {
  const url = await server.createDatabase();
  const role = await newRole(url);
  await asOwner(url, 'REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  // schema_migrations there (and readable) as another role made it, the rest to do.
  await asOwner(
    url,
    'CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
    `GRANT SELECT, INSERT ON schema_migrations TO ${role.name}`,
  );
  const store = new PostgresStore(role.url);
  try {
    await assert.rejects(store.migrate(), (error: Error & { code?: string; severity?: string }) => {
      assert.equal(error.code, '42501');
      assert.equal(error.severity, 'ERROR');
      assert.equal(
        error.message,
        `permission denied for schema public (migration ${migrationFiles()[0]}): this role may not change Herald's tables; run \`herald migrate\` once as a role that may (the tables' owner, with CREATE on the schema), then start with this one`,
      );
      return true;
    });
  } finally {
    await store.close();
  }
});

test('the same role on an empty database (no schema_migrations yet): the error names the first migration and what to do', async () => {
  const url = await server.createDatabase();
  const role = await newRole(url);
  await asOwner(url, 'REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  const store = new PostgresStore(role.url);
  try {
    // Before: the bare "permission denied for schema public" of creating schema_migrations, which
    // said neither which migration nor that `herald migrate` must run once as the tables' owner.
    await assert.rejects(store.migrate(), (error: Error & { code?: string; severity?: string }) => {
      assert.equal(error.code, '42501');
      assert.equal(error.severity, 'ERROR');
      assert.equal(
        error.message,
        `permission denied for schema public (migration ${migrationFiles()[0]}): this role may not change Herald's tables; run \`herald migrate\` once as a role that may (the tables' owner, with CREATE on the schema), then start with this one`,
      );
      return true;
    });
  } finally {
    await store.close();
  }
});

test('a read-only server (default_transaction_read_only, as a standby) refuses the migrations of an up-to-date schema as a write: 25006', async () => {
  const url = await server.createDatabase();
  const owner = new PostgresStore(url);
  await owner.migrate();
  await owner.close();
  const name = new URL(url).pathname.slice(1);
  await asOwner(url, `ALTER DATABASE "${name}" SET default_transaction_read_only = on`);
  const store = new PostgresStore(url);
  try {
    await assert.rejects(store.migrate(), (error: Error & { code?: string; severity?: string }) => {
      assert.equal(error.code, '25006');
      assert.equal(error.severity, 'ERROR');
      return true;
    });
  } finally {
    await store.close();
  }
});
