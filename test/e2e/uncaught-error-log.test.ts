/**
 * A bug that throws outside any handler (an exception in a timer, a rejected promise nobody
 * awaits) ends `herald serve`. Node's own report of it is a stack of many plain-text lines on
 * stderr, which a log pipeline takes as as many entries, none of them JSON: the process now writes
 * one fatal JSON line with the error and its stack as fields, and still exits with code 1. The bug
 * is put into a real process with `--import` of a module that throws once Herald is up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startHerald } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-uncaught-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A module that, in the main thread, fails in `how` 5 s after it is loaded (once Herald is up). */
function bug(how: 'throw' | 'reject'): string {
  const file = join(dir, `${how}.mjs`);
  const fail =
    how === 'throw'
      ? "throw new Error('a bug outside any handler (throw)');"
      : "Promise.reject(new Error('a bug outside any handler (reject)'));";
  writeFileSync(
    file,
    `import { isMainThread } from 'node:worker_threads';\nif (isMainThread) setTimeout(() => { ${fail} }, 5000);\n`,
  );
  return file;
}

for (const how of ['throw', 'reject'] as const) {
  test(`an uncaught error (${how}) is one fatal JSON line, and the process exits with code 1`, async () => {
    const herald = await startHerald({
      env: {
        HERALD_ADMIN_TOKEN: 'e2e-uncaught-token-0123456789abcdef',
        NODE_OPTIONS: `--import=${bug(how)}`,
      },
    });
    try {
      const exit = await Promise.race([
        herald.exited,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000)),
      ]);
      assert.deepEqual(exit, { code: 1, signal: null }, herald.output().slice(-2000));
      const lines = herald
        .output()
        .split('\n')
        .filter((line) => line.trim() !== '');
      const notJson = lines.filter((line) => {
        try {
          return typeof JSON.parse(line) !== 'object';
        } catch {
          return true;
        }
      });
      assert.deepEqual(notJson, [], 'lines that are not JSON');
      const fatal = herald.logLines().find((l) => l.level === 60);
      assert.ok(fatal, herald.output());
      assert.match(String(fatal.msg), /uncaught/);
      const err = fatal.err as { message?: string; stack?: string };
      assert.equal(err.message, `a bug outside any handler (${how})`);
      assert.ok(err.stack?.includes('.mjs'), 'the stack is a field');
    } finally {
      await herald.dispose();
    }
  });
}
