/**
 * The token of the API commands (`--token`, HERALD_TOKEN, HERALD_ADMIN_TOKEN, or the admin token a
 * local `herald serve` saved): one that cannot be a Herald token is refused before it is sent,
 * naming where it came from, and never printed. The CLI run in this process (run-herald-in-process.ts) against a real HTTP server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, startHerald } from './harness.ts';

describe('herald CLI: tokens that cannot be sent', () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"error":{"code":"HERALD_ERR_UNAUTHORIZED","message":"missing or invalid bearer token"}}');
  });
  let url: string;
  before(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  test('a character no Herald token has (smart quotes, a zero-width space, a CR) is refused naming its source, unsent', async () => {
    // A token copied from a chat or a document (typographic quotes, a zero-width space), or from an
    // env file with CRLF lines: each ended in "no answer from Herald at … Is --url a Herald server?"
    // after three tries, since the HTTP client refuses such a header before sending it.
    const cases: { args: string[]; env: Record<string, string>; source: string; what: RegExp }[] = [
      { args: ['--token', '\u201chk_secret-token-1\u201d'], env: {}, source: '--token', what: /U\+201C/ },
      { args: [], env: { HERALD_TOKEN: 'hk_secret\u200b-token-2' }, source: 'HERALD_TOKEN', what: /U\+200B/ },
      {
        args: [],
        env: { HERALD_ADMIN_TOKEN: 'secret\r-token-3' },
        source: 'HERALD_ADMIN_TOKEN',
        what: /U\+000D/,
      },
      { args: ['--token', 'hk_secret token-4'], env: {}, source: '--token', what: /U\+0020/ },
    ];
    for (const { args, env, source, what } of cases) {
      const run = await runHeraldInProcess(['projects', 'list', '--url', url, ...args], {
        env,
        killAfterMs: 20_000,
      });
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`^herald: ${source}: `), run.stderr);
      assert.match(run.stderr, what, run.stderr);
      assert.doesNotMatch(run.stderr, /secret|no answer|Herald server/, run.stderr);
      assert.match(run.stderr, /^[^\n]+\n$/, run.stderr);
    }
    assert.equal(requests, 0, 'nothing was sent');
  });
});

describe('herald CLI: a token Herald refuses', () => {
  const ADMIN = 'cli-token-checks-admin-0123456789';
  let server: HeraldProcess;
  let dir: string;
  before(async () => {
    server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
    dir = mkdtempSync(join(tmpdir(), 'herald-saved-token-'));
  });
  after(async () => {
    await server?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a 401 says which token was sent: the flag, the variable, or the admin token saved in a data directory', async () => {
    // The token is found in one of four places, silently: with a 401 alone, an operator whose
    // HERALD_TOKEN (a revoked key) shadows a good HERALD_ADMIN_TOKEN, or whose ./herald-data keeps
    // the admin token of an earlier `herald serve`, had nothing to go on.
    writeFileSync(join(dir, 'admin-token'), 'stale-admin-token-0123456789\n');
    const cases: { args: string[]; env: Record<string, string>; says: RegExp }[] = [
      { args: ['--token', 'hk_revoked'], env: {}, says: /: the token sent was --token's$/ },
      {
        args: [],
        env: { HERALD_TOKEN: 'hk_revoked', HERALD_ADMIN_TOKEN: ADMIN },
        says: /: the token sent was HERALD_TOKEN's \(HERALD_ADMIN_TOKEN is set too, and comes after it\)$/,
      },
      {
        args: [],
        env: { HERALD_ADMIN_TOKEN: 'wrong-admin-token-0123' },
        says: /: the token sent was HERALD_ADMIN_TOKEN's$/,
      },
      {
        args: ['--data-dir', dir],
        env: {},
        says: new RegExp(
          `: the token sent was the admin token saved in ${join(dir, 'admin-token')} \\(by a herald serve started on that data directory without HERALD_ADMIN_TOKEN\\), which this Herald does not take: pass --token or set HERALD_TOKEN$`,
        ),
      },
    ];
    for (const { args, env, says } of cases) {
      const run = await runHeraldInProcess(['projects', 'list', '--url', server.url, ...args], {
        env,
        killAfterMs: 20_000,
      });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^herald: 401 HERALD_ERR_UNAUTHORIZED: [^\n]+\n$/, run.stderr);
      assert.match(run.stderr.trimEnd(), says, run.stderr);
      assert.doesNotMatch(run.stderr, /revoked|stale|wrong-admin/, 'the token itself is never printed');
    }
  });
});
