/**
 * Herald's address for the API commands (`--url`, HERALD_URL) is its root URL: a portal link (the
 * dashboard's `/ui/portal#token=hpt_…`, a credential) or another dashboard page given instead is
 * refused before anything is sent, naming the setting and the root to give, and the link's token
 * is never printed. The CLI run in this process (run-herald-in-process.ts) against a loopback HTTP server that counts what it gets.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';

describe("herald CLI: an address that is not Herald's root", () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    // What Herald answers for a dashboard path: its page.
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Herald</title>');
  });
  let origin: string;
  before(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  test('a portal link or a dashboard page as --url or HERALD_URL: refused, unsent, its token not printed', async () => {
    // Before: the request went to /ui/portal/api/v1/projects, and the error quoted the whole link,
    // its portal token (which manages the project's endpoints until it expires) included.
    const link = `${origin}/ui/portal#token=hpt_eyJwcm9qZWN0SWQiOiJwcmpfMDEifQ.c2VjcmV0LXNpZ25hdHVyZQ`;
    const cases: { args: string[]; env: Record<string, string>; source: string }[] = [
      { args: ['--url', link], env: {}, source: '--url' },
      { args: [], env: { HERALD_URL: link }, source: 'HERALD_URL' },
      { args: ['--url', `${origin}/ui/projects/space-raiders`], env: {}, source: '--url' },
      { args: ['--url', `${origin}/?token=c2VjcmV0`], env: {}, source: '--url' },
    ];
    for (const { args, env, source } of cases) {
      const run = await runHeraldInProcess(['projects', 'list', '--token', 'hk_0123456789', ...args], {
        env,
        killAfterMs: 20_000,
      });
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`^herald: ${source}: [^\\n]+\\n$`), run.stderr);
      assert.ok(run.stderr.includes(`give its root URL, ${origin}`), run.stderr);
      assert.doesNotMatch(run.stderr, /hpt_|eyJ|c2VjcmV0|Herald server\?/, run.stderr);
    }
    assert.equal(requests, 0, 'nothing was sent');
  });
});
