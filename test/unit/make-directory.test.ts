/** The data directory's `mkdir -p` (make-directory.ts): what it makes, and that it always returns. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeDirectory } from '../../src/config/make-directory.ts';

const root = mkdtempSync(join(tmpdir(), 'herald-mkdir-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('makes the directory and its missing parents, each with the mode; one that exists is fine', () => {
  const deep = join(root, 'a', 'b', 'c');
  makeDirectory(deep, 0o700);
  for (const dir of [join(root, 'a'), join(root, 'a', 'b'), deep]) {
    const st = statSync(dir);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o700, dir);
  }
  makeDirectory(deep, 0o700);
  makeDirectory(root, 0o700);
});

test('a file in the way is ENOTDIR, at the end of the path or inside it', () => {
  const file = join(root, 'file');
  writeFileSync(file, 'x');
  assert.throws(() => makeDirectory(file, 0o700), { code: 'ENOTDIR' });
  assert.throws(() => makeDirectory(join(file, 'x', 'y'), 0o700), { code: 'ENOTDIR' });
});

test("a directory under /proc fails at once (Node's recursive mkdir loops there forever)", () => {
  const started = performance.now();
  assert.throws(() => makeDirectory('/proc/herald-test/data', 0o700), { code: 'ENOENT' });
  assert.ok(performance.now() - started < 1_000);
});
