/**
 * A start refused for its encryption key leaves the database's schema as it found it: a backup of
 * an older version restored and started with a wrong or missing key is refused before a migration
 * is applied, so the operator can still go back to the older version with the right key. Started
 * again with the right key, the same database migrates and its secrets open. `herald migrate`
 * reads no secret and needs no key: it upgrades the schema whatever the key, and the secrets stay
 * as they were sealed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { decodeEncryptionKey } from '../../src/config/parse-encryption-key.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald } from '../../src/main.ts';
import { migrationFiles as postgresMigrations } from '../../src/store/postgres/migrate.ts';
import { createSecretCipher } from '../../src/store/secret-cipher.ts';
import { migrationFiles as sqliteMigrations } from '../../src/store/sqlite/migrate.ts';
import {
  olderPostgresDatabase,
  olderSqliteDatabase,
  postgresRecorded,
  sqliteRecorded,
} from '../support/older-schema.ts';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';
import { runHerald } from './harness.ts';

const ADMIN = 'start-key-refused-admin-token-0123456789';
const KEY = 'qkqOFumEpsZBWIuykVEg0lbpXpF0XS/zNHtOVmsZ1B8=';
const WRONG_KEY = 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** The older version's schema: its first migrations, as a backup of it holds them. */
const OLDER = 11;

const sealed = () => createSecretCipher(decodeEncryptionKey(KEY)!).seal(SECRET);

let dir: string;
let server: TestPostgres | undefined;
const postgres = async () => {
  server ??= await withPostgres();
  return server;
};
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-start-key-'));
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts Herald on `env`, waits for ready, and returns what the start logged and the secret read back. */
async function start(
  env: Record<string, string>,
  path: string,
): Promise<{ applied: string[]; secret: string }> {
  const lines: { msg: string }[] = [];
  const destination = { write: (line: string) => lines.push(JSON.parse(line)) };
  const config = loadConfig({
    env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', ...env },
  });
  const running = await startHerald(config, { logger: createLogger({ level: 'info', destination }) });
  try {
    const answer = await fetch(`${running.url}${path}/secret`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(answer.status, 200);
    const { secret } = (await answer.json()) as { secret: string };
    return {
      applied: lines.filter((l) => l.msg.startsWith('schema: applied')).map((l) => l.msg),
      secret,
    };
  } finally {
    await running.close({ graceMs: 0 });
  }
}

/** The refusal of a start on `env`: it names HERALD_ENCRYPTION_KEY first, then matches `pattern`. */
async function refused(env: Record<string, string>, pattern: RegExp): Promise<void> {
  const config = loadConfig({
    env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', ...env },
  });
  await assert.rejects(startHerald(config, { logger: createLogger({ level: 'silent' }) }), (error: Error) => {
    assert.ok(error.message.startsWith('HERALD_ENCRYPTION_KEY: '), error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

const endpointPath = (rows: { projectId: string; endpointId: string }) =>
  `/api/v1/projects/${rows.projectId}/endpoints/${rows.endpointId}`;

describe('a start refused for its encryption key leaves an older schema as it was', () => {
  test('SQLite, a wrong HERALD_ENCRYPTION_KEY: refused as before, no migration applied; the right key then migrates it', async () => {
    const dataDir = join(dir, 'sqlite-wrong-key');
    const file = join(dataDir, 'herald.db');
    mkdirSync(dataDir, { mode: 0o700 });
    const rows = olderSqliteDatabase(file, OLDER, sealed());
    const older = sqliteRecorded(file);
    assert.equal(older.length, OLDER);

    await refused(
      { HERALD_DATA_DIR: dataDir, HERALD_ENCRYPTION_KEY: WRONG_KEY },
      /does not open an endpoint secret of sqlite:.*, nor does a key in HERALD_ENCRYPTION_KEY_PREVIOUS/,
    );
    assert.deepEqual(sqliteRecorded(file), older, 'the refused start migrated the file');

    const started = await start({ HERALD_DATA_DIR: dataDir, HERALD_ENCRYPTION_KEY: KEY }, endpointPath(rows));
    assert.deepEqual(
      started.applied,
      sqliteMigrations()
        .slice(OLDER)
        .map((f) => `schema: applied migration ${f}`),
    );
    assert.equal(started.secret, SECRET);
    assert.deepEqual(sqliteRecorded(file), sqliteMigrations());
  });

  test("SQLite, a key file that is not the secrets' key: refused naming the file, no migration applied", async () => {
    const dataDir = join(dir, 'sqlite-key-file');
    const file = join(dataDir, 'herald.db');
    mkdirSync(dataDir, { mode: 0o700 });
    olderSqliteDatabase(file, OLDER, sealed());
    writeFileSync(join(dataDir, 'encryption-key'), `${WRONG_KEY}\n`, { mode: 0o600 });
    const older = sqliteRecorded(file);

    await refused(
      { HERALD_DATA_DIR: dataDir },
      /is unset, and the key in .*encryption-key does not open the endpoint secrets of sqlite:/,
    );
    assert.deepEqual(sqliteRecorded(file), older, 'the refused start migrated the file');
  });

  test('SQLite, no key at all (no HERALD_ENCRYPTION_KEY, no key file): refused, no migration applied, no key file written', async () => {
    const dataDir = join(dir, 'sqlite-no-key');
    const file = join(dataDir, 'herald.db');
    mkdirSync(dataDir, { mode: 0o700 });
    const rows = olderSqliteDatabase(file, OLDER, sealed());
    const older = sqliteRecorded(file);

    await refused(
      { HERALD_DATA_DIR: dataDir },
      /is unset and .*encryption-key does not exist, but sqlite:.* holds endpoint secrets sealed with an encryption key/,
    );
    assert.deepEqual(sqliteRecorded(file), older, 'the refused start migrated the file');
    assert.equal(existsSync(join(dataDir, 'encryption-key')), false);

    const started = await start({ HERALD_DATA_DIR: dataDir, HERALD_ENCRYPTION_KEY: KEY }, endpointPath(rows));
    assert.equal(started.secret, SECRET);
    assert.deepEqual(sqliteRecorded(file), sqliteMigrations());
  });

  test('PostgreSQL, a wrong key and then none: both refused, no migration applied; the right key then migrates it', async () => {
    const url = await (await postgres()).createDatabase();
    const rows = await olderPostgresDatabase(url, OLDER, sealed());
    const older = await postgresRecorded(url);
    assert.equal(older.length, OLDER);
    const dataDir = join(dir, 'postgres-data');

    await refused(
      { HERALD_DATABASE_URL: url, HERALD_DATA_DIR: dataDir, HERALD_ENCRYPTION_KEY: WRONG_KEY },
      /does not open an endpoint secret of postgres:.*, nor does a key in HERALD_ENCRYPTION_KEY_PREVIOUS/,
    );
    assert.deepEqual(await postgresRecorded(url), older, 'the refused start migrated the database');
    await refused(
      { HERALD_DATABASE_URL: url, HERALD_DATA_DIR: dataDir },
      /is unset, but the database holds endpoint secrets sealed with an encryption key/,
    );
    assert.deepEqual(await postgresRecorded(url), older, 'the refused start migrated the database');

    const started = await start(
      { HERALD_DATABASE_URL: url, HERALD_DATA_DIR: dataDir, HERALD_ENCRYPTION_KEY: KEY },
      endpointPath(rows),
    );
    assert.deepEqual(
      started.applied,
      postgresMigrations()
        .slice(OLDER)
        .map((f) => `schema: applied migration ${f}`),
    );
    assert.equal(started.secret, SECRET);
  });

  test('herald migrate with a wrong key upgrades the schema, reads no secret and leaves them sealed as they were', async () => {
    const dataDir = join(dir, 'migrate-wrong-key');
    const file = join(dataDir, 'herald.db');
    mkdirSync(dataDir, { mode: 0o700 });
    const stored = sealed();
    const rows = olderSqliteDatabase(file, OLDER, stored);

    const migrated = await runHerald(['migrate', '--data-dir', dataDir], {
      env: { HERALD_ENCRYPTION_KEY: WRONG_KEY },
    });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(
      migrated.stdout,
      new RegExp(`${sqliteMigrations().length - OLDER} migration\\(s\\) applied`),
    );
    assert.deepEqual(sqliteRecorded(file), sqliteMigrations());
    assert.equal(existsSync(join(dataDir, 'encryption-key')), false);
    const db = new DatabaseSync(file, { readOnly: true });
    const after = db
      .prepare('SELECT secret FROM endpoint_secrets')
      .all()
      .map((r) => r.secret);
    db.close();
    assert.deepEqual(after, [stored], 'the secret is stored as it was sealed');

    const started = await start({ HERALD_DATA_DIR: dataDir, HERALD_ENCRYPTION_KEY: KEY }, endpointPath(rows));
    assert.deepEqual(started.applied, []);
    assert.equal(started.secret, SECRET);
  });
});
