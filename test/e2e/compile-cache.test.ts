/**
 * bin/herald.js turns on Node's compile cache, in its default place (node-compile-cache in the
 * temporary directory, here a TMPDIR of the test's own): a run leaves the compiled modules there,
 * the next run starts from them, and NODE_DISABLE_COMPILE_CACHE=1 still turns it off.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runHerald } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-compile-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The cache's entries: Node keeps them in one subdirectory per Node version, architecture and user. */
function entries(tmp: string): string[] {
  const cache = join(tmp, 'node-compile-cache');
  if (!existsSync(cache)) return [];
  return readdirSync(cache).flatMap((sub) => readdirSync(join(cache, sub)));
}

test('a run fills the compile cache and the next one starts from it; NODE_DISABLE_COMPILE_CACHE=1 leaves none', async () => {
  const on = join(dir, 'on');
  mkdirSync(on);
  const first = await runHerald(['--version'], { env: { TMPDIR: on } });
  assert.equal(first.code, 0, first.stderr);
  const filled = entries(on);
  // The CLI's own modules at least (src/cli/main.ts and what it imports: ~200 with the client).
  assert.ok(filled.length > 50, `cache entries after a run: ${filled.length}`);
  const second = await runHerald(['--version'], { env: { TMPDIR: on } });
  assert.deepEqual([second.code, second.stdout], [first.code, first.stdout]);
  assert.equal(entries(on).length, filled.length, 'the second run found every module cached');

  const off = join(dir, 'off');
  mkdirSync(off);
  const disabled = await runHerald(['--version'], { env: { TMPDIR: off, NODE_DISABLE_COMPILE_CACHE: '1' } });
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.deepEqual(entries(off), []);
});
