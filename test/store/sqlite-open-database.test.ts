/**
 * What every Herald SQLite connection is opened with, and what an open that fails says. A process
 * out of file descriptors still writes (savepoint and statement journals stay in memory instead of
 * spilling to a new temp file: a child process under `ulimit -n 64` fills its descriptors, then
 * runs a large savepoint UPDATE).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDatabaseSqlite } from '../../src/store/sqlite/open-database.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-open-database-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('every connection keeps its temporary files in memory (temp_store = MEMORY)', () => {
  const db = openDatabaseSqlite(join(dir, 'pragma.db'), undefined);
  try {
    assert.equal(db.prepare('PRAGMA temp_store').get()!.temp_store, 2);
  } finally {
    db.close();
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
