/**
 * One serving process per SQLite file (src/store/sqlite/serving-lock.ts): a second `herald serve`
 * on a file another one serves is refused at start, naming the file, and leaves the first one's
 * deliveries alone (and its schema: an upgrade started beside the old process migrates nothing);
 * once the first is gone, even by SIGKILL, the next start takes the file at once.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { api, runHerald, startHerald, startReceiver } from './harness.ts';

const ADMIN = 'serving-lock-admin-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'herald-serving-lock-'));
const linkDir = mkdtempSync(join(tmpdir(), 'herald-serving-lock-link-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(linkDir, { recursive: true, force: true });
});

test('a second serve on the same SQLite file is refused, naming it; the first keeps its deliveries; after a SIGKILL the next start serves at once', async () => {
  const env = { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' };
  const first = await startHerald({ dataDir: dir, env });
  const receiver = await startReceiver();
  try {
    const { body: project } = await api<{ id: string }>(first.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'lock',
    });
    await api(first.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, {
      url: `${receiver.url}/hook`,
    });
    // The second start must not touch the first one's claims: without HERALD_ALLOW_NETWORKS it
    // would record them blocked and disable the endpoint (what a tester saw before the lock).
    const second = await runHerald(['serve'], {
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATA_DIR: dir, HERALD_PORT: '0', HERALD_HOST: '127.0.0.1' },
      killAfterMs: 30_000,
    });
    assert.equal(second.code, 1, second.stdout + second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`another Herald process is serving the SQLite database ${join(dir, 'herald.db')}`),
    );
    // The same file through a symbolic link is the same database: refused too.
    const link = join(linkDir, 'link.db');
    symlinkSync(join(dir, 'herald.db'), link);
    const throughLink = await runHerald(['serve'], {
      env: {
        HERALD_ADMIN_TOKEN: ADMIN,
        HERALD_DATA_DIR: linkDir,
        HERALD_DATABASE_URL: `sqlite:${link}`,
        HERALD_PORT: '0',
        HERALD_HOST: '127.0.0.1',
      },
      killAfterMs: 30_000,
    });
    assert.equal(throughLink.code, 1, throughLink.stdout + throughLink.stderr);
    assert.match(throughLink.stderr, /another Herald process is serving the SQLite database/);
    assert.equal((await fetch(`${first.url}/readyz`)).status, 200, 'the first still serves');
    await api(first.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/events`, {
      type: 'x.y',
      payload: { n: 1 },
    });
    await receiver.waitFor(1, 10_000);
    const { body: endpoints } = await api<{ data: { status: string }[] }>(
      first.url,
      ADMIN,
      'GET',
      `/api/v1/projects/${project.id}/endpoints`,
    );
    assert.equal(endpoints.data[0]!.status, 'active');

    await first.kill('SIGKILL');
    const started = Date.now();
    const third = await startHerald({ dataDir: dir, env });
    try {
      assert.ok(Date.now() - started < 20_000);
      assert.equal((await fetch(`${third.url}/readyz`)).status, 200);
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.startsWith('herald.db.lock')),
        ['herald.db.lock'],
        'the lock leaves no journal beside it',
      );
    } finally {
      await third.kill('SIGTERM');
    }
  } finally {
    await first.dispose();
    await receiver.close();
  }
});

test('a serve, herald migrate or event-types import refused because another process serves the file migrates nothing under it (an old version serving it would no longer restart)', async () => {
  const oldDir = mkdtempSync(join(tmpdir(), 'herald-serving-lock-old-'));
  const env = { HERALD_ADMIN_TOKEN: ADMIN };
  const first = await startHerald({ dataDir: oldDir, env });
  try {
    // An import beside a serve of the same version writes, as ever (nothing to migrate).
    const current = join(oldDir, 'current.json');
    writeFileSync(current, JSON.stringify({ eventTypes: [{ name: 'user.created' }] }));
    const beside = await runHerald(['event-types', 'import', current, '--data-dir', oldDir], {
      killAfterMs: 30_000,
    });
    assert.equal(beside.code, 0, beside.stdout + beside.stderr);
    // The file as a version from before the last migration left it, served by that version: its
    // migration undone under the running process (a column of its own, dropped as it came).
    const last = 'api_keys.scope (0018_api_key_scope.sql)';
    const db = new DatabaseSync(join(oldDir, 'herald.db'));
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec("DELETE FROM schema_migrations WHERE name = '0018_api_key_scope.sql'");
    db.exec('ALTER TABLE api_keys DROP COLUMN scope');
    // The new version started beside it, by mistake (docs/deployment.md: stop the old one first).
    const second = await runHerald(['serve'], {
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATA_DIR: oldDir, HERALD_PORT: '0', HERALD_HOST: '127.0.0.1' },
      killAfterMs: 30_000,
    });
    assert.equal(second.code, 1, second.stdout + second.stderr);
    assert.match(second.stderr, /another Herald process is serving the SQLite database/);
    // `herald migrate` likewise: it would change the schema under the process that serves the file.
    const migrate = await runHerald(['migrate', '--data-dir', oldDir], { killAfterMs: 30_000 });
    assert.equal(migrate.code, 1, migrate.stdout + migrate.stderr);
    assert.match(
      migrate.stderr,
      /another Herald process holds .*herald\.db\.lock \(it serves .*herald\.db, or restores, copies or migrates it\): stop it first/,
    );
    // `herald event-types import` of the new version too: it writes beside a running serve, but may
    // not migrate the file under it.
    const catalog = join(oldDir, 'catalog.json');
    writeFileSync(catalog, JSON.stringify({ eventTypes: [{ name: 'order.paid' }] }));
    const imported = await runHerald(['event-types', 'import', catalog, '--data-dir', oldDir], {
      killAfterMs: 30_000,
    });
    assert.equal(imported.code, 1, imported.stdout + imported.stderr);
    assert.match(
      imported.stderr,
      /lacks migration 0018_api_key_scope\.sql .*a Herald process serves it .*nothing was imported/,
    );
    const types = db.prepare('SELECT name FROM event_types').all() as { name: string }[];
    assert.deepEqual(
      types.map((t) => t.name),
      ['user.created'],
      'nothing more was imported',
    );
    const applied = db
      .prepare('SELECT name FROM schema_migrations WHERE name = ?')
      .get('0018_api_key_scope.sql');
    const columns = (db.prepare('PRAGMA table_info(api_keys)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    db.close();
    assert.equal(applied, undefined, `the refused start applied ${last} under the running process`);
    assert.ok(!columns.includes('scope'), `the refused start added ${last}`);
    assert.equal((await fetch(`${first.url}/readyz`)).status, 200, 'the first still serves');
  } finally {
    await first.dispose();
    rmSync(oldDir, { recursive: true, force: true });
  }
});

test('a serve or herald migrate that cannot create the lock file (a read-only data directory) names it, what it is and what to do', async () => {
  const readOnly = mkdtempSync(join(tmpdir(), 'herald-serving-lock-read-only-'));
  try {
    const made = await runHerald(['migrate', '--data-dir', readOnly], { killAfterMs: 30_000 });
    assert.equal(made.code, 0, made.stderr);
    rmSync(join(readOnly, 'herald.db.lock'));
    // Permissions do not stop root: as root, the directory and its database go to `nobody` (65534),
    // and Herald runs as that user; any other user runs as itself.
    const root = process.getuid?.() === 0;
    const user = root ? { uid: 65534, gid: 65534 } : undefined;
    if (user) {
      chownSync(readOnly, user.uid, user.gid);
      chownSync(join(readOnly, 'herald.db'), user.uid, user.gid);
    }
    chmodSync(readOnly, 0o500);
    const lockFile = join(readOnly, 'herald.db.lock');
    const env = {
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_DATA_DIR: readOnly,
      HERALD_PORT: '0',
      HERALD_HOST: '127.0.0.1',
    };
    const serve = await runHerald(['serve'], { env, killAfterMs: 30_000, ...(user ? { user } : {}) });
    const migrate = await runHerald(['migrate', '--data-dir', readOnly], {
      killAfterMs: 30_000,
      ...(user ? { user } : {}),
    });
    for (const run of [serve, migrate]) {
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.ok(
        run.stderr.includes(
          `cannot create ${lockFile}, the lock a serving process holds on the SQLite database ${join(readOnly, 'herald.db')}: EACCES`,
        ),
        run.stderr,
      );
      assert.match(
        run.stderr,
        /its directory must be writable by this user \(the data directory, HERALD_DATA_DIR or --data-dir, or the sqlite: path of HERALD_DATABASE_URL\)/,
      );
      assert.doesNotMatch(run.stderr, /^herald: EACCES/m);
    }
    assert.equal(existsSync(lockFile), false);
  } finally {
    chmodSync(readOnly, 0o700);
    rmSync(readOnly, { recursive: true, force: true });
  }
});
