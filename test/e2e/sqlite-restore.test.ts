/**
 * The SQLite restore drill of docs/operations.md (Backups): a `VACUUM INTO` copy taken with the
 * sqlite3 CLI while Herald delivers, put back after a crash. The copy is 0600 and consistent; put in
 * place beside the old database's -wal and -shm (a kill leaves them) it is refused, naming them,
 * before SQLite applies that log to it; without them Herald serves it, takes back the claims the
 * copy holds and delivers everything that was pending at backup time.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { api, runHerald, startHerald } from './harness.ts';
import { startScriptedReceiver } from './scripted-receiver.ts';

const ADMIN = 'sqlite-restore-admin-token-0123456789';
const KEY = Buffer.alloc(32, 3).toString('base64');
const env = { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8', HERALD_ENCRYPTION_KEY: KEY };
const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-restore-'));
const backups = mkdtempSync(join(tmpdir(), 'herald-sqlite-restore-backups-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(backups, { recursive: true, force: true });
});

const sqlite3 = (file: string, sql: string) =>
  execFileSync('/usr/bin/sqlite3', [file, sql], { encoding: 'utf8' }).trim();

test('a VACUUM INTO copy restored after a crash: refused beside the old -wal, then serves and delivers what was pending', async () => {
  // /held answers nothing until the restore: its deliveries are claimed (in flight) or waiting.
  let holding = true;
  const receiver = await startScriptedReceiver((hit) =>
    holding && hit.url === '/held' ? { hang: true } : {},
  );
  const first = await startHerald({ dataDir: dir, env });
  try {
    const { body: project } = await api<{ id: string }>(first.url, ADMIN, 'POST', '/api/v1/projects', {
      name: 'restore',
    });
    const events = `/api/v1/projects/${project.id}/events`;
    for (const path of ['/held', '/ok']) {
      const made = await api(first.url, ADMIN, 'POST', `/api/v1/projects/${project.id}/endpoints`, {
        url: `${receiver.url}${path}`,
        timeoutMs: 30_000,
      });
      assert.equal(made.status, 201);
    }
    const sent: string[] = [];
    for (let n = 0; n < 20; n++) {
      const r = await api<{ id: string }>(first.url, ADMIN, 'POST', events, { type: 'x.y', payload: { n } });
      assert.equal(r.status, 202);
      sent.push(r.body.id);
    }
    await receiver.waitFor(21); // the 20 to /ok and at least one claim of /held in flight
    const db = join(dir, 'herald.db');
    const copy = join(backups, 'herald.db');
    execFileSync('/bin/sh', ['-c', `umask 077 && /usr/bin/sqlite3 '${db}' "VACUUM INTO '${copy}'"`]);
    assert.equal(statSync(copy).mode & 0o777, 0o600);
    assert.equal(sqlite3(copy, 'PRAGMA integrity_check'), 'ok');
    assert.equal(sqlite3(copy, 'PRAGMA foreign_key_check'), '');
    const leased = Number(
      sqlite3(copy, "SELECT count(*) FROM deliveries WHERE status = 'pending' AND leased_by IS NOT NULL"),
    );
    assert.ok(leased > 0, 'the copy holds claims in flight');
    // Written after the backup: lost with the restore (what a restore means).
    const late = await api<{ id: string }>(first.url, ADMIN, 'POST', events, {
      type: 'x.y',
      payload: { late: 1 },
    });
    assert.equal(late.status, 202);
    await first.kill('SIGKILL');
    assert.ok(readdirSync(dir).includes('herald.db-wal'), 'a kill leaves the write-ahead log');

    // Put in place over the old file alone: the old -wal would be applied to the copy.
    copyFileSync(copy, db);
    const refused = await runHerald(['serve'], {
      env: { ...env, HERALD_DATA_DIR: dir, HERALD_PORT: '0', HERALD_HOST: '127.0.0.1' },
      killAfterMs: 30_000,
    });
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-wal`));
    assert.match(refused.stderr, /delete .*herald\.db-wal and .*herald\.db-shm/);
    assert.ok(
      readFileSync(db).equals(readFileSync(copy)),
      'the refused start left the restored file as it was',
    );

    rmSync(`${db}-wal`);
    rmSync(`${db}-shm`);
    holding = false;
    const before = receiver.hits.length;
    const restored = await startHerald({ dataDir: dir, env });
    try {
      assert.equal((await fetch(`${restored.url}/readyz`)).status, 200);
      const delivered = (path: string) =>
        new Set(
          receiver.hits
            .slice(before)
            .filter((h) => h.url === path)
            .map((h) => String(h.headers['webhook-id'])),
        );
      const deadline = Date.now() + 20_000;
      while (delivered('/held').size < sent.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        [...delivered('/held')].sort(),
        [...sent].sort(),
        'every delivery pending at backup time',
      );
      assert.equal(
        delivered('/ok').has(late.body.id),
        false,
        'the event after the backup is not in the copy',
      );
      const { body: listed } = await api<{ data: { id: string }[] }>(
        restored.url,
        ADMIN,
        'GET',
        `${events}?limit=100`,
      );
      assert.equal(listed.data.length, sent.length);
    } finally {
      await restored.kill('SIGTERM');
    }
  } finally {
    await first.dispose();
    await receiver.close();
  }
});
