import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { checkpointAfterCommit } from '../../src/store/sqlite/checkpoint-after-commit.ts';
import { openDatabaseSqlite } from '../../src/store/sqlite/open-database.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-checkpoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A WAL database without automatic checkpoints, holding ~1 MiB written since its last checkpoint. */
function filled(name: string): { db: DatabaseSync; file: string } {
  const file = join(dir, name);
  const db = openDatabaseSqlite(file, 0);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.exec('BEGIN');
  for (let i = 0; i < 1024; i++) insert.run('x'.repeat(1024));
  db.exec('COMMIT');
  return { db, file };
}

describe('checkpoints after commits (sqlite)', () => {
  test('a commit the interval allows copies the WAL into the database file after it, not during', async () => {
    const { db, file } = filled('due.db');
    let t = 0;
    const committed = checkpointAfterCommit(
      db,
      () => false,
      1_000,
      () => t,
    );
    const before = statSync(file).size;
    assert.ok(before < 64 * 1024, `the rows are still only in the WAL (${before} bytes)`);
    t = 1_000;
    committed();
    assert.equal(statSync(file).size, before, 'nothing is copied while the commit returns');
    await nextTurn();
    assert.ok(statSync(file).size > 1024 * 1024, 'copied on the next turn of the event loop');
    db.close();
  });

  test('at most one checkpoint per interval, and none once the store is closed', async () => {
    const { db, file } = filled('early.db');
    let t = 0;
    let closed = false;
    const committed = checkpointAfterCommit(
      db,
      () => closed,
      1_000,
      () => t,
    );
    const before = statSync(file).size;
    t = 999;
    committed();
    await nextTurn();
    assert.equal(statSync(file).size, before, 'not yet: the last one (the start) is 999 ms old');
    t = 1_000;
    closed = true;
    committed();
    await nextTurn();
    assert.equal(statSync(file).size, before, 'closed: nothing runs');
    closed = false;
    t = 2_000;
    committed();
    await nextTurn();
    assert.ok(statSync(file).size > 1024 * 1024);
    db.close();
  });
});
