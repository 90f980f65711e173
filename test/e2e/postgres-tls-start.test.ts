/**
 * PostgreSQL with TLS settings that do not work. At start the message says it is the database's TLS
 * (which database, password masked, which setting), not a bare "self-signed certificate" or
 * "ENOENT" that could be about anything; the settings that do work connect. A running process
 * whose new connections start failing TLS (the server's certificate replaced by one its CA did not
 * sign) answers 503 as for a database out of reach, not 500 with a stack per request, and recovers.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { makeTestCerts, type TestCerts } from '../support/test-certs.ts';
import { assertDatabaseUnavailable } from './database-unavailable-answers.ts';
import { api as call, runHerald, startHerald } from './harness.ts';

const ADMIN = 'postgres-tls-start-admin-token-0123456789';
const PASSWORD = 'tls-s3cret-pw';

let certs: TestCerts;
/** Accepts TLS with a certificate for 127.0.0.1 from the test CA (plain connections too). */
let withTls: LocalPostgres;
/** No TLS at all. */
let plain: LocalPostgres;
let dir: string;
before(async () => {
  certs = makeTestCerts();
  [withTls, plain] = await Promise.all([startPostgres({ tls: certs.loopback }), startPostgres()]);
  dir = mkdtempSync(join(tmpdir(), 'herald-pg-tls-'));
});
after(async () => {
  await Promise.all([withTls?.stop(), plain?.stop()]);
  certs?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A URL with a password (the test servers trust any) on `server`'s database, with `query`. */
function urlOf(server: LocalPostgres, query: string): { url: string; masked: string } {
  const base = `127.0.0.1:${server.port}/postgres?${query}`;
  return { url: `postgres://postgres:${PASSWORD}@${base}`, masked: `postgres://postgres:***@${base}` };
}

const migrate = (url: string) => runHerald(['migrate'], { env: { HERALD_DATABASE_URL: url }, cwd: dir });

test('TLS settings that cannot work name the database and HERALD_DATABASE_URL, and exit 1', async () => {
  const cases = [
    // A server without TLS.
    { server: plain, query: 'sslmode=verify-full', cause: 'The server does not support SSL connections' },
    // A certificate from a CA Node does not know.
    { server: withTls, query: 'sslmode=verify-full', cause: 'unable to verify the first certificate' },
    // A CA file that is not there.
    {
      server: withTls,
      query: `sslmode=verify-full&sslrootcert=${join(dir, 'missing.pem')}`,
      cause: 'ENOENT',
    },
  ];
  for (const { server, query, cause } of cases) {
    const { url, masked } = urlOf(server, query);
    const run = await migrate(url);
    assert.equal(run.code, 1, `${query}: ${run.stderr}`);
    const lastLine = run.stderr.trimEnd().split('\n').at(-1) ?? '';
    assert.match(lastLine, /^herald: /, query);
    assert.ok(lastLine.includes(masked), `${query}: names the database: ${lastLine}`);
    assert.ok(lastLine.includes('HERALD_DATABASE_URL'), `${query}: names the setting: ${lastLine}`);
    assert.ok(lastLine.includes(cause), `${query}: says why: ${lastLine}`);
    assert.ok(!`${run.stdout}${run.stderr}`.includes(PASSWORD), query);
  }
  // The missing file's line says it once, as docs/deployment.md quotes it: before, "cannot read the
  // sslrootcert file" twice and "ENOENT: ENOENT: no such file …".
  const missing = join(dir, 'missing.pem');
  const { url: missingUrl, masked: missingMasked } = urlOf(
    withTls,
    `sslmode=verify-full&sslrootcert=${missing}`,
  );
  const run = await migrate(missingUrl);
  assert.equal(
    run.stderr.trimEnd().split('\n').at(-1),
    `herald: cannot read the sslrootcert file of HERALD_DATABASE_URL (--database), ${missingMasked}: ENOENT: no such file or directory, open '${missing}'`,
  );
  // serve says the same.
  const { url, masked } = urlOf(withTls, 'sslmode=verify-full');
  const serve = await runHerald(['serve', '--role', 'worker', '--port', '0'], {
    env: { HERALD_DATABASE_URL: url, HERALD_ADMIN_TOKEN: ADMIN, HERALD_LOG_LEVEL: 'silent' },
    cwd: dir,
  });
  assert.equal(serve.code, 1, serve.stderr);
  assert.ok(serve.stderr.includes(masked) && serve.stderr.includes('HERALD_DATABASE_URL'), serve.stderr);
});

test('TLS settings that work connect: the CA in sslrootcert, and no-verify', async () => {
  for (const query of [`sslmode=verify-full&sslrootcert=${certs.ca.certFile}`, 'sslmode=no-verify']) {
    const run = await migrate(urlOf(withTls, query).url);
    assert.equal(run.code, 0, `${query}: ${run.stderr}`);
  }
});

test('a running api process whose database TLS starts failing answers 503 with Retry-After, logs it throttled, and recovers', async () => {
  // The CA file Herald reads at each new connection: swapped for one that did not sign the server's.
  const caFile = join(dir, 'db-ca.pem');
  copyFileSync(certs.ca.certFile, caFile);
  const { url } = urlOf(withTls, `sslmode=verify-full&sslrootcert=${caFile}`);
  const api = await startHerald({
    env: { HERALD_DATABASE_URL: url, HERALD_ADMIN_TOKEN: ADMIN },
    args: ['--role', 'api'],
  });
  try {
    const project = await call<{ id: string }>(api.url, ADMIN, 'POST', '/api/v1/projects', { name: 'tls' });
    assert.equal(project.status, 201);
    const events = `/api/v1/projects/${project.body.id}/events`;

    const linesBefore = api.logLines().length;
    copyFileSync(certs.selfSigned.certFile, caFile);
    const admin = new pg.Client({ connectionString: withTls.url });
    admin.on('error', () => undefined);
    await admin.connect();
    const endSessions = () =>
      admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'herald'");
    await endSessions();
    await assertDatabaseUnavailable(api.url, ADMIN, events);
    const failures = api
      .logLines()
      .slice(linesBefore)
      .filter((l) => Number(l.level) >= 40);
    assert.equal(failures.length, 1, JSON.stringify(failures));
    assert.equal(failures[0]!.level, 40, 'a warning, not an error with a stack');

    copyFileSync(certs.ca.certFile, caFile);
    assert.equal((await call(api.url, ADMIN, 'GET', events)).status, 200);
    await admin.end();
  } finally {
    await api.dispose();
  }
});

test('a running process whose sslrootcert file is removed answers 503 (not 500 per request), logs one warning naming the file, and recovers once it is back', async () => {
  const caFile = join(dir, 'db-ca-removed.pem');
  copyFileSync(certs.ca.certFile, caFile);
  const { url } = urlOf(withTls, `sslmode=verify-full&sslrootcert=${caFile}`);
  const api = await startHerald({ env: { HERALD_DATABASE_URL: url, HERALD_ADMIN_TOKEN: ADMIN } });
  try {
    const project = await call<{ id: string }>(api.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'tls-gone',
    });
    assert.equal(project.status, 201);
    const events = `/api/v1/projects/${project.body.id}/events`;

    const linesBefore = api.logLines().length;
    // Moved away (a certificate rotation that deletes before it writes): each new connection reads it.
    renameSync(caFile, `${caFile}.away`);
    const admin = new pg.Client({ connectionString: withTls.url });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'herald'",
    );
    await assertDatabaseUnavailable(api.url, ADMIN, events);
    // The dispatcher's claims fail the same way meanwhile; a second of them, then one line each.
    await new Promise((r) => setTimeout(r, 1_500));
    const failures = api
      .logLines()
      .slice(linesBefore)
      .filter((l) => Number(l.level) >= 40);
    assert.ok(failures.length >= 1 && failures.length <= 2, JSON.stringify(failures));
    for (const line of failures)
      assert.equal(line.level, 40, `a warning, not an error: ${JSON.stringify(line)}`);
    assert.ok(
      failures.some((l) => JSON.stringify(l).includes(caFile)),
      `a line names the file: ${JSON.stringify(failures)}`,
    );

    renameSync(`${caFile}.away`, caFile);
    assert.equal((await call(api.url, ADMIN, 'GET', events)).status, 200);
    await admin.end();
  } finally {
    await api.dispose();
  }
});
