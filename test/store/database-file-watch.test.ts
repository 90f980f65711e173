/** watchDatabaseFile on real files: deleted, replaced, left alone, and how often it looks. */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  CHECK_EVERY_MS,
  isDatabaseFileGone,
  watchDatabaseFile,
} from '../../src/store/sqlite/database-file-watch.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-file-watch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const goneWith = (pattern: RegExp) => (error: unknown) =>
  isDatabaseFileGone(error) && pattern.test(String(error));

test('a file left alone passes; deleted, it fails from the next look on, for good', () => {
  const path = join(dir, 'a.db');
  writeFileSync(path, 'x');
  const watch = watchDatabaseFile(path);
  watch.check(0);
  rmSync(path);
  watch.check(CHECK_EVERY_MS - 1); // looked at most once per CHECK_EVERY_MS
  assert.throws(() => watch.check(CHECK_EVERY_MS), goneWith(/was deleted/));
  writeFileSync(path, 'back');
  assert.throws(
    () => watch.check(10 * CHECK_EVERY_MS),
    goneWith(/was deleted/),
    'a new file is not the one opened',
  );
});

test('a file replaced by another (same path, another inode) fails', () => {
  const path = join(dir, 'b.db');
  writeFileSync(path, 'x');
  const watch = watchDatabaseFile(path);
  writeFileSync(join(dir, 'other.db'), 'y');
  renameSync(join(dir, 'other.db'), path);
  assert.throws(() => watch.check(0), goneWith(/was replaced by another file/));
});

test('an in-memory database is never gone', () => {
  watchDatabaseFile(null).check(0);
});
