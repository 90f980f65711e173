/**
 * A PostgreSQL migration that waits on a lock says what it waits for and who holds it, while it
 * waits (migration-waits.ts): the migration lock held by another session, and a table's lock held
 * by a transaction left open (as a psql session idle in transaction holds it). Before, `herald
 * migrate` and serve's start waited in silence for as long as the holder lasted.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { MIGRATION_LOCK_KEY, migrationFiles } from '../../src/store/postgres/migrate.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';

const server = await withPostgres();
after(() => server.stop());

/** A session of its own, named as an operator's tool would be, and its backend pid. */
async function session(url: string, name: string): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: url, application_name: name });
  await client.connect();
  const { pid } = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
  return { client, pid };
}

/** Resolves once `lines` has one matching `pattern` (a few seconds at most). */
async function lineMatching(lines: string[], pattern: RegExp): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = lines.find((l) => pattern.test(l));
    if (line) return line;
    await sleep(50);
  }
  assert.fail(`no line matched ${pattern}: ${JSON.stringify(lines)}`);
}

test('a migration waiting for the migration lock says which session holds it, then applies once it is free', async () => {
  const url = await server.createDatabase();
  const holder = await session(url, 'other-migrator');
  const store = new PostgresStore(url);
  try {
    await holder.client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    const lines: string[] = [];
    const migrated = store.migrate({ onWait: (line) => lines.push(line), waitReportMs: 100 });
    const line = await lineMatching(lines, /migration lock/);
    assert.match(
      line,
      new RegExp(
        `^waiting \\d+ s for the migration lock, which another process migrating this database holds: pid ${holder.pid} \\(application other-migrator, from 127\\.0\\.0\\.1, idle\\)`,
      ),
    );
    await holder.client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    assert.deepEqual((await migrated).applied, migrationFiles());
  } finally {
    await holder.client.end();
    await store.close();
  }
});

test('a migration waiting for a table lock an open transaction holds names the migration, the table and the session, then applies once it ends', async () => {
  const url = await server.createDatabase();
  const store = new PostgresStore(url);
  const holder = await session(url, 'nightly-report');
  try {
    await store.migrate();
    // One migration not applied yet: it builds an index on deliveries, which waits for every
    // transaction that wrote to the table.
    const last = '0015_failed_deliveries_in_creation_order.sql';
    assert.ok(migrationFiles().includes(last));
    await holder.client.query('DROP INDEX deliveries_failed');
    await holder.client.query('DELETE FROM schema_migrations WHERE name = $1', [last]);
    await holder.client.query('BEGIN');
    await holder.client.query('LOCK TABLE deliveries IN ROW EXCLUSIVE MODE'); // what a write takes
    const lines: string[] = [];
    const migrated = store.migrate({ onWait: (line) => lines.push(line), waitReportMs: 100 });
    const line = await lineMatching(lines, /table deliveries/);
    assert.match(
      line,
      new RegExp(
        `^migration ${last} has waited \\d+ s for a lock on table deliveries, held by pid ${holder.pid} \\(application nightly-report, from 127\\.0\\.0\\.1, idle in transaction, transaction open for \\d+ s\\); it goes on once that transaction ends`,
      ),
    );
    await holder.client.query('COMMIT');
    assert.deepEqual((await migrated).applied, [last]);
  } finally {
    await holder.client.end();
    await store.close();
  }
});

test('a migration that waits for nothing says nothing', async () => {
  const store = new PostgresStore(await server.createDatabase());
  try {
    const lines: string[] = [];
    await store.migrate({ onWait: (line) => lines.push(line), waitReportMs: 20 });
    assert.deepEqual(lines, []);
  } finally {
    await store.close();
  }
});
