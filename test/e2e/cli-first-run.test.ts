/**
 * What a newcomer following docs/cli.md meets: Herald not running or not found, no token, a test
 * send with no example to send, an idempotent replay, and `herald listen --endpoint` while the
 * endpoint gets a test send. Each message says what happened and what to do next.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');

/** Runs `herald ARGS` in `cwd` to completion. HERALD_* of the parent never leak in. */
function herald(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(NODE, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('the CLI without a Herald to talk to', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-first-run-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('connection refused: names the URL tried, where it came from, and --url / HERALD_URL', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const byFlag = await herald(['events', 'list', '--project', 'p', '--token', 't', '--url', url]);
    assert.equal(byFlag.code, 1);
    assert.match(
      byFlag.stderr,
      new RegExp(`^herald: cannot reach Herald at ${url} \\(from --url\\): connect ECONNREFUSED .*`),
    );
    assert.match(byFlag.stderr, /Is `herald serve` running there\? .*--url URL or HERALD_URL\n$/);
    const byEnv = await herald(['endpoints', 'list', '--project', 'p', '--token', 't'], { HERALD_URL: url });
    assert.equal(byEnv.code, 1);
    assert.match(byEnv.stderr, new RegExp(`^herald: cannot reach Herald at ${url} \\(from HERALD_URL\\)`));
    // listen says the same, at start.
    const listen = await herald([
      'listen',
      '--project',
      'p',
      '--token',
      't',
      '--url',
      url,
      '--forward-to',
      'http://127.0.0.1:9/hook',
    ]);
    assert.equal(listen.code, 1);
    assert.match(listen.stderr, new RegExp(`^herald: cannot reach Herald at ${url} \\(from --url\\)`));
  });

  test('no token: names HERALD_ADMIN_TOKEN and the admin-token file it looked for, and --data-dir', async () => {
    const none = await herald(['events', 'list', '--project', 'p'], {}, dir);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^herald: no token: pass --token, or set HERALD_TOKEN .* or HERALD_ADMIN_TOKEN\./,
    );
    assert.ok(
      none.stderr.includes(`from ${join(dir, 'herald-data', 'admin-token')}, which is not there`),
      none.stderr,
    );
    assert.match(none.stderr, /--data-dir or HERALD_DATA_DIR\n$/);
    const elsewhere = await herald(
      ['events', 'list', '--project', 'p', '--data-dir', join(dir, 'srv')],
      {},
      dir,
    );
    assert.ok(elsewhere.stderr.includes(`from ${join(dir, 'srv', 'admin-token')}, which`), elsewhere.stderr);
  });
});
