/**
 * Starting against a database: a PostgreSQL deployment with its admin token set needs no writable
 * data directory, a SQLite one that cannot create its data directory says which setting to change,
 * a database that cannot be reached is named as such (password masked), and `herald migrate` says
 * which migrations it applied (when several migrate at once, only the one that applied them).
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald } from '../../src/main.ts';
import {
  MIGRATION_LOCK_KEY,
  migrationFiles as postgresMigrations,
} from '../../src/store/postgres/migrate.ts';
import { migrationFiles as sqliteMigrations } from '../../src/store/sqlite/migrate.ts';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';
import { refusedPort } from '../support/refused-port.ts';
import { runHerald } from './harness.ts';

const ADMIN = 'database-start-admin-token-0123456789';

const herald = (args: string[], env: Record<string, string>, cwd: string) => runHerald(args, { env, cwd });

let server: TestPostgres;
let dir: string;
/**
 * A data directory that cannot be created, for root too (which permissions do not stop): a path
 * under a regular file. A directory with mode 0555 is the same for any other user.
 */
let unwritable: string;
before(async () => {
  server = await withPostgres();
  dir = mkdtempSync(join(tmpdir(), 'herald-db-start-'));
  writeFileSync(join(dir, 'a-file'), '');
  unwritable = join(dir, 'a-file', 'herald-data');
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('starting against a database', () => {
  test('a PostgreSQL worker with HERALD_ADMIN_TOKEN set starts where no data directory can be created, and creates none', async () => {
    const config = loadConfig({
      env: {
        HERALD_DATABASE_URL: await server.createDatabase(),
        HERALD_ADMIN_TOKEN: ADMIN,
        HERALD_DATA_DIR: unwritable,
        HERALD_ROLE: 'worker',
        HERALD_PORT: '0',
        HERALD_HOST: '127.0.0.1',
      },
    });
    const running = await startHerald(config, { logger: createLogger({ level: 'silent' }) });
    try {
      assert.equal((await fetch(`${running.url}/readyz`)).status, 200);
    } finally {
      await running.close({ graceMs: 0 });
    }
    assert.equal(existsSync(unwritable), false);
  });

  test('SQLite where the data directory cannot be created: the error names HERALD_DATA_DIR', async () => {
    const config = loadConfig({
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATA_DIR: unwritable, HERALD_PORT: '0' },
    });
    await assert.rejects(
      startHerald(config, { logger: createLogger({ level: 'silent' }) }),
      (error: Error) => {
        assert.match(
          error.message,
          /^HERALD_DATA_DIR: cannot create the data directory .*a-file\/herald-data/,
        );
        assert.match(error.message, /set HERALD_DATA_DIR \(or --data-dir\) to a writable directory/);
        return true;
      },
    );
  });

  test("a data directory under /proc fails naming HERALD_DATA_DIR (Node's recursive mkdir loops there forever)", {
    timeout: 10_000,
  }, async () => {
    const config = loadConfig({
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATA_DIR: '/proc/herald-test/data', HERALD_PORT: '0' },
    });
    await assert.rejects(
      startHerald(config, { logger: createLogger({ level: 'silent' }) }),
      (error: Error) => {
        assert.match(
          error.message,
          /^HERALD_DATA_DIR: cannot create the data directory \/proc\/herald-test\/data/,
        );
        return true;
      },
    );
  });

  test('serve and migrate with PostgreSQL out of reach say it is the database and its setting, with the password masked', async () => {
    const port = await refusedPort();
    const env = { HERALD_DATABASE_URL: `postgres://herald:s3cret-pw@127.0.0.1:${port}/herald` };
    const expected = `herald: cannot reach the database at postgres://herald:***@127.0.0.1:${port}/herald (HERALD_DATABASE_URL, --database): connect ECONNREFUSED 127.0.0.1:${port}\n`;
    const serve = await herald(
      ['serve', '--role', 'worker', '--port', '0'],
      { ...env, HERALD_ADMIN_TOKEN: ADMIN, HERALD_LOG_LEVEL: 'silent' },
      dir,
    );
    assert.equal(serve.code, 1);
    assert.equal(serve.stderr, expected);
    const migrate = await herald(['migrate'], env, dir);
    assert.equal(migrate.code, 1);
    assert.equal(migrate.stderr, expected);
    assert.ok(!`${serve.stdout}${migrate.stdout}`.includes('s3cret-pw'));
  });

  test('serve logs each migration it applies, and refuses a database with one it does not know (a downgrade) unless HERALD_ALLOW_NEWER_SCHEMA, then warns', async () => {
    const database = `sqlite:${join(dir, 'serve-logs.db')}`;
    const start = async (extra: Record<string, string> = {}) => {
      const lines: { level: number; msg: string; unknownMigrations?: string[] }[] = [];
      const destination = { write: (line: string) => lines.push(JSON.parse(line)) };
      const config = loadConfig({
        env: {
          HERALD_DATABASE_URL: database,
          HERALD_ADMIN_TOKEN: ADMIN,
          HERALD_DATA_DIR: join(dir, 'serve-logs-data'),
          HERALD_PORT: '0',
          HERALD_HOST: '127.0.0.1',
          HERALD_ROLE: 'api',
          ...extra,
        },
      });
      const running = await startHerald(config, { logger: createLogger({ level: 'info', destination }) });
      await running.close();
      return lines;
    };
    const first = await start();
    assert.deepEqual(
      first.filter((l) => l.msg.startsWith('schema: applied')).map((l) => l.msg),
      sqliteMigrations().map((f) => `schema: applied migration ${f}`),
    );
    const db = new DatabaseSync(join(dir, 'serve-logs.db'));
    db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run('9999_future.sql', 1);
    db.close();
    await assert.rejects(start(), (error: Error) => {
      assert.equal((error as ConfigError).setting, 'HERALD_ALLOW_NEWER_SCHEMA');
      assert.match(
        error.message,
        /has 1 migration\(s\) this version of Herald does not know \(9999_future\.sql\)/,
      );
      return true;
    });
    // The refused start left the database as it was, and did not hold it: another start works.
    const allowed = await start({ HERALD_ALLOW_NEWER_SCHEMA: 'true' });
    assert.equal(allowed.filter((l) => l.msg.startsWith('schema: applied')).length, 0);
    const warning = allowed.find((l) => l.unknownMigrations);
    assert.equal(warning?.level, 40);
    assert.deepEqual(warning?.unknownMigrations, ['9999_future.sql']);
    // herald migrate refuses it too, naming the setting, and with it set, warns and succeeds.
    const migrate = await herald(['migrate', '--database', database], {}, dir);
    assert.equal(migrate.code, 1);
    assert.match(
      migrate.stderr,
      /HERALD_ALLOW_NEWER_SCHEMA: is unset, and the database .* \(9999_future\.sql\)/,
    );
    const migrateAnyway = await herald(
      ['migrate', '--database', database],
      { HERALD_ALLOW_NEWER_SCHEMA: 'true' },
      dir,
    );
    assert.equal(migrateAnyway.code, 0, migrateAnyway.stderr);
    assert.match(
      migrateAnyway.stderr,
      /warning: the database has migrations this version does not know \(9999_future\.sql\)/,
    );
  });

  test('herald migrate lists the migrations it applied on an empty database, and says when there is nothing to apply', async () => {
    const url = await server.createDatabase();
    const sqlite = `sqlite:${join(dir, 'migrate.db')}`;
    for (const [database, files] of [
      [url, postgresMigrations()],
      [sqlite, sqliteMigrations()],
    ] as const) {
      const first = await herald(['migrate', '--database', database], {}, dir);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(
        first.stdout,
        `${files.map((f) => `herald: applied ${f}\n`).join('')}herald: schema is up to date (${database}): ${files.length} migration(s) applied\n`,
      );
      const again = await herald(['migrate', '--database', database], {}, dir);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, `herald: schema is up to date (${database}): nothing to apply\n`);
    }
  });

  test('herald migrate whose report cannot be written on stdout (a full disk) says on stderr what it applied, exit code 0', async () => {
    const file = join(dir, 'migrate-full-stdout.db');
    const files = sqliteMigrations();
    const full = openSync('/dev/full', 'w');
    try {
      const run = await runHerald(['migrate', '--database', `sqlite:${file}`], { cwd: dir, stdoutFd: full });
      // Before, exit code 1 and only `cannot write the output (stdout)`, the migrations applied all the same.
      assert.equal(run.code, 0, run.stderr);
      const reported = run.stderr.split('\n').filter((line) => !line.startsWith('herald: applying '));
      assert.deepEqual(reported, [
        "herald: cannot write the output (stdout): ENOSPC: no space left on device, write: the migration's report follows here",
        ...files.map((f) => `herald: applied ${f}`),
        `herald: schema is up to date (sqlite:${file}): ${files.length} migration(s) applied`,
        '',
      ]);
    } finally {
      closeSync(full);
    }
    const db = new DatabaseSync(file);
    try {
      assert.equal(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()?.n, files.length);
    } finally {
      db.close();
    }
  });

  test('two herald migrate at once on one PostgreSQL database: one says it applied the migrations, the other that there was nothing to apply', async () => {
    const url = await server.createDatabase();
    const files = postgresMigrations();
    // Hold the migration lock, so that both processes have read the database before either migrates.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const runs = [
        herald(['migrate', '--database', url], {}, dir),
        herald(['migrate', '--database', url], {}, dir),
      ];
      const waiting = async () =>
        Number(
          (
            await holder.query<{ n: string }>(
              // This database's only: another file's waiters on a shared server
              // (HERALD_TEST_DATABASE_URL) must not end the wait early.
              `SELECT count(*) AS n FROM pg_locks
                WHERE locktype = 'advisory' AND NOT granted
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
            )
          ).rows[0]?.n,
        );
      for (let tries = 0; (await waiting()) < 2; tries++) {
        assert.ok(tries < 300, 'both migrate processes wait for the migration lock');
        await sleep(50);
      }
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const outputs = (await Promise.all(runs)).map((run) => {
        assert.equal(run.code, 0, run.stderr);
        return run.stdout;
      });
      assert.deepEqual(outputs.sort(), [
        `${files.map((f) => `herald: applied ${f}\n`).join('')}herald: schema is up to date (${url}): ${files.length} migration(s) applied\n`,
        `herald: schema is up to date (${url}): nothing to apply\n`,
      ]);
    } finally {
      await holder.end();
    }
  });

  test("a database whose schema_migrations is another tool's (Rails, Ecto, golang-migrate: a version column) is refused naming the table, on both stores, and nothing is created", async () => {
    // PostgreSQL: an application's database, with its migrations table and a table of its own.
    const url = await server.createDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        "CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000'); CREATE TABLE orders (id int)",
      );
      const run = await herald(['migrate', '--database', url], {}, dir);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(
        run.stderr,
        /holds a table schema_migrations that is not Herald's \(its columns: version\)/,
      );
      assert.doesNotMatch(run.stderr, /column "name" does not exist/);
      const { rows } = await client.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'projects'",
      );
      assert.equal(rows[0].n, 0, 'no Herald table was created');
    } finally {
      await client.end();
    }
    // SQLite: the same table in the file.
    const sqliteDir = mkdtempSync(join(dir, 'foreign-migrations-'));
    const db = new DatabaseSync(join(sqliteDir, 'herald.db'));
    db.exec('CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, dirty INTEGER)');
    db.close();
    const bytes = readFileSync(join(sqliteDir, 'herald.db'));
    const listing = readdirSync(sqliteDir);
    const run = await herald(['migrate', '--data-dir', sqliteDir], {}, dir);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(
      run.stderr,
      /holds a table schema_migrations that is not Herald's \(its columns: version, dirty\)/,
    );
    const after = new DatabaseSync(join(sqliteDir, 'herald.db'));
    const tables = after.prepare("SELECT name FROM sqlite_master WHERE name = 'projects'").all();
    after.close();
    assert.deepEqual(tables, [], 'no Herald table was created');
    // Refused before anything in it changed: not switched to WAL mode (bytes 18 and 19 of the
    // header), no log beside it; the other program opens it as it left it.
    assert.deepEqual(
      readFileSync(join(sqliteDir, 'herald.db')),
      bytes,
      'the file is byte for byte as it was',
    );
    assert.equal(
      existsSync(join(sqliteDir, 'herald.db-wal')),
      false,
      'no write-ahead log was made beside it',
    );
    // Nor anything else: no serving lock (herald.db.lock) left beside it.
    assert.deepEqual(readdirSync(sqliteDir), listing, 'nothing was created beside it');
    // A start refused the same way leaves nothing beside it either.
    const serve = await herald(
      ['serve', '--role', 'worker', '--port', '0', '--data-dir', sqliteDir],
      { HERALD_ADMIN_TOKEN: ADMIN, HERALD_LOG_LEVEL: 'silent' },
      dir,
    );
    assert.equal(serve.code, 1, serve.stdout + serve.stderr);
    assert.match(serve.stderr, /holds a table schema_migrations that is not Herald's/);
    assert.deepEqual(readdirSync(sqliteDir), listing, 'a refused start created nothing beside it');
    assert.deepEqual(readFileSync(join(sqliteDir, 'herald.db')), bytes);
  });

  test('serve logs each migration before it applies it: a start held up by a migration says which', async () => {
    // A file the version before this one left (its last migration undone), whose write lock another
    // connection holds: the migration waits for it (5 s, the busy timeout) and fails.
    const file = join(dir, 'applying.db');
    const setup = await startHerald(
      loadConfig({
        env: {
          HERALD_DATABASE_URL: `sqlite:${file}`,
          HERALD_ADMIN_TOKEN: ADMIN,
          HERALD_DATA_DIR: join(dir, 'applying-data'),
          HERALD_PORT: '0',
          HERALD_HOST: '127.0.0.1',
          HERALD_ROLE: 'api',
        },
      }),
      { logger: createLogger({ level: 'silent' }) },
    );
    await setup.close();
    const holder = new DatabaseSync(file);
    holder.exec("DELETE FROM schema_migrations WHERE name = '0018_api_key_scope.sql'");
    holder.exec('ALTER TABLE api_keys DROP COLUMN scope');
    holder.exec('BEGIN IMMEDIATE');
    const lines: { msg: string; migration?: string }[] = [];
    const destination = { write: (line: string) => lines.push(JSON.parse(line)) };
    try {
      const config = loadConfig({
        env: {
          HERALD_DATABASE_URL: `sqlite:${file}`,
          HERALD_ADMIN_TOKEN: ADMIN,
          HERALD_DATA_DIR: join(dir, 'applying-data'),
          HERALD_PORT: '0',
          HERALD_HOST: '127.0.0.1',
          HERALD_ROLE: 'api',
        },
      });
      await assert.rejects(
        startHerald(config, { logger: createLogger({ level: 'info', destination }) }),
        /database is locked \(migration 0018_api_key_scope\.sql\)/,
      );
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    assert.deepEqual(
      lines.filter((l) => l.msg.startsWith('schema:')).map((l) => [l.msg, l.migration]),
      [['schema: applying migration 0018_api_key_scope.sql', '0018_api_key_scope.sql']],
    );
  });
});
