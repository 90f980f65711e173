/**
 * The browser tests' dashboard build is published into the directory `herald serve` serves without
 * ever taking a file away or showing part of one (test/support/dashboard-build.ts): other test
 * files' pages load from it at the same time. Unchanged files are not written at all; a changed
 * build's assets arrive before the index.html that names them; the older assets stay.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { publishBuild } from '../support/dashboard-build.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A build directory holding `files` (path → content). */
function buildOf(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-publish-'));
  dirs.push(dir);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  return dir;
}

const index = (asset: string) => `<script type="module" src="/ui/assets/${asset}"></script>`;

test('assets before index.html; an unchanged build writes nothing; older assets stay; no temporary file is left', () => {
  const served = buildOf({});
  const first = buildOf({
    'index.html': index('index-1.js'),
    'index.html.br': 'br of index 1',
    'assets/index-1.js': 'one',
    'assets/index-1.js.br': 'br of one',
    'favicon.svg': '<svg/>',
  });
  assert.deepEqual(publishBuild(first, served), [
    'assets/index-1.js',
    'assets/index-1.js.br',
    'favicon.svg',
    'index.html',
    'index.html.br',
  ]);
  const before = statSync(join(served, 'assets/index-1.js')).mtimeMs;

  // The same tree built again (another test file's before()): nothing in the served directory is touched.
  assert.deepEqual(publishBuild(first, served), []);
  assert.equal(statSync(join(served, 'assets/index-1.js')).mtimeMs, before);

  // A changed UI: its asset first, then the index naming it; the older asset is still served.
  const second = buildOf({
    'index.html': index('index-2.js'),
    'index.html.br': 'br of index 2',
    'assets/index-2.js': 'two',
    'favicon.svg': '<svg/>',
  });
  assert.deepEqual(publishBuild(second, served), ['assets/index-2.js', 'index.html', 'index.html.br']);
  assert.equal(readFileSync(join(served, 'index.html'), 'utf8'), index('index-2.js'));
  assert.equal(readFileSync(join(served, 'assets/index-1.js'), 'utf8'), 'one');
  assert.deepEqual(
    readdirSync(served, { recursive: true }).filter((name) => String(name).includes('.tmp')),
    [],
  );
});
