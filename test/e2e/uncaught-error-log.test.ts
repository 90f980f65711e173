/**
 * A bug that throws outside any handler (an exception in a timer, a rejected promise nobody
 * awaits) ends `herald serve`. Node's own report of it is a stack of many plain-text lines on
 * stderr, which a log pipeline takes as as many entries, none of them JSON: the process now writes
 * one fatal JSON line with the error and its stack as fields, and still exits with code 1. The bug
 * is put into a real process with `--import` of a module that throws once Herald is up: when the
 * test, Herald ready, makes the module's trigger file. (It threw 5 s after it was loaded: on a
 * loaded machine Herald was not ready by then, and the test failed on "herald exited before it
 * was ready"; on a quiet one each test waited out the rest of the 5 s.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { within } from '../support/wait-until.ts';
import { startHerald } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-uncaught-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A module that, in the main thread, fails in `how` in a timer once `trigger` exists (the test
 * makes it once Herald is up); it looks every 20 ms.
 */
function bug(how: 'throw' | 'reject', trigger: string): string {
  const file = join(dir, `${how}.mjs`);
  const fail =
    how === 'throw'
      ? "throw new Error('a bug outside any handler (throw)');"
      : "Promise.reject(new Error('a bug outside any handler (reject)'));";
  writeFileSync(
    file,
    [
      "import { existsSync } from 'node:fs';",
      "import { isMainThread } from 'node:worker_threads';",
      'if (isMainThread) {',
      '  const timer = setInterval(() => {',
      `    if (!existsSync(${JSON.stringify(trigger)})) return;`,
      '    clearInterval(timer);',
      `    ${fail}`,
      '  }, 20);',
      '  timer.unref();',
      '}',
      '',
    ].join('\n'),
  );
  return file;
}

for (const how of ['throw', 'reject'] as const) {
  test(`an uncaught error (${how}) is one fatal JSON line, and the process exits with code 1`, async () => {
    const trigger = join(dir, `${how}.now`);
    const herald = await startHerald({
      env: {
        HERALD_ADMIN_TOKEN: 'e2e-uncaught-token-0123456789abcdef',
        NODE_OPTIONS: `--import=${bug(how, trigger)}`,
      },
    });
    try {
      writeFileSync(trigger, '');
      const exit = await within(herald.exited, 15_000, null);
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
