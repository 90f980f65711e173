/**
 * A PostgreSQL password kept off the command line, where `ps` shows it to every user of the
 * machine: `herald copy-to-postgres --to postgres://USER@HOST/DB` (and `--database`) with the
 * password in PGPASSWORD, which node-postgres reads when the URL has none (docs/cli.md). A real
 * PostgreSQL that asks this role for its password (scram-sha-256), and a real SQLite installation.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { runHerald } from './harness.ts';

const ROLE = 'herald_pw';
const PASSWORD = 'pw-kept-off-the-command-line-0123456789';
const root = mkdtempSync(join(tmpdir(), 'herald-pg-password-'));
let postgres: LocalPostgres;

before(async () => {
  // The server (run as the postgres OS user under root) reads this file: world-readable.
  chmodSync(root, 0o755);
  const hba = join(root, 'pg_hba.conf');
  writeFileSync(
    hba,
    [
      'local all all trust',
      `host all ${ROLE} 127.0.0.1/32 scram-sha-256`,
      'host all all 127.0.0.1/32 trust',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  postgres = await startPostgres({ settings: { hba_file: hba } });
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
    await admin.query(`CREATE DATABASE herald_pw_target OWNER ${ROLE}`);
  } finally {
    await admin.end();
  }
});
after(async () => {
  await postgres?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('copy-to-postgres and migrate take the password from PGPASSWORD, the URL without it', async () => {
  const dir = join(root, 'data');
  const migrated = await runHerald(['migrate'], { env: { HERALD_DATA_DIR: dir } });
  assert.equal(migrated.code, 0, migrated.stderr);
  const to = `postgres://${ROLE}@127.0.0.1:${postgres.port}/herald_pw_target`;

  // The role needs its password: without one, nothing is copied.
  const refused = await runHerald(['copy-to-postgres', '--to', to], { env: { HERALD_DATA_DIR: dir } });
  assert.equal(refused.code, 1, refused.stderr);
  // Said as what to do, not as node-postgres's "SASL: SCRAM-SERVER-FIRST-MESSAGE: client password
  // must be a string"; a serving process's start says the same.
  assert.match(refused.stderr, /asks for a password and none was given: .*PGPASSWORD/);
  // Within 20 s: its pool's connection, left open after the refused login, kept it alive until
  // PostgreSQL's authentication_timeout (60 s) closed it.
  const served = await runHerald(['migrate', '--database', to], { killAfterMs: 20_000 });
  assert.equal(served.code, 1, served.stderr);
  assert.match(served.stderr, /asks for a password and none was given: .*PGPASSWORD/);

  const copied = await runHerald(['copy-to-postgres', '--to', to], {
    env: { HERALD_DATA_DIR: dir, PGPASSWORD: PASSWORD },
  });
  assert.equal(copied.code, 0, copied.stderr);
  assert.ok(!`${copied.stdout}${copied.stderr}`.includes(PASSWORD), 'the password is not printed');

  const again = await runHerald(['migrate', '--database', to], { env: { PGPASSWORD: PASSWORD } });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout + again.stderr, /schema is up to date/);
});
