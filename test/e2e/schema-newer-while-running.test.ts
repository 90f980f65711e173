/**
 * An upgrade on PostgreSQL with several processes: a newer Herald migrates the database (`herald
 * migrate`, or a start that migrates) while processes of this version go on serving it. A start on
 * such a schema is refused (HERALD_ALLOW_NEWER_SCHEMA); a running process re-reads the migrations
 * every 30 s (one read; 50 ms here) and says at once, once, that it now runs on a schema it does
 * not know: an error line naming the migrations, and
 * herald_schema_unknown_migrations. It keeps serving (the rolling upgrade of docs/deployment.md
 * relies on old processes serving beside the new schema). A newer migration is played by a row
 * `9999_future.sql` written into schema_migrations, as the newer version's runner records it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald } from '../../src/main.ts';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';

const ADMIN = 'schema-newer-admin-token-0123456789abc';
/** Short, so that the test sees several checks; production reads every 30 s. */
const INTERVAL_MS = 50;

let server: TestPostgres;
let dir: string;
before(async () => {
  server = await withPostgres();
  dir = mkdtempSync(join(tmpdir(), 'herald-schema-newer-'));
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Line {
  level: number;
  msg: string;
  unknownMigrations?: string[];
}

const unknownGauge = async (url: string): Promise<number | undefined> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('herald_schema_unknown_migrations '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

/** Runs a process on `databaseUrl`, records a newer migration with `record`, and checks what it says. */
async function newerMigrationWhileRunning(
  databaseUrl: string,
  record: (name: string) => Promise<void>,
  role: 'api' | 'worker',
): Promise<void> {
  const lines: Line[] = [];
  const destination = { write: (line: string) => lines.push(JSON.parse(line)) };
  const config = loadConfig({
    env: {
      HERALD_DATABASE_URL: databaseUrl,
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_DATA_DIR: mkdtempSync(join(dir, 'data-')),
      HERALD_PORT: '0',
      HERALD_HOST: '127.0.0.1',
      HERALD_ROLE: role,
    },
  });
  const running = await startHerald(config, {
    logger: createLogger({ level: 'info', destination }),
    schemaCheckIntervalMs: INTERVAL_MS,
  });
  const said = () => lines.filter((l) => l.msg.startsWith('schema: the database now has'));
  const waitForLines = async (count: number) => {
    for (let i = 0; i < 200 && said().length < count; i++) await sleep(INTERVAL_MS);
  };
  try {
    assert.equal(await unknownGauge(running.url), 0, 'a schema this version knows: 0');
    await record('9999_future.sql');
    await waitForLines(1);
    assert.equal(said().length, 1, JSON.stringify(lines).slice(0, 3000));
    const first = said()[0]!;
    assert.equal(first.level, 50, 'an error line');
    assert.deepEqual(first.unknownMigrations, ['9999_future.sql']);
    assert.match(
      first.msg,
      /^schema: the database now has 1 migration\(s\) this version of Herald does not know \(9999_future\.sql\): a newer version migrated it while this process runs/,
    );
    assert.match(first.msg, /HERALD_ALLOW_NEWER_SCHEMA/);
    assert.equal(await unknownGauge(running.url), 1);
    // Said once: many more checks go by without another line.
    await sleep(INTERVAL_MS * 10);
    assert.equal(said().length, 1, 'one line, not one per check');
    // It goes on serving: the rolling upgrade relies on it.
    assert.equal((await fetch(`${running.url}/readyz`)).status, 200);
    // A further migration is news again, and names it.
    await record('9999_later.sql');
    await waitForLines(2);
    assert.equal(said().length, 2, JSON.stringify(lines).slice(0, 3000));
    assert.deepEqual(said()[1]!.unknownMigrations, ['9999_future.sql', '9999_later.sql']);
    assert.match(said()[1]!.msg, /has 2 migration\(s\) .* \(9999_future\.sql, 9999_later\.sql\)/);
    assert.equal(await unknownGauge(running.url), 2);
  } finally {
    await running.close();
  }
}

test('PostgreSQL: a process running when a newer version migrates its database says so at once, once, and in herald_schema_unknown_migrations', async () => {
  const url = await server.createDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const record = async (name: string) => {
    await client.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [
      name,
      Date.now(),
    ]);
  };
  try {
    for (const role of ['api', 'worker'] as const) {
      await newerMigrationWhileRunning(url, record, role);
      await client.query("DELETE FROM schema_migrations WHERE name LIKE '9999_%'");
    }
  } finally {
    await client.end();
  }
});

test('SQLite: the same for a file migrated under the process (a version from before the serving lock, a hand)', async () => {
  const file = join(dir, 'herald.db');
  const record = async (name: string) => {
    const db = new DatabaseSync(file, { timeout: 5_000 });
    try {
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(name, Date.now());
    } finally {
      db.close();
    }
  };
  await newerMigrationWhileRunning(`sqlite:${file}`, record, 'api');
});
