/**
 * Mistakes on the `herald` command line, and answers that are not Herald's, end with one line naming
 * the flag (exit 1), never a stack trace nor a silent change of meaning; tenant-controlled text is
 * printed with its control characters made visible. Real CLI processes against a real `herald serve`.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { type HeraldProcess, runHerald, startHerald } from './harness.ts';

const ADMIN = 'cli-input-checks-token-0123456789';

const herald = (args: string[], env: Record<string, string> = {}) =>
  runHerald(args, { env, killAfterMs: 20_000 });

/** One line on stderr starting with `herald: `, no stack trace. */
function oneLine(stderr: string): void {
  assert.match(stderr, /^herald: [^\n]+\n$/, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe('herald CLI: input mistakes and foreign answers', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  before(async () => {
    server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
  });
  after(async () => {
    await client?.close();
    await server?.dispose();
  });

  test('--types with an empty item is refused naming --types (it used to remove the filter: every type)', async () => {
    const project = await client.createProject({ name: 'types' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    for (const types of [',,', ' , ', 'a,,b', 'a,']) {
      const created = await herald([
        'endpoints',
        'create',
        'https://hooks.example/x',
        ...conn,
        '--types',
        types,
      ]);
      assert.equal(created.code, 1, created.stdout);
      oneLine(created.stderr);
      assert.match(
        created.stderr,
        /^herald: --types: item \d of .* is empty: .*for every type, leave out --types/,
      );
    }
    assert.equal((await client.listEndpoints(project.id)).data.length, 0);

    const endpoint = await client.createEndpoint(project.id, {
      url: 'https://hooks.example/y',
      eventTypes: ['player.paid'],
    });
    const updated = await herald(['endpoints', 'update', endpoint.id, ...conn, '--types', ' , ']);
    assert.equal(updated.code, 1, updated.stdout);
    oneLine(updated.stderr);
    assert.match(updated.stderr, /^herald: --types: .*for every type, give --all-types/);
    assert.deepEqual((await client.getEndpoint(project.id, endpoint.id)).eventTypes, ['player.paid']);

    const listened = await herald([
      'listen',
      ...conn,
      '--forward-to',
      'http://127.0.0.1:9/hook',
      '--types',
      ',',
    ]);
    assert.equal(listened.code, 1, listened.stdout);
    oneLine(listened.stderr);
    assert.match(listened.stderr, /^herald: --types: /);
  });

  test('--url at something that is not Herald: one line asking whether it is a Herald server, no stack trace', async () => {
    // Answers 200 `ok` to reads, 500 `boom` to anything else, in plain text.
    const foreign = createServer((req, res) => {
      req.resume();
      if (req.method === 'GET') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      else res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    try {
      const list = await herald(['events', 'list', '--project', 'p', '--url', url, '--token', 't']);
      assert.equal(list.code, 1);
      assert.equal(list.stdout, '');
      assert.equal(
        list.stderr,
        `herald: ${url} answered 200 with a body that is not JSON: is --url a Herald server?\n`,
      );
      const fromEnv = await herald(['projects', 'list'], { HERALD_URL: url, HERALD_TOKEN: 't' });
      assert.equal(fromEnv.code, 1);
      assert.equal(
        fromEnv.stderr,
        `herald: ${url} answered 200 with a body that is not JSON: is HERALD_URL a Herald server?\n`,
      );
      const send = await herald(['events', 'send', 'x', '--project', 'p', '--url', url, '--token', 't']);
      assert.equal(send.code, 1);
      assert.equal(
        send.stderr,
        `herald: 500 http_500: boom (from ${url}, an answer not in Herald's error format: is --url a Herald server?)\n`,
      );
      const listen = await herald([
        'listen',
        '--project',
        'p',
        '--url',
        url,
        '--token',
        't',
        '--forward-to',
        'http://127.0.0.1:9/hook',
      ]);
      assert.equal(listen.code, 1, listen.stdout);
      oneLine(listen.stderr);
      assert.match(listen.stderr, /answered 200 with a body that is not JSON: is --url a Herald server\?/);
    } finally {
      foreign.closeAllConnections();
      await new Promise<void>((r) => foreign.close(() => r()));
    }
  });

  test('listen --secret that is not a standard secret is refused at start naming --secret (it used to fail on every event)', async () => {
    const project = await client.createProject({ name: 'listen-secret' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    for (const secret of ['short', 'whsec_not base64!']) {
      const run = await herald([
        'listen',
        ...conn,
        '--forward-to',
        'http://127.0.0.1:9/hook',
        '--secret',
        secret,
      ]);
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stdout, '');
      oneLine(run.stderr);
      assert.match(run.stderr, /^herald: --secret: a standard secret must be whsec_ followed by base64/);
      assert.ok(!run.stderr.includes(secret), 'the secret is not repeated');
    }
  });
});
