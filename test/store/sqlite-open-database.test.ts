/**
 * What every Herald SQLite connection is opened with, and what an open that fails says. A process
 * out of file descriptors still writes (savepoint and statement journals stay in memory instead of
 * spilling to a new temp file: a child process under `ulimit -n 64` fills its descriptors, then
 * runs a large savepoint UPDATE), and a failed open on a full file system says so, naming the
 * directory and its free bytes (a real failed open; only statfs's answer is made up, since a full
 * file system cannot be had without mounting one), and an open of a new file another connection has
 * locked waits for it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { explainFullFileSystem, openDatabaseSqlite } from '../../src/store/sqlite/open-database.ts';
import { holdWriteLock } from './write-lock-holder.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-open-database-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The error `fn` throws (it must throw). */
function thrown(fn: () => unknown): Error & { errcode?: number; code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { errcode?: number };
  }
  assert.fail('expected a throw');
}

test('every connection keeps its temporary files in memory (temp_store = MEMORY)', () => {
  const db = openDatabaseSqlite(join(dir, 'pragma.db'), undefined);
  try {
    assert.equal(db.prepare('PRAGMA temp_store').get()!.temp_store, 2);
  } finally {
    db.close();
  }
});

test('opening a new file that another connection has locked (a process switching it to WAL) waits for the lock instead of failing "database is locked"', async () => {
  // Several `herald migrate` or serve starts on one new file: the first switches it to WAL under
  // its exclusive lock, and the others' switch used to run before their busy timeout was set
  // (8 processes opening a new file at once: 14 of 80 opens failed over 10 rounds).
  const file = join(dir, 'locked-new.db');
  // It lets go by itself after 300 ms: this thread is blocked in the open meanwhile.
  const holder = await holdWriteLock(file, 300, 'EXCLUSIVE');
  try {
    const db = openDatabaseSqlite(file, undefined);
    try {
      assert.equal(db.prepare('PRAGMA journal_mode').get()!.journal_mode, 'wal');
    } finally {
      db.close();
    }
  } finally {
    await holder.close();
  }
});

test('a connection opened by openDatabaseSqlite still writes a large savepoint when the process has no file descriptor left', () => {
  const moduleUrl = new URL('../../src/store/sqlite/open-database.ts', import.meta.url).href;
  const file = join(dir, 'no-fds.db');
  // Runs in a child with a low descriptor limit: fills every free descriptor, then writes as the
  // group commit does (BEGIN IMMEDIATE, a savepoint) with a journal well past SQLite's 64 KiB spill.
  const script = `
    import { openSync, closeSync } from 'node:fs';
    const { openDatabaseSqlite } = await import(${JSON.stringify(moduleUrl)});
    const db = openDatabaseSqlite(${JSON.stringify(file)}, undefined);
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    db.exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000) INSERT INTO t SELECT i, hex(randomblob(100)) FROM c");
    const fds = [];
    let full = '';
    try { for (;;) fds.push(openSync('/dev/null', 'r')); } catch (e) { full = e.code; }
    let result;
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('SAVEPOINT job');
      db.exec("UPDATE t SET v = v || 'x'");
      db.exec('RELEASE job');
      db.exec('COMMIT');
      result = 'ok';
    } catch (e) {
      result = 'failed: ' + e.errcode + ' ' + e.message;
    }
    for (const fd of fds) closeSync(fd);
    console.log(JSON.stringify({ full, filled: fds.length, result }));
  `;
  const out = execFileSync(
    '/bin/sh',
    ['-c', 'ulimit -n 64 && exec "$0" --no-warnings --input-type=module -e "$1"', process.execPath, script],
    { encoding: 'utf8' },
  );
  const { full, filled, result } = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(full, 'EMFILE');
  assert.ok(filled > 0);
  assert.equal(result, 'ok');
});

test('an open that fails on a full file system says so, naming the directory and its free bytes; the SQLite codes stay', () => {
  // A real failed open: a file that is not a database.
  const file = join(dir, 'not-a-database.db');
  writeFileSync(file, 'x'.repeat(4096));
  const error = thrown(() => openDatabaseSqlite(file, undefined));
  assert.equal(error.errcode, 26, String(error)); // SQLITE_NOTADB: the disk here is not full
  assert.doesNotMatch(error.message, /full/);

  const full = explainFullFileSystem(file, error, () => ({
    bavail: 0,
    bsize: 4096,
    ffree: 1000,
  })) as Error & {
    errcode?: number;
    code?: string;
  };
  assert.equal(
    full.message,
    `${error.message}: the file system holding ${dir} is full (it has 0 bytes free); free space there and start again`,
  );
  assert.equal(full.errcode, 26);
  assert.equal(full.code, 'ERR_SQLITE_ERROR');
  assert.equal(full.cause, error);

  const noInodes = explainFullFileSystem(file, error, () => ({
    bavail: 1e6,
    bsize: 4096,
    ffree: 0,
  })) as Error;
  assert.match(noInodes.message, /is full \(it has no free inodes\)/);
  // Room enough, or statfs failing: the error as it was.
  assert.equal(
    explainFullFileSystem(file, error, () => ({ bavail: 1e6, bsize: 4096, ffree: 1000 })),
    error,
  );
  assert.equal(
    explainFullFileSystem(file, error, () => {
      throw new Error('ENOENT');
    }),
    error,
  );
  assert.equal(
    explainFullFileSystem(':memory:', error, () => ({ bavail: 0, bsize: 4096, ffree: 0 })),
    error,
  );
});

test("a directory in place of the database: the open error is SQLite's own when the disk has room", () => {
  const path = join(dir, 'a-directory.db');
  mkdirSync(path);
  const error = thrown(() => openDatabaseSqlite(path, undefined));
  assert.equal(error.errcode, 14, String(error)); // SQLITE_CANTOPEN
  assert.equal(error.message, 'unable to open database file');
});
