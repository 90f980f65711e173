/**
 * What a newcomer following docs/cli.md meets: Herald not running or not found, no token, a test
 * send with no example to send, an idempotent replay, and `herald listen --endpoint` while the
 * endpoint gets a test send. Each message says what happened and what to do next.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, type Receiver, runHerald, startHerald, startReceiver } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');
const ADMIN = 'cli-first-run-token-0123456789abcdef';

/**
 * Runs `herald ARGS` in `cwd` to completion: in this process (run-herald-in-process.ts) where it
 * stands; elsewhere in a process of its own (harness.ts runHerald), as the working directory is a
 * process's.
 */
const herald = (args: string[], env: Record<string, string> = {}, cwd = ROOT) =>
  resolve(cwd) === process.cwd() ? runHeraldInProcess(args, { env }) : runHerald(args, { env, cwd });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    // A password in the URL is not printed.
    const withPassword = await herald(['endpoints', 'list', '--project', 'p', '--token', 't'], {
      HERALD_URL: `http://ops:hunter2-secret@127.0.0.1:${port}`,
    });
    assert.equal(withPassword.code, 1);
    assert.match(
      withPassword.stderr,
      new RegExp(`cannot reach Herald at http://\\*\\*\\*@127\\.0\\.0\\.1:${port}`),
    );
    assert.doesNotMatch(withPassword.stderr, /hunter2|ops:/);
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

  test('connection refused to a command that makes something: nothing was sent, so nothing "may have been made"', async () => {
    // Every try refused (Herald not running): no request reached anything, as docs/cli.md says of
    // an unreachable Herald. Before, the client counted the refused tries as sent, and these
    // commands said "no answer … Is --url a Herald server? The endpoint may have been created".
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const commands = [
      ['events', 'send', 'player.joined', '--project', 'p'],
      ['endpoints', 'create', 'https://hooks.example.com/h', '--project', 'p'],
      ['projects', 'api-key', 'p', '--name', 'backend'],
      ['portal-links', 'create', 'p'],
    ];
    for (const args of commands) {
      const run = await herald([...args, '--token', 't', '--url', url]);
      assert.equal(run.code, 1, args.join(' '));
      assert.match(
        run.stderr,
        new RegExp(`^herald: cannot reach Herald at ${url} \\(from --url\\): connect ECONNREFUSED .*`),
        args.join(' '),
      );
      assert.doesNotMatch(run.stderr, /no answer|may have been|idempotency-key/, args.join(' '));
    }
  });

  test('no token: names HERALD_ADMIN_TOKEN and the admin-token file it looked for, and --data-dir', async () => {
    const none = await herald(['events', 'list', '--project', 'p'], {}, dir);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^herald: no token: pass --token, or set HERALD_TOKEN .* or HERALD_ADMIN_TOKEN\./,
    );
    assert.ok(
      none.stderr.includes(
        `from ${join(dir, 'herald-data', 'admin-token')}, which is missing, empty or unreadable`,
      ),
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

  test('no token where a database but no admin-token is (serve started with HERALD_ADMIN_TOKEN): says to give that token, not to change directory', async () => {
    // As the README's walkthrough leaves it: HERALD_ADMIN_TOKEN exported in serve's terminal only.
    const served = join(dir, 'served-with-token');
    mkdirSync(join(served, 'herald-data'), { recursive: true });
    writeFileSync(join(served, 'herald-data', 'herald.db'), '');
    const none = await herald(['projects', 'list'], {}, served);
    assert.equal(none.code, 1);
    assert.equal(
      none.stderr,
      `herald: no token: pass --token, or set HERALD_TOKEN (a project API key or the admin token) or HERALD_ADMIN_TOKEN. ${join(served, 'herald-data')} holds a database but no admin-token file: the herald serve using it was started with HERALD_ADMIN_TOKEN, which it does not save; give that token\n`,
    );
  });

  test('the saved admin token goes to a Herald on this machine only: another host gets no token, said so', async () => {
    const data = join(dir, 'saved');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'admin-token'), 'hrld_admin_saved_token_0123456789\n');
    // 0.0.0.0 is not a loopback URL, yet a connection to it stays on this machine (Linux): had the
    // token been sent, it would have gone nowhere else.
    const remote = await herald(
      ['events', 'list', '--project', 'p', '--data-dir', data, '--url', 'http://0.0.0.0:9'],
      {},
      dir,
    );
    assert.equal(remote.code, 1);
    assert.match(remote.stderr, /^herald: no token for http:\/\/0\.0\.0\.0:9\/?: pass --token/);
    assert.match(remote.stderr, /goes only to a Herald on this machine .* and --url names another host\n$/);
    assert.ok(!remote.stderr.includes('hrld_admin_saved_token'), remote.stderr);
  });

  test('a URL without http:// (host:port) is named as such, with or without a token, not as another host', async () => {
    const data = join(dir, 'saved-for-url');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'admin-token'), 'hrld_admin_saved_token_0123456789\n');
    const cases: [string[], Record<string, string>, string][] = [
      [['--url', '127.0.0.1:8080'], {}, '--url'],
      [['--url', 'localhost:8080'], {}, '--url'],
      [[], { HERALD_URL: '127.0.0.1:8080' }, 'HERALD_URL'],
      [['--url', 'localhost:8080', '--token', 't'], {}, '--url'],
      [['--url', 'ftp://127.0.0.1:8080', '--token', 't'], {}, '--url'],
    ];
    for (const [flags, env, source] of cases) {
      const given = flags[flags.indexOf('--url') + 1] ?? env.HERALD_URL;
      for (const args of [
        ['events', 'list', '--project', 'p'],
        ['listen', '--project', 'p', '--forward-to', 'http://127.0.0.1:9/hook'],
      ]) {
        const run = await herald([...args, '--data-dir', data, ...flags], env, dir);
        assert.equal(run.code, 1, run.stderr);
        assert.equal(
          run.stderr,
          `herald: ${source}: expected Herald's address as an http:// or https:// URL (such as http://127.0.0.1:8080), got ${JSON.stringify(given)}\n`,
        );
      }
    }
  });
});

describe('the CLI against a fresh Herald', () => {
  let server: HeraldProcess;
  let client: HeraldClient;
  let sink: Receiver;
  let receiver: Receiver;
  const children: ChildProcess[] = [];
  before(async () => {
    server = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
    client = new HeraldClient({ url: server.url, token: ADMIN });
    sink = await startReceiver();
    receiver = await startReceiver();
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await receiver?.close();
    await client?.close();
    await sink?.close();
    await server?.dispose();
  });

  test('endpoints test with no example to send: says which types it tried and how to give or add one', async () => {
    const project = await client.createProject({ name: 'test-send' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const filtered = await client.createEndpoint(project.id, {
      url: `${sink.url}/filtered`,
      eventTypes: ['player.purchase', 'player.joined'],
    });
    const noType = await herald(['endpoints', 'test', filtered.id, ...conn]);
    assert.equal(noType.code, 1);
    assert.match(
      noType.stderr,
      /^herald: 422 HERALD_ERR_UNPROCESSABLE: without --type it tries the endpoint's event types \(player\.purchase, player\.joined\) and none has an example/,
    );
    assert.match(noType.stderr, /give a type that has one with --type TYPE/);
    assert.match(noType.stderr, /`herald event-types import FILE`/);
    assert.doesNotMatch(noType.stderr, /HERALD_ERR_UNPROCESSABLE: --type/, '--type was not given');

    const every = await client.createEndpoint(project.id, { url: `${sink.url}/every` });
    const all = await herald(['endpoints', 'test', every.id, ...conn]);
    assert.equal(all.code, 1);
    assert.match(all.stderr, /the endpoint takes every type\), and the catalog has none; give a type/);

    const named = await herald(['endpoints', 'test', every.id, ...conn, '--type', 'level.completed']);
    assert.equal(named.code, 1);
    assert.match(
      named.stderr,
      /^herald: 422 HERALD_ERR_UNPROCESSABLE: --type level\.completed: is not in the event-type catalog, so there is nothing to send; .*"name": "level\.completed", "example"/,
    );
    // In the catalog without an example: says that instead.
    await client.putEventType('level.completed', { description: 'a level was completed' });
    const bare = await herald(['endpoints', 'test', every.id, ...conn, '--type', 'level.completed']);
    assert.equal(bare.code, 1);
    assert.match(
      bare.stderr,
      /^herald: 422 HERALD_ERR_UNPROCESSABLE: --type level\.completed: has no example in the event-type catalog, so there is nothing to send; /,
    );

    // What the message says to do works: an example for the type, then the same command.
    await client.putEventType('level.completed', { example: { level: 3 } });
    const sent = await herald(['endpoints', 'test', every.id, ...conn, '--type', 'level.completed']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^evt_\S+\n$/);
  });

  test('events send says when Herald answered with the original event of a repeated idempotency key', async () => {
    const project = await client.createProject({ name: 'replay' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const send = ['events', 'send', 'player.purchase', ...conn, '--data', '{"sku":"gold"}'];
    const first = await herald([...send, '--idempotency-key', 'order-7781']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, '');
    const id = first.stdout.split(' ')[0];
    const again = await herald([...send, '--idempotency-key', 'order-7781']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.split(' ')[0], id, 'the original event');
    assert.match(
      again.stderr,
      /^herald: idempotent replay: --idempotency-key order-7781 was used within the last 24 h, so Herald answered with that original event \(above\) and created and delivered nothing new\n$/,
    );
    const json = await herald([...send, '--idempotency-key', 'order-7781', '--json']);
    assert.equal((JSON.parse(json.stdout) as { id: string }).id, id);
    assert.match(json.stderr, /^herald: idempotent replay: /);
    // A new key is a new event, and says nothing more.
    const other = await herald([...send, '--idempotency-key', 'order-7782']);
    assert.notEqual(other.stdout.split(' ')[0], id);
    assert.equal(other.stderr, '');
  });

  test('events send whose first try was stored but its answer lost says stored once, not a replay, with or without --idempotency-key', async () => {
    const project = await client.createProject({ name: 'resent' });
    // A loopback proxy that passes the first event POST on to Herald and then drops the CLI's
    // connection without an answer: the event is stored, the CLI sees a network error and sends again.
    let dropped = false;
    const target = new URL(server.url);
    const proxy = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const upstream = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (answer) => {
            const body: Buffer[] = [];
            answer.on('data', (c: Buffer) => body.push(c));
            answer.on('end', () => {
              if (!dropped && req.method === 'POST') {
                dropped = true;
                req.socket.destroy();
                return;
              }
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(body));
            });
          },
        );
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const send = [
        'events',
        'send',
        'player.purchase',
        '--url',
        url,
        '--token',
        ADMIN,
        '--project',
        project.id,
      ];
      const sent = await herald([...send, '--data', '{"sku":"gold"}', '--idempotency-key', 'order-9001']);
      assert.equal(sent.code, 0, sent.stderr);
      assert.ok(dropped, 'the first answer was dropped');
      assert.match(
        sent.stderr,
        /^herald: the request was sent again after a network error .*\(above, --idempotency-key order-9001\): stored once\n$/,
      );
      assert.equal((await client.listEvents(project.id, { limit: 10 })).data.length, 1, 'one event stored');

      // Without --idempotency-key the CLI gives the event a key of its own: stored once too.
      dropped = false;
      const auto = await herald([...send, '--data', '{"sku":"silver"}']);
      assert.equal(auto.code, 0, auto.stderr);
      assert.ok(dropped, 'the first answer was dropped');
      assert.match(
        auto.stderr,
        /^herald: the request was sent again after a network error .*\(above\): stored once\n$/,
      );
      const events = await client.listEvents(project.id, { limit: 10 });
      assert.equal(events.data.length, 2, 'one event more, not two');
      assert.match(String(events.data[0]!.idempotencyKey), /^auto-/);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  test('listen --endpoint forwards the test sends of that endpoint (endpoints test), not dev and whatever its filter', async () => {
    const project = await client.createProject({ name: 'listen-test-send' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    await client.putEventType('level.completed', { example: { level: 3 } });
    const endpoint = await client.createEndpoint(project.id, {
      url: `${sink.url}/listened`,
      eventTypes: ['player.purchase'],
    });
    const other = await client.createEndpoint(project.id, { url: `${sink.url}/other`, dev: true });
    const listen = spawn(
      NODE,
      [
        BIN,
        'listen',
        ...conn,
        '--endpoint',
        endpoint.id,
        '--forward-to',
        `${receiver.url}/local`,
        '--interval',
        '100',
      ],
      { env: { PATH: process.env.PATH ?? '' } },
    );
    children.push(listen);
    let out = '';
    listen.stdout.on('data', (c: Buffer) => (out += c));
    listen.stderr.on('data', (c: Buffer) => (out += c));
    const deadline = Date.now() + 10_000;
    while (!out.includes('herald listen: forwarding') && Date.now() < deadline) await sleep(20);
    assert.match(out, /herald listen: forwarding/);

    // A test send to the endpoint (not dev, a type outside its filter): Herald delivers it, so listen forwards it.
    const mine = await herald(['endpoints', 'test', endpoint.id, ...conn, '--type', 'level.completed']);
    assert.equal(mine.code, 0, mine.stderr);
    // Neither a test send to another endpoint nor a test event (the endpoint is not dev) reach it.
    const theirs = await herald(['endpoints', 'test', other.id, ...conn, '--type', 'level.completed']);
    assert.equal(theirs.code, 0, theirs.stderr);
    const testEvent = await herald(['events', 'send', 'player.purchase', ...conn, '--test']);
    assert.equal(testEvent.code, 0, testEvent.stderr);
    const got = await receiver.waitFor(1);
    await sleep(600); // several more polls: nothing else arrives
    assert.equal(receiver.requests.length, 1, out);
    const eventId = mine.stdout.trim();
    assert.equal(got[0]!.headers['webhook-id'], eventId);
    assert.match(out, new RegExp(`${eventId} level\\.completed \\(test\\) → 200`));
    listen.kill('SIGINT');
    assert.equal(await new Promise<number | null>((r) => listen.on('exit', (c) => r(c))), 0);
  });
});
