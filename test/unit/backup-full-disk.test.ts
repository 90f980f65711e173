/**
 * `herald backup` on a full file system (backup-run.ts): SQLite's word for a copy that could not
 * grow is "disk I/O error", which sends an operator looking for a broken disk. The failure now says
 * the target's file system is full, with its free bytes, as a start on a full one does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { copyFailed } from '../../src/cli/commands/backup-run.ts';
import { vacuumInto } from '../../src/store/sqlite/vacuum-into.ts';

const root = mkdtempSync(join(tmpdir(), 'herald-backup-full-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A real failure of the copy (its target's directory missing), standing in for SQLite's "disk I/O error". */
async function realCopyFailure(): Promise<Error> {
  try {
    await vacuumInto(join(root, 'missing.db'), join(root, 'no-such-dir', 'copy.db'));
  } catch (error) {
    return error as Error;
  }
  throw new Error('the copy did not fail');
}

test('a copy that fails where the target has less than 1 MiB free says the file system is full and what to do', async () => {
  const cause = await realCopyFailure();
  const partial = join(root, 'herald.db.partial-1');
  const error = copyFailed('/srv/herald/herald.db', partial, cause, () => ({
    bavail: 3,
    bsize: 4096,
    ffree: 100,
  }));
  assert.equal(error.message, `the copy of /srv/herald/herald.db into ${partial} failed (nothing was kept)`);
  assert.equal(
    (error.cause as Error).message,
    `${cause.message}: the file system holding ${root} is full (it has 12288 bytes free); free space there, or back up to another file system, and run herald backup again`,
  );
});

test('with room on the target, the copy failure is told as it was', async () => {
  const cause = await realCopyFailure();
  const error = copyFailed('/srv/herald/herald.db', join(root, 'x.partial-1'), cause, () => ({
    bavail: 1e6,
    bsize: 4096,
    ffree: 100,
  }));
  assert.equal(error.cause, cause);
});
