/**
 * A PostgreSQL process started without HERALD_ENCRYPTION_KEY stores endpoint signing secrets as they
 * are given (only the embedded SQLite default makes a key of its own): configuration.md and
 * security.md say so, but an operator who set only HERALD_DATABASE_URL learned it from nothing the
 * process said. It now warns at start, naming the setting; with a key it says nothing of it.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';
import { api, type HeraldProcess, runHerald, startHerald } from './harness.ts';

const TOKEN = 'pg-no-key-admin-token-0123456789abcdef';
const KEY = 'qkqOFumEpsZBWIuykVEg0lbpXpF0XS/zNHtOVmsZ1B8=';
let server: TestPostgres;
before(async () => {
  server = await withPostgres();
});
after(() => server.stop());

const unsealedLine = (lines: Record<string, unknown>[]) =>
  lines.find((l) => String(l.msg).includes('HERALD_ENCRYPTION_KEY is unset'));

test('without HERALD_ENCRYPTION_KEY on PostgreSQL: a warning at start that secrets are stored unsealed, and they are', async () => {
  const url = await server.createDatabase();
  const herald = await startHerald({ env: { HERALD_DATABASE_URL: url, HERALD_ADMIN_TOKEN: TOKEN } });
  try {
    const line = unsealedLine(herald.logLines());
    assert.equal(line?.level, 40, herald.output());
    assert.equal(
      line?.msg,
      'HERALD_ENCRYPTION_KEY is unset: endpoint signing secrets are stored in PostgreSQL as they are given, unsealed (readable by whoever reads the endpoint_secrets table or a dump of it); give every process the same key (openssl rand -base64 32), and the next start seals them (docs/security.md)',
    );
    // What it warns of.
    const project = await api<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', { name: 'p' });
    const endpoint = await api<{ secret: string }>(
      herald.url,
      TOKEN,
      'POST',
      `/api/v1/projects/${project.body.id}/endpoints`,
      {
        url: 'https://receiver.example/hook',
      },
    );
    assert.equal(endpoint.status, 201);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ secret: string }>('SELECT secret FROM endpoint_secrets');
      assert.deepEqual(
        rows.map((r) => r.secret),
        [endpoint.body.secret],
      );
    } finally {
      await client.end();
    }
  } finally {
    await herald.dispose();
  }
});

test('with HERALD_ENCRYPTION_KEY on PostgreSQL: no such warning', async () => {
  const url = await server.createDatabase();
  const herald = await startHerald({
    env: { HERALD_DATABASE_URL: url, HERALD_ADMIN_TOKEN: TOKEN, HERALD_ENCRYPTION_KEY: KEY },
  });
  try {
    assert.equal(unsealedLine(herald.logLines()), undefined, herald.output());
  } finally {
    await herald.dispose();
  }
});

test('without HERALD_ENCRYPTION_KEY on a database whose secrets are sealed: refused, without the warning that secrets are stored unsealed', async () => {
  const url = await server.createDatabase();
  const keyed = await startHerald({
    env: { HERALD_DATABASE_URL: url, HERALD_ADMIN_TOKEN: TOKEN, HERALD_ENCRYPTION_KEY: KEY },
  });
  try {
    const project = await api<{ id: string }>(keyed.url, TOKEN, 'POST', '/api/v1/projects', { name: 'p' });
    const endpoint = await api(keyed.url, TOKEN, 'POST', `/api/v1/projects/${project.body.id}/endpoints`, {
      url: 'https://receiver.example/hook',
    });
    assert.equal(endpoint.status, 201);
  } finally {
    await keyed.dispose();
  }
  const run = await runHerald(['serve', '--port', '0'], {
    env: { HERALD_DATABASE_URL: url, HERALD_ADMIN_TOKEN: TOKEN },
  });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /HERALD_ENCRYPTION_KEY: is unset, but the database holds endpoint secrets sealed/);
  // Nothing is stored unsealed by a process that does not start: the warning would send the
  // operator after the wrong problem.
  assert.doesNotMatch(run.stdout + run.stderr, /stored in PostgreSQL as they are given, unsealed/);
});

/**
 * A SQLite start in a data directory of its own, which makes its key file (`prepare` then gets
 * it), and then a PostgreSQL serve with HERALD_ENCRYPTION_KEY on that directory, given to `check`.
 */
async function postgresBesideSqliteKeyFile(
  prepare: (keyFile: string) => void,
  check: (herald: HeraldProcess, keyFile: string) => void,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-pg-key-file-'));
  try {
    const sqlite = await startHerald({ dataDir: dir, env: { HERALD_ADMIN_TOKEN: TOKEN } });
    await sqlite.kill('SIGTERM');
    const keyFile = join(dir, 'encryption-key');
    assert.ok(existsSync(keyFile), sqlite.output());
    prepare(keyFile);
    const url = await server.createDatabase();
    const herald = await startHerald({
      dataDir: dir,
      env: { HERALD_DATABASE_URL: url, HERALD_ADMIN_TOKEN: TOKEN, HERALD_ENCRYPTION_KEY: KEY },
    });
    try {
      check(herald, keyFile);
    } finally {
      await herald.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('with HERALD_ENCRYPTION_KEY on PostgreSQL, a data directory holding a SQLite install’s key file: not called a key this database retired', async () => {
  // A SQLite install of its own made the key file (the embedded default's); PostgreSQL never reads
  // it, so it is neither "retired by a rotation" nor "beside the database". Before, the start said so.
  await postgresBesideSqliteKeyFile(
    () => {},
    (herald, keyFile) => {
      const named = herald.logLines().filter((l) => l.file === keyFile || String(l.msg).includes(keyFile));
      assert.deepEqual(named, [], herald.output());
    },
  );
});

test('on PostgreSQL, a SQLite install’s key file other users can read: the warning says whose key it is, not that it opens this database', async () => {
  // Only the embedded SQLite default reads the key file; before, the warning said it "opens the
  // endpoint secrets sealed in the database", which on PostgreSQL it never does.
  await postgresBesideSqliteKeyFile(
    (keyFile) => chmodSync(keyFile, 0o644),
    (herald, keyFile) => {
      const lines = herald.logLines().filter((l) => l.path === keyFile);
      assert.deepEqual(
        lines.map((l) => [l.level, l.msg]),
        [
          [
            40,
            `${keyFile} has mode 644: other users of this machine can read it (it is the key of an embedded SQLite install, which this PostgreSQL database never reads: it opens the endpoint secrets sealed in that SQLite database and in its backups); chmod 600 it`,
          ],
        ],
        herald.output(),
      );
    },
  );
});
