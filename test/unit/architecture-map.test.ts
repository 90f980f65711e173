/**
 * docs/architecture.md's file map (its first code block) is the layout of the repository: every
 * path it names exists, and every entry at the top of src/ (directory or file) is named in it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const MAP = /```\n([\s\S]*?)\n```/.exec(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'))?.[1] ?? '';

/** Paths the map names: words that start with one of the repository's top-level directories. */
function namedPaths(): string[] {
  return [...MAP.matchAll(/(?<![\w./-])((?:src|test|bench|bin|packages|scripts)\/[\w./-]*)/g)].map((m) =>
    m[1]!.replace(/[.,;:]+$/, ''),
  );
}

test('every path the file map names exists', () => {
  const paths = namedPaths();
  assert.ok(paths.length > 20, `found the map's paths: ${paths.join(', ')}`);
  assert.deepEqual(
    paths.filter((p) => !existsSync(join(ROOT, p))),
    [],
  );
});

test('the file map names every directory and file at the top of src/', () => {
  const named = namedPaths();
  // `src/store/store.ts` names src/store too.
  const missing = readdirSync(join(ROOT, 'src'))
    .map((name) => `src/${name}`)
    .filter((path) => !named.some((p) => p === path || p.startsWith(`${path}/`)));
  assert.deepEqual(missing, []);
});
