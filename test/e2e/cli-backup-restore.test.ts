/**
 * `herald backup` and `herald restore` (docs/operations.md, Backups) against real `herald serve`
 * children on SQLite files. A backup taken while a client keeps sending events is a sound database
 * holding every event acknowledged before it started, which `herald serve` starts on and lists; it
 * is 0600 whatever the umask, leaves no partial file, and an existing target is refused. A restore
 * is refused while the database is served; otherwise it puts the backup in place, keeps the old
 * database with its -wal and -shm aside (a kill leaves them, with frames SQLite would apply to the
 * copy), and the served database then holds the backup's data; killed at any step of that, it never
 * leaves serve an empty database. A backup of a newer schema is refused.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { MEMORY_TEMP_DIR } from '../support/memory-dir.ts';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { api, type HeraldProcess, runHerald, startHerald, startReceiver } from './harness.ts';
import { migratedDataDir } from './migrated-data-dir.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const KILL_HOOK = join(ROOT, 'test/support/kill-at-file-change.ts');
const ADMIN = 'backup-restore-admin-token-0123456789';
const KEY = Buffer.alloc(32, 7).toString('base64');
const env = { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8', HERALD_ENCRYPTION_KEY: KEY };
// In memory where there is room (test/support/memory-dir.ts): the servers' commits and the backups'
// fsyncs cost nothing there, and nothing here is about the disk (a full one is /dev/full's stdout).
const root = mkdtempSync(join(MEMORY_TEMP_DIR, 'herald-backup-restore-'));
const processes: HeraldProcess[] = [];
after(async () => {
  await Promise.all(processes.map((p) => p.dispose()));
  rmSync(root, { recursive: true, force: true });
});

// The backup must be 0600 whatever the umask: under 022 a file SQLite creates is 0644.
process.umask(0o022);

const serve = async (dataDir: string) => {
  const p = await startHerald({ dataDir, env });
  processes.push(p);
  return p;
};
/**
 * In this process (run-herald-in-process.ts): what the backup or restore printed, its exit code
 * and the files it left. A stop by a signal, a stdout that fails and another working directory run
 * in processes of their own.
 */
const herald = (args: string[]) =>
  runHeraldInProcess(args, { env: { HERALD_ENCRYPTION_KEY: KEY }, killAfterMs: 120_000 });

async function project(url: string, name: string, receiverUrl: string): Promise<string> {
  const { body } = await api<{ id: string }>(url, ADMIN, 'POST', '/api/v1/projects', { name });
  const made = await api(url, ADMIN, 'POST', `/api/v1/projects/${body.id}/endpoints`, { url: receiverUrl });
  assert.equal(made.status, 201);
  return body.id;
}

async function send(url: string, projectId: string, n: number): Promise<string> {
  const r = await api<{ id: string }>(url, ADMIN, 'POST', `/api/v1/projects/${projectId}/events`, {
    type: 'x.y',
    payload: { n, pad: 'p'.repeat(2000) },
  });
  assert.equal(r.status, 202);
  return r.body.id;
}

async function listedEvents(url: string, projectId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const { status, body } = await api<{ data: { id: string }[]; nextCursor: string | null }>(
      url,
      ADMIN,
      'GET',
      `/api/v1/projects/${projectId}/events?limit=1000${query}`,
    );
    assert.equal(status, 200);
    ids.push(...body.data.map((e) => e.id));
    cursor = body.nextCursor;
  } while (cursor);
  return ids.sort();
}

function eventIdsIn(file: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare('SELECT id FROM events ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  } finally {
    db.close();
  }
}

function check(file: string, pragma: string): string[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare(`PRAGMA ${pragma}`).all() as Record<string, unknown>[]).map((r) =>
      JSON.stringify(Object.values(r)),
    );
  } finally {
    db.close();
  }
}

test('a backup taken while a client keeps sending events is sound, 0600, and serves every event acknowledged before it', async () => {
  const receiver = await startReceiver();
  const dataDir = join(root, 'live');
  const backups = join(root, 'live-backups');
  mkdirSync(backups);
  const target = join(backups, 'herald.db');
  try {
    const first = await serve(dataDir);
    const projectId = await project(first.url, 'live', `${receiver.url}/in`);
    const acked: { id: string; at: number }[] = [];
    let sending = true;
    // Four clients, each sending as soon as its last event is acknowledged, all through the backup.
    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let n = 0; sending; n++)
        acked.push({ id: await send(first.url, projectId, c * 1e6 + n), at: Date.now() });
    });
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const backedUp = await herald(['backup', '--data-dir', dataDir, '--to', target]);
    const finished = Date.now();
    while (!acked.some((a) => a.at > finished + 200)) await new Promise((r) => setTimeout(r, 20));
    sending = false;
    await Promise.all(clients);
    assert.equal(backedUp.code, 0, backedUp.stderr);
    // The copy's worker thread has a process.emitWarning of its own (quiet-sqlite-warning.ts).
    assert.doesNotMatch(backedUp.stderr, /ExperimentalWarning/);
    assert.ok(
      acked.some((a) => a.at > started && a.at < finished),
      'events were acknowledged while the backup ran',
    );

    assert.equal(statSync(target).mode & 0o777, 0o600, 'the backup is 0600 under umask 022');
    assert.deepEqual(readdirSync(backups), ['herald.db'], 'no partial file is left beside it');
    assert.deepEqual(check(target, 'integrity_check'), ['["ok"]']);
    assert.deepEqual(check(target, 'foreign_key_check'), []);
    const inBackup = eventIdsIn(target);
    const ackedIds = new Set(acked.map((a) => a.id));
    for (const a of acked.filter((x) => x.at < started)) {
      assert.ok(inBackup.includes(a.id), `${a.id}, acknowledged before the backup, is in it`);
    }
    assert.ok(
      inBackup.every((id) => ackedIds.has(id)),
      'every event in the backup is one the clients sent',
    );
    const late = acked.filter((a) => a.at > finished + 200);
    assert.ok(
      late.length > 0 && late.every((a) => !inBackup.includes(a.id)),
      'events after it are not in it',
    );
    assert.match(
      backedUp.stdout,
      new RegExp(
        `backed up .* to ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(mode 0600\\).*, ${inBackup.length} events, `,
      ),
    );
    assert.match(backedUp.stdout, /integrity_check ok/);
    assert.match(backedUp.stdout, /schema 0\d+_\w+\.sql/);
    assert.match(backedUp.stdout, /the encryption key is NOT in the backup/);

    // `herald serve` on a copy of it (the backup itself stays as it is) lists those events.
    const elsewhere = join(root, 'live-copy');
    mkdirSync(elsewhere, { mode: 0o700 });
    copyFileSync(target, join(elsewhere, 'herald.db'));
    await first.kill('SIGTERM');
    const second = await serve(elsewhere);
    assert.deepEqual(await listedEvents(second.url, projectId), inBackup);
    await second.kill('SIGTERM');

    // The same target again: refused, the backup left as it was.
    const before = readFileSync(target);
    const again = await herald(['backup', '--data-dir', dataDir, '--to', target]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists: give a new file name \(nothing was written\)/);
    assert.ok(readFileSync(target).equals(before));
    assert.deepEqual(readdirSync(backups), ['herald.db']);

    const directory = await herald(['backup', '--data-dir', dataDir, '--to', backups]);
    assert.equal(directory.code, 1);
    assert.match(
      directory.stderr,
      /is a directory: give the backup file's name in it, as --to .*herald-YYYY-MM-DD\.db/,
    );

    const postgres = await herald([
      'backup',
      '--database',
      'postgres://h:secret@127.0.0.1/h',
      '--to',
      join(backups, 'pg'),
    ]);
    assert.equal(postgres.code, 1);
    assert.match(postgres.stderr, /PostgreSQL .*pg_dump/);
    assert.doesNotMatch(postgres.stderr, /secret/);
  } finally {
    await receiver.close();
  }
});

test('a restore is refused while served, then puts the backup in place with the old files kept aside', async () => {
  const receiver = await startReceiver();
  const dataDir = join(root, 'restore');
  const backup = join(root, 'restore-backup.db');
  const db = join(dataDir, 'herald.db');
  try {
    const first = await serve(dataDir);
    const projectId = await project(first.url, 'restore', `${receiver.url}/in`);
    const kept: string[] = [];
    for (let n = 0; n < 30; n++) kept.push(await send(first.url, projectId, n));
    const backedUp = await herald(['backup', '--data-dir', dataDir, '--to', backup]);
    assert.equal(backedUp.code, 0, backedUp.stderr);
    const lost: string[] = [];
    for (let n = 0; n < 20; n++) lost.push(await send(first.url, projectId, 100 + n));

    const refused = await herald(['restore', '--data-dir', dataDir, '--from', backup]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /a Herald process is serving .*herald\.db .*stop it first.*\(nothing was changed\)/,
    );
    assert.ok(!readdirSync(dataDir).some((f) => f.includes('before-restore') || f.includes('restoring')));
    assert.equal((await listedEvents(first.url, projectId)).length, kept.length + lost.length);

    // A kill leaves the -wal with the last events in it, beside the file the restore replaces.
    await first.kill('SIGKILL');
    assert.ok(statSync(`${db}-wal`).size > 32, 'the kill left a write-ahead log with frames');
    const restored = await herald(['restore', '--data-dir', dataDir, '--from', backup]);
    assert.equal(restored.code, 0, restored.stderr);
    const aside = readdirSync(dataDir).filter((f) => f.startsWith('herald.db.before-restore-'));
    const base = aside.find((f) => !f.endsWith('-wal') && !f.endsWith('-shm'));
    assert.ok(base, `the old database is kept: ${aside.join(', ')}`);
    assert.deepEqual(aside.sort(), [base, `${base}-shm`, `${base}-wal`]);
    assert.ok(!readdirSync(dataDir).includes('herald.db-wal'), 'the old -wal is not beside the copy');
    assert.equal(statSync(db).mode & 0o777, 0o600);
    assert.ok(readFileSync(db).equals(readFileSync(backup)), 'the backup is in place, byte for byte');
    assert.match(restored.stdout, new RegExp(`restored .* \\(mode 0600\\): .*, ${kept.length} events, `));
    assert.match(
      restored.stdout,
      new RegExp(`kept, not deleted: .*${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    assert.match(restored.stdout, /HERALD_ENCRYPTION_KEY_PREVIOUS/);
    // The old files together are the old database, every acknowledged event in it.
    assert.equal(eventIdsIn(join(dataDir, base)).length, kept.length + lost.length);

    const second = await serve(dataDir);
    assert.deepEqual(await listedEvents(second.url, projectId), [...kept].sort());
    assert.deepEqual(check(db, 'integrity_check'), ['["ok"]']);
    await second.kill('SIGTERM');
    assert.match(restored.stdout, /its 1 sealed endpoint secret\(s\) open with HERALD_ENCRYPTION_KEY: start/);

    // With another key (one rotated in since the backup): restored all the same, and told which
    // key serve needs, before a start is refused for it.
    const otherKey = Buffer.alloc(32, 9).toString('base64');
    const rotated = await runHerald(['restore', '--data-dir', dataDir, '--from', backup], {
      env: { HERALD_ENCRYPTION_KEY: otherKey },
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(
      rotated.stderr,
      /warning: 1 of its 1 sealed endpoint secret\(s\) do not open with HERALD_ENCRYPTION_KEY, so herald serve will refuse to start on it: .*the old one as HERALD_ENCRYPTION_KEY_PREVIOUS/,
    );
    const both = await runHerald(['restore', '--data-dir', dataDir, '--from', backup], {
      env: { HERALD_ENCRYPTION_KEY: otherKey, HERALD_ENCRYPTION_KEY_PREVIOUS: KEY },
    });
    assert.equal(both.code, 0, both.stderr);
    assert.match(both.stdout, /open with HERALD_ENCRYPTION_KEY \(with HERALD_ENCRYPTION_KEY_PREVIOUS\)/);
  } finally {
    await receiver.close();
  }
});

test('a restore refuses a backup a newer Herald wrote, and a file that is no Herald database, changing nothing', async () => {
  const dataDir = join(root, 'newer');
  await migratedDataDir(dataDir);
  const backup = join(root, 'newer-backup.db');
  const backedUp = await herald(['backup', '--data-dir', dataDir, '--to', backup]);
  assert.equal(backedUp.code, 0, backedUp.stderr);
  const db = new DatabaseSync(backup);
  db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(
    '9999_from_the_future.sql',
    0,
  );
  db.close();
  const before = readFileSync(join(dataDir, 'herald.db'));
  const refused = await herald(['restore', '--data-dir', dataDir, '--from', backup]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /does not know \(9999_from_the_future\.sql\).*\(nothing was changed\)/);

  const other = join(root, 'other.db');
  const plain = new DatabaseSync(other);
  plain.exec('CREATE TABLE t (x)');
  plain.close();
  const notHerald = await herald(['restore', '--data-dir', dataDir, '--from', other]);
  assert.equal(notHerald.code, 1);
  assert.match(notHerald.stderr, /not a Herald one/);
  // The directory the backups are in, given for one of them: said so, rather than "no backup file".
  const directory = await herald(['restore', '--data-dir', dataDir, '--from', root]);
  assert.equal(directory.code, 1);
  assert.match(
    directory.stderr,
    /is a directory, not a backup file: give the file herald backup wrote in it, as --from .*herald-YYYY-MM-DD\.db \(nothing was changed\)/,
  );
  const missing = await herald(['restore', '--data-dir', dataDir, '--from', join(root, 'no-such-backup.db')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /there is no backup file at .*no-such-backup\.db \(nothing was changed\)/);
  assert.ok(readFileSync(join(dataDir, 'herald.db')).equals(before));
  assert.deepEqual(
    readdirSync(dataDir).filter((f) => f.includes('restor')),
    [],
    'nothing moved aside, no copy left',
  );
});

/** Adds 60 MB to the SQLite database `file`: copies long enough (hundreds of ms) for a signal to land in. */
function fill(file: string): void {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('CREATE TABLE filler (x)');
  db.exec(
    'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000) INSERT INTO filler SELECT hex(randomblob(1000)) FROM n',
  );
  db.close();
}

/** `herald ARGS` as a child process: its exit code once it exits, and its stderr so far. */
function spawnHerald(args: string[]) {
  const child = spawn(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'bin/herald.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HERALD_ENCRYPTION_KEY: KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, exited, stderr: () => stderr };
}

/** Runs `herald ARGS`, sends SIGTERM as soon as a file starting with `prefix` is in `dir`. */
async function stopOnceWriting(args: string[], dir: string, prefix: string) {
  const { child, exited, stderr } = spawnHerald(args);
  const deadline = Date.now() + 20_000;
  while (!readdirSync(dir).some((f) => f.startsWith(prefix)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(
    readdirSync(dir).some((f) => f.startsWith(prefix)),
    `${prefix}… appeared in ${dir}`,
  );
  child.kill('SIGTERM');
  return { code: await exited, stderr: stderr() };
}

test('a backup stopped by SIGTERM while it copies leaves no file behind', async () => {
  const dataDir = join(root, 'stopped');
  mkdirSync(dataDir, { mode: 0o700 });
  fill(join(dataDir, 'herald.db'));
  const backups = join(root, 'stopped-backups');
  mkdirSync(backups);
  const stopped = await stopOnceWriting(
    ['backup', '--data-dir', dataDir, '--to', join(backups, 'b.db')],
    backups,
    'b.db.partial-',
  );
  assert.equal(stopped.code, 1, stopped.stderr);
  assert.match(stopped.stderr, /backup stopped by SIGTERM: nothing was kept/);
  assert.deepEqual(readdirSync(backups), []);
});

/** Whether process `pid` has `file` open read-only (the check's connection; the copy writes it). */
function openReadOnly(pid: number, file: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== file) return false;
        const flags = /^flags:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
        return flags !== null && (Number.parseInt(flags[1]!, 8) & 3) === 0; // O_RDONLY
      } catch {
        return false; // closed meanwhile
      }
    });
  } catch {
    return false; // exited
  }
}

/**
 * Runs `herald ARGS` and interrupts it (SIGINT) while it checks its copy, `copyOf(pid)`: held
 * still (SIGSTOP) once seen checking, so the interrupt comes during the check's synchronous work.
 */
async function interruptDuringCheck(args: string[], copyOf: (pid: number) => string) {
  const { child, exited, stderr } = spawnHerald(args);
  const copy = copyOf(child.pid!);
  const deadline = Date.now() + 20_000;
  while (!openReadOnly(child.pid!, copy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  child.kill('SIGSTOP');
  const checking = openReadOnly(child.pid!, copy);
  child.kill('SIGINT');
  child.kill('SIGCONT');
  const code = await exited;
  assert.ok(checking, `the check of ${copy} was not seen (${stderr()})`);
  return { code, stderr: stderr() };
}

test('a backup interrupted (Ctrl-C) while it checks its copy stops and keeps nothing', async () => {
  const dataDir = join(root, 'interrupted-check');
  await migratedDataDir(dataDir);
  fill(join(dataDir, 'herald.db')); // 60 MB: its check takes tens of ms or more
  const backups = join(root, 'interrupted-check-backups');
  mkdirSync(backups);
  const target = join(backups, 'b.db');
  const { code, stderr } = await interruptDuringCheck(
    ['backup', '--data-dir', dataDir, '--to', target],
    (pid) => `${target}.partial-${pid}`,
  );
  // Before, the interrupt was lost in the check and the backup completed: exit 0, b.db kept.
  assert.equal(code, 1, stderr);
  assert.match(stderr, /backup stopped by SIGINT: nothing was kept/);
  assert.deepEqual(readdirSync(backups), []);
});

test('a restore interrupted (Ctrl-C) while it checks the backup changes nothing', async () => {
  const source = join(root, 'interrupted-restore-source');
  await migratedDataDir(source);
  fill(join(source, 'herald.db'));
  const backup = join(root, 'interrupted-restore-backup.db');
  copyFileSync(join(source, 'herald.db'), backup);
  const dataDir = join(root, 'interrupted-restore');
  await migratedDataDir(dataDir);
  const before = readFileSync(join(dataDir, 'herald.db'));
  const { code, stderr } = await interruptDuringCheck(
    ['restore', '--data-dir', dataDir, '--from', backup],
    (pid) => join(dataDir, `herald.db.restoring-${pid}`),
  );
  assert.equal(code, 1, stderr);
  assert.match(stderr, /restore stopped by SIGINT: nothing was changed/);
  assert.ok(readFileSync(join(dataDir, 'herald.db')).equals(before));
  assert.deepEqual(
    readdirSync(dataDir).filter((f) => f.startsWith('herald.db.')),
    ['herald.db.lock'],
  );
});

test('a restore stopped by SIGTERM while it copies or checks changes nothing and leaves no copy behind', async () => {
  // The backup: a Herald database of 60 MB (its copy and check take hundreds of ms).
  const source = join(root, 'restore-stopped-source');
  await migratedDataDir(source);
  fill(join(source, 'herald.db'));
  const backup = join(root, 'restore-stopped-backup.db');
  copyFileSync(join(source, 'herald.db'), backup);
  const dataDir = join(root, 'restore-stopped');
  await migratedDataDir(dataDir);
  // What is there but the lock file, which the restore makes (serve does too) and leaves.
  const listing = () =>
    readdirSync(dataDir)
      .filter((f) => f !== 'herald.db.lock')
      .sort();
  const files = listing();
  const before = readFileSync(join(dataDir, 'herald.db'));

  const stopped = await stopOnceWriting(
    ['restore', '--data-dir', dataDir, '--from', backup],
    dataDir,
    'herald.db.restoring-',
  );
  assert.equal(stopped.code, 1, stopped.stderr);
  assert.match(stopped.stderr, /restore stopped by SIGTERM: nothing was changed/);
  assert.deepEqual(listing(), files, 'no copy left, nothing moved aside');
  assert.ok(readFileSync(join(dataDir, 'herald.db')).equals(before));
});

test('a restore from a copy of a WAL-mode database leaves nothing of its check beside the database', async () => {
  // A copy of a stopped database's file (cp, or sqlite3's .backup) is in WAL mode, unlike a
  // herald backup: SQLite's read-only connections that check it make a -wal and -shm beside it.
  const source = join(root, 'wal-mode');
  await migratedDataDir(source);
  const backup = join(root, 'wal-mode-copy.db');
  copyFileSync(join(source, 'herald.db'), backup);
  assert.equal(readFileSync(backup)[18], 2, 'the copy is in WAL mode');
  const dataDir = join(root, 'wal-mode-restored');
  const restored = await herald(['restore', '--data-dir', dataDir, '--from', backup]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(readdirSync(dataDir).sort(), ['herald.db', 'herald.db.lock']);
});

test('the database a restore kept aside is had back by following its output, after the restored one was served and killed', async () => {
  const tables = (file: string) => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return (
        db.prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'marker_%'").all() as { name: string }[]
      ).map((r) => r.name);
    } finally {
      db.close();
    }
  };
  // The database there before: stopped cleanly, so no -wal is kept aside with it.
  const dataDir = join(root, 'undo');
  await migratedDataDir(dataDir);
  const db = join(dataDir, 'herald.db');
  const before = new DatabaseSync(db);
  before.exec('CREATE TABLE marker_old (x)');
  before.close();
  const source = join(root, 'undo-source');
  await migratedDataDir(source);
  const backup = join(root, 'undo-backup.db');
  assert.equal((await herald(['backup', '--data-dir', source, '--to', backup])).code, 0);
  const restored = await herald(['restore', '--data-dir', dataDir, '--from', backup]);
  assert.equal(restored.code, 0, restored.stderr);
  const aside = readdirSync(dataDir).filter((f) => f.includes('.before-restore-'));
  assert.equal(aside.length, 1, aside.join(', '));

  // The restored database served, then killed: its -wal holds frames.
  const writer = spawnSync(
    join(ROOT, 'node_modules/.bin/node'),
    [
      '--input-type=module',
      '-e',
      `import { DatabaseSync } from 'node:sqlite'; const db = new DatabaseSync(${JSON.stringify(db)}); db.exec('PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE marker_new (x)'); process.kill(process.pid, 'SIGKILL');`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(writer.signal, 'SIGKILL', writer.stderr);
  assert.ok(statSync(`${db}-wal`).size > 32);

  // Back to the old one, as the output says: the restored database's files away first, all of them.
  const said = restored.stdout.match(/to go back to it, stop herald serve, move (.+?) away, then these back/);
  assert.ok(said, restored.stdout);
  assert.equal(said[1], `${db}, ${db}-wal and ${db}-shm`);
  const away = join(root, 'undo-away');
  mkdirSync(away);
  for (const f of ['herald.db', 'herald.db-wal', 'herald.db-shm'])
    renameSync(join(dataDir, f), join(away, f));
  renameSync(join(dataDir, aside[0] ?? ''), db);
  assert.deepEqual(tables(db), ['marker_old']);
  assert.deepEqual(check(db, 'integrity_check'), ['["ok"]']);
});

test('a restore with nothing naming the database, and none in the default place, is refused, making nothing', async () => {
  // As an operator whose serve runs under a service manager with HERALD_DATA_DIR in its unit, typing
  // the command in a shell elsewhere: the default ./herald-data is not where the database is.
  const source = join(root, 'unnamed-source');
  await migratedDataDir(source);
  const backup = join(root, 'unnamed-backup.db');
  assert.equal((await herald(['backup', '--data-dir', source, '--to', backup])).code, 0);
  const cwd = join(root, 'unnamed-cwd');
  mkdirSync(cwd);
  const refused = await runHerald(['restore', '--from', backup], { cwd });
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(
    refused.stderr,
    /there is no database at .*unnamed-cwd\/herald-data\/herald\.db, the default place .*: name the one herald serve uses with --data-dir DIR or --database sqlite:PATH .*\(nothing was changed\)/,
  );
  assert.deepEqual(readdirSync(cwd), [], 'no herald-data made');
  // Named, a new data directory is what it makes.
  const named = await runHerald(['restore', '--from', backup, '--data-dir', 'herald-data'], { cwd });
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(readdirSync(cwd), ['herald-data']);
  const byEnv = await runHerald(['restore', '--from', backup], {
    cwd,
    env: { HERALD_DATA_DIR: join(cwd, 'other') },
  });
  assert.equal(byEnv.code, 0, byEnv.stderr);
});

test('a backup of a damaged database fails naming the database, not the copy it deleted', async () => {
  // VACUUM INTO copies rows as it reads them: a damaged table is damaged in the copy too.
  const dataDir = join(root, 'damaged');
  await migratedDataDir(dataDir);
  const file = join(dataDir, 'herald.db');
  fill(file);
  const bytes = readFileSync(file);
  bytes.fill(7, 4096 * 7000 + 8, 4096 * 7000 + 3008); // inside the filler table's pages
  writeFileSync(file, bytes);
  const backups = join(root, 'damaged-backups');
  mkdirSync(backups);
  const failed = await herald(['backup', '--data-dir', dataDir, '--to', join(backups, 'b.db')]);
  assert.equal(failed.code, 1, failed.stdout);
  assert.match(
    failed.stderr,
    /herald: .*damaged\/herald\.db was not backed up: its copy failed the check and was deleted: the copy is damaged: PRAGMA integrity_check found/,
  );
  assert.doesNotMatch(failed.stderr, /partial/);
  assert.deepEqual(readdirSync(backups), []);
});

test('a backup whose report cannot be written on stdout (a full disk) says on stderr what it wrote where, exit code 0', async () => {
  const dataDir = join(root, 'full-stdout');
  await migratedDataDir(dataDir);
  const backups = join(root, 'full-stdout-backups');
  mkdirSync(backups);
  const target = join(backups, 'b.db');
  const full = openSync('/dev/full', 'w');
  try {
    const run = await runHerald(['backup', '--data-dir', dataDir, '--to', target], { stdoutFd: full });
    // Before, exit code 1 and only `cannot write the output (stdout)`, the backup written all the same.
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readdirSync(backups), ['b.db']);
    const lines = run.stderr.split('\n');
    assert.match(
      lines[0]!,
      /^herald: cannot write the output \(stdout\): ENOSPC: no space left on device, write: the backup's report follows here$/,
    );
    assert.match(
      lines[1]!,
      new RegExp(`^herald: backed up .*full-stdout/herald\\.db to ${target} \\(mode 0600\\)`),
    );
    assert.match(lines[2]!, /^herald: the encryption key is NOT in the backup/);
    assert.equal(lines.length, 4, run.stderr);
  } finally {
    closeSync(full);
  }
});

test('a restore whose report cannot be written on stdout (a full disk) says on stderr where the old database was kept, exit code 0', async () => {
  const dataDir = join(root, 'full-stdout-restore');
  await migratedDataDir(dataDir);
  const backup = join(root, 'full-stdout-restore.db');
  assert.equal((await herald(['backup', '--data-dir', dataDir, '--to', backup])).code, 0);
  const full = openSync('/dev/full', 'w');
  try {
    const run = await runHerald(['restore', '--data-dir', dataDir, '--from', backup], {
      env: { HERALD_ENCRYPTION_KEY: KEY },
      stdoutFd: full,
    });
    // Before, exit code 1 and only `cannot write the output (stdout)`, the database replaced all the same.
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stderr.split('\n');
    assert.match(
      lines[0]!,
      /^herald: cannot write the output \(stdout\): ENOSPC: no space left on device, write: the restore's report follows here$/,
    );
    assert.match(lines[1]!, new RegExp(`^herald: restored ${backup} as .*full-stdout-restore/herald\\.db`));
    const aside =
      /^herald: the database that was there is kept, not deleted: (\S+?\.before-restore-[^,\s]+)/.exec(
        lines[2]!,
      );
    assert.ok(aside, run.stderr);
    assert.ok(readdirSync(dataDir).includes(aside[1]!.split('/').at(-1)!));
  } finally {
    closeSync(full);
  }
});

/**
 * `herald restore` of `backup` into `dataDir` in a child killed (SIGKILL) before its `at`th link,
 * rename or unlink in `killDir` (the database's directory), test/support/kill-at-file-change.ts.
 */
const restoreKilledAt = (at: number, dataDir: string, backup: string, killDir = dataDir) =>
  runHerald(['restore', '--data-dir', dataDir, '--from', backup], {
    env: {
      ...env,
      NODE_OPTIONS: `--import=${KILL_HOOK}`,
      HERALD_TEST_KILL_DIR: killDir,
      HERALD_TEST_KILL_AT: String(at),
    },
  });

/** `<name>-backup.db`: a herald backup of a new, migrated database. */
async function backupOfNew(name: string): Promise<string> {
  const source = join(root, `${name}-source`);
  await migratedDataDir(source);
  const backup = join(root, `${name}-backup.db`);
  assert.equal((await herald(['backup', '--data-dir', source, '--to', backup])).code, 0);
  return backup;
}

/** The project's events, or null when it is not there (an empty database: 404). */
async function eventCount(url: string, projectId: string): Promise<number | null> {
  const r = await api<{ data: unknown[] }>(
    url,
    ADMIN,
    'GET',
    `/api/v1/projects/${projectId}/events?limit=100`,
  );
  if (r.status === 404) return null;
  assert.equal(r.status, 200);
  return r.body.data.length;
}

/** The events `herald serve` on `dir` lists, null for no project (an empty database), or its refusal. */
async function servedEvents(dir: string, projectId: string): Promise<number | null | string> {
  let served: HeraldProcess;
  try {
    served = await serve(dir);
  } catch (error) {
    const said = /an interrupted herald restore: .*/.exec((error as Error).message)?.[0];
    assert.match(said ?? '', /herald\.db is still the database that was there/, (error as Error).message);
    return said ?? '';
  }
  try {
    return await eventCount(served.url, projectId);
  } finally {
    await served.kill('SIGTERM');
  }
}

/**
 * `herald restore` killed (SIGKILL) before each link, rename and unlink of a name in the data
 * directory (test/support/kill-at-file-change.ts, loaded into the restore's process only): `herald
 * serve` on what it left serves the database that was there, every acknowledged event in it, or
 * the backup, or refuses naming the interrupted restore and both ways out, which work; never an
 * empty database (until 2026-12-08, 3 of the 4 points), nor one damaged by the old -wal.
 */
test('a restore killed at any step leaves the old database, the backup, or a start refused naming it; never an empty one', async () => {
  const receiver = await startReceiver();
  const live = join(root, 'crash-live');
  const backup = join(root, 'crash-backup.db');
  let projectId: string;
  try {
    const first = await serve(live);
    projectId = await project(first.url, 'crash', `${receiver.url}/in`);
    for (let n = 0; n < 3; n++) await send(first.url, projectId, n);
    const backedUp = await herald(['backup', '--data-dir', live, '--to', backup]);
    assert.equal(backedUp.code, 0, backedUp.stderr);
    for (let n = 3; n < 8; n++) await send(first.url, projectId, n);
    // Killed: the last events are in herald.db-wal only, which must never reach the backup's file.
    await first.kill('SIGKILL');
  } finally {
    await receiver.close();
  }
  const files = ['herald.db', 'herald.db-wal', 'herald.db-shm'].filter((f) => existsSync(join(live, f)));
  assert.ok(files.includes('herald.db-wal'));

  const outcomes: string[] = [];
  for (let at = 1; at < 20; at++) {
    /** The killed database copied to `dir`, a restore into it killed before change `at`; true: it finished. */
    const killed = async (dir: string) => {
      mkdirSync(dir, { mode: 0o700 });
      for (const f of files) copyFileSync(join(live, f), join(dir, f));
      const restore = await restoreKilledAt(at, dir, backup);
      if (restore.code !== 0)
        assert.equal(restore.code, null, `killed before change ${at}: ${restore.stderr}`);
      return restore.code === 0;
    };
    const dir = join(root, `crash-at-${at}`);
    const finished = await killed(dir);

    const count = await servedEvents(dir, projectId);
    if (typeof count === 'string') {
      // As the refusal says: the same restore again puts the backup in place.
      const again = await runHerald(['restore', '--data-dir', dir, '--from', backup], { env });
      assert.equal(again.code, 0, `killed before change ${at}, then again: ${again.stderr}`);
      assert.equal(await servedEvents(dir, projectId), 3, `killed before change ${at}, then again`);
      outcomes.push(`${at}: refused, then restored again`);
      // Or, as it says too, back to the database that was there (its -wal moved back first).
      const keep = join(root, `crash-at-${at}-kept`);
      assert.equal(await killed(keep), false);
      const said = await servedEvents(keep, projectId);
      assert.equal(typeof said, 'string');
      const backedUp = await runHerald(
        ['backup', '--data-dir', keep, '--to', join(root, `crash-at-${at}.db`)],
        {
          env,
        },
      );
      assert.equal(backedUp.code, 1);
      assert.match(backedUp.stderr, /an interrupted herald restore: .*\(nothing was written\)/);
      const steps =
        /or, to keep the database that was there, (?:move (\S+) back to (\S+), then )?delete (.+?)(?: \(and the restore's unfinished copy: (\S+)\))?$/.exec(
          String(said),
        );
      assert.ok(steps, String(said));
      if (steps[1] && steps[2]) renameSync(steps[1], steps[2]);
      for (const f of [...(steps[3] ?? '').split(', '), steps[4]]) if (f) unlinkSync(f);
      assert.equal(await servedEvents(keep, projectId), 8, `killed before change ${at}, then kept: ${said}`);
      assert.ok(!readdirSync(keep).some((f) => /before-restore|restoring/.test(f)), readdirSync(keep).join());
    } else {
      outcomes.push(`${at}: ${count ?? 'no project'} events`);
      // The old database (8) until the backup is in place, then the backup (3).
      assert.ok(count === 8 || count === 3, `killed before change ${at}: ${outcomes.join(', ')}`);
      if (count === 8) continue;
    }
    // Once the backup is in place, the database that was there is whole under its aside name.
    const aside = readdirSync(dir).filter((f) => f.startsWith('herald.db.before-restore-'));
    const base = aside.find((f) => !/-(wal|shm|journal)$/.test(f));
    assert.ok(base, `killed before change ${at}: ${aside.join(', ')}`);
    assert.deepEqual(aside.sort(), [base, `${base}-shm`, `${base}-wal`]);
    assert.equal(eventIdsIn(join(dir, base)).length, 8, `killed before change ${at}: the old database kept`);
    assert.ok(!readdirSync(dir).some((f) => f.includes('.restoring-')), readdirSync(dir).join(', '));
    if (finished) break;
  }
  assert.match(outcomes.at(-1) ?? '', /: 3 events$/, outcomes.join(', '));
});

test('a restore killed while it puts a backup in place of a symbolic link to the database is refused by serve too', async () => {
  // The database there: its last transaction (a marker table) only in its -wal.
  const real = join(root, 'symlinked-real');
  await migratedDataDir(real);
  const writer = spawnSync(
    join(ROOT, 'node_modules/.bin/node'),
    [
      '--input-type=module',
      '-e',
      `import { DatabaseSync } from 'node:sqlite'; const db = new DatabaseSync(${JSON.stringify(join(real, 'herald.db'))}); db.exec('PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE marker_old (x)'); process.kill(process.pid, 'SIGKILL');`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(writer.signal, 'SIGKILL', writer.stderr);
  const dataDir = join(root, 'symlinked');
  mkdirSync(dataDir, { mode: 0o700 });
  symlinkSync(join(real, 'herald.db'), join(dataDir, 'herald.db'));
  const backup = await backupOfNew('symlinked');

  // Killed before its 5th change: the old -wal's own name removed, the copy not yet in place.
  const killed = await restoreKilledAt(5, dataDir, backup, real);
  assert.equal(killed.code, null, killed.stderr);
  assert.ok(!readdirSync(real).includes('herald.db-wal'), readdirSync(real).join(', '));
  await assert.rejects(
    serve(dataDir),
    /an interrupted herald restore: .*symlinked-real\/herald\.db is still/,
  );
  const again = await herald(['restore', '--data-dir', dataDir, '--from', backup]);
  assert.equal(again.code, 0, again.stderr);
  const served = await serve(dataDir);
  await served.kill('SIGTERM');
  const aside = readdirSync(real).find(
    (f) => f.startsWith('herald.db.before-restore-') && !/-(wal|shm|journal)$/.test(f),
  );
  assert.ok(aside, readdirSync(real).join(', '));
  const kept = new DatabaseSync(join(real, aside), { readOnly: true });
  try {
    assert.ok(kept.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'marker_old'").get());
  } finally {
    kept.close();
  }
});

test('a restore into a new database killed before its copy was in place leaves a start refused, not an empty database', async () => {
  const backup = await backupOfNew('new-killed');
  const dataDir = join(root, 'new-killed');
  // Its one change of a name: the copy renamed over the empty file it made for its lock.
  const killed = await restoreKilledAt(1, dataDir, backup);
  assert.equal(killed.code, null, killed.stderr);
  assert.equal(statSync(join(dataDir, 'herald.db')).size, 0);
  await assert.rejects(
    serve(dataDir),
    /a herald restore into a new database, running or interrupted: .*herald\.db is the empty file it made, .*herald\.db\.restoring-\d+\) is not in place yet/,
  );
  assert.equal(statSync(join(dataDir, 'herald.db')).size, 0, 'the refused start made no database of it');
  const again = await herald(['restore', '--data-dir', dataDir, '--from', backup]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(readFileSync(join(dataDir, 'herald.db')).equals(readFileSync(backup)), 'the backup is in place');
  assert.ok(!readdirSync(dataDir).some((f) => f.includes('.restoring-')), readdirSync(dataDir).join(', '));
  await (await serve(dataDir)).kill('SIGTERM');
});
