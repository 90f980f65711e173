/**
 * run(argv, io) (src/cli/run.ts) writes to the io it is given and returns the exit code: nothing on
 * the process's own stdout or stderr, process.exitCode left as it was, and commander's exits
 * (--help, --version, a usage mistake) returned rather than ending the process. The tests that run
 * the CLI in their own process (test/support/run-herald-in-process.ts) rely on it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import packageJson from '../../package.json' with { type: 'json' };
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';

// What reaches the process's own streams while the runs go (node --test reads this file's stdout).
let leaked = '';
const writes = { out: process.stdout.write, err: process.stderr.write };
before(() => {
  const catching = (stream: NodeJS.WriteStream, original: typeof stream.write) =>
    ((chunk: string | Uint8Array, ...rest: never[]) => {
      leaked += chunk.toString();
      return original.call(stream, chunk, ...rest);
    }) as typeof stream.write;
  process.stdout.write = catching(process.stdout, writes.out);
  process.stderr.write = catching(process.stderr, writes.err);
});
after(() => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
});

test('--version, --help, a usage mistake and a refused command go to the io and return their exit code', async () => {
  const version = await runHeraldInProcess(['--version']);
  assert.deepEqual(version, { code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
  const help = await runHeraldInProcess(['events', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: herald events /);
  const unknown = await runHeraldInProcess(['events', 'list', '--bogus']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: unknown option '--bogus'\n/);
  const missing = await runHeraldInProcess(['events', 'list', '--url', 'http://127.0.0.1:9']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /required option '--project <project>' not specified/);
  const refused = await runHeraldInProcess(['events', 'list', '--project', 'p', '--url', 'localhost:9']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^herald: /);
  assert.equal(refused.stdout, '');
  assert.equal(leaked, '');
  assert.equal(process.exitCode, undefined);
});

test('the run reads the env it is given, not the process’s', async () => {
  process.env.HERALD_URL = 'http://127.0.0.1:1/not-this-one';
  try {
    const run = await runHeraldInProcess(['events', 'list', '--project', 'p', '--token', 't'], {
      env: { HERALD_URL: 'localhost:9' },
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /localhost:9/);
    assert.doesNotMatch(run.stderr, /not-this-one/);
  } finally {
    delete process.env.HERALD_URL;
  }
});
