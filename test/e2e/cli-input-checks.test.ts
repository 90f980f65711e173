/**
 * Mistakes on the `herald` command line, and answers that are not Herald's, end with one line naming
 * the flag (exit 1), never a stack trace nor a silent change of meaning; tenant-controlled text is
 * printed with its control characters made visible. The CLI run in this process (a stdout that fails,
 * stdin as a pipe in processes of their own) against a real `herald serve`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '@herald/client';
import { runHeraldInProcess } from '../support/run-herald-in-process.ts';
import { type HeraldProcess, runHerald, startHerald } from './harness.ts';

const ADMIN = 'cli-input-checks-token-0123456789';
const ROOT = resolve(import.meta.dirname, '../..');

/** In this process (run-herald-in-process.ts): the tests here are about output and exit codes. */
const herald = (args: string[], env: Record<string, string> = {}) =>
  runHeraldInProcess(args, { env, killAfterMs: 20_000 });

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

  test('events send through a proxy whose upstream Herald went away mid-request (502, 503) or did not answer in time (504): the line gives the key it went with, as the event may have been stored behind it', async () => {
    // A reverse proxy before Herald (docs/deployment.md "Behind a proxy"), as nginx answers when
    // its upstream closed the connection after the request (a crash after the commit) or timed out.
    let status = 502;
    let posts = 0;
    const gateway = createServer((req, res) => {
      req.resume();
      posts++;
      res
        .writeHead(status, { 'content-type': 'text/html' })
        .end(`<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n</html>\r\n`);
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    try {
      // A 503 too (Envoy's "disconnect/reset before headers"): the client sends it again with the
      // key it went with (3 tries), and the line gives that key (before: `… is --url a Herald server?`).
      for (status of [502, 504, 503]) {
        posts = 0;
        const send = await herald(['events', 'send', 'x', '--project', 'p', '--url', url, '--token', 't']);
        assert.equal(send.code, 1);
        assert.equal(posts, status === 503 ? 3 : 1, 'a 502 or 504 is not sent again; a 503 with its key');
        oneLine(send.stderr);
        // Before, `… an answer not in Herald's error format: is --url a Herald server?` and no key:
        // sent again, the event was stored twice.
        assert.match(
          send.stderr,
          new RegExp(
            `^herald: ${url} answered ${status}, not in Herald's error format: a proxy's answer, which comes after it passed the request on to Herald\\. The event may have been stored: to send it again without storing it twice, add --idempotency-key auto-\\S+\n$`,
          ),
        );
      }
    } finally {
      gateway.closeAllConnections();
      await new Promise<void>((r) => gateway.close(() => r()));
    }
  });

  test('--url at something that closes the connection, or an https URL at an http Herald: one line naming the URL and where it came from (it used to be `other side closed`, or an OpenSSL error string); an event sent without a key gets the key to send it again with', async () => {
    const closing = createServer((req) => req.socket.destroy());
    await new Promise<void>((r) => closing.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closing.address() as AddressInfo).port}`;
    try {
      const list = await herald(['events', 'list', '--project', 'p', '--url', url, '--token', 't']);
      assert.equal(list.code, 1);
      assert.equal(list.stdout, '');
      oneLine(list.stderr);
      assert.match(
        list.stderr,
        new RegExp(
          `^herald: no answer from Herald at ${url} \\(from --url\\): other side closed \\(GET /api/v1/projects/p/events, \\d+ tries\\)\\. Is --url a Herald server\\?\n$`,
        ),
      );
      // An event sent without a key may have been stored: the line gives the key it went with.
      const send = await herald([
        'events',
        'send',
        'player.joined',
        '--project',
        'p',
        '--url',
        url,
        '--token',
        't',
      ]);
      assert.equal(send.code, 1);
      oneLine(send.stderr);
      assert.match(
        send.stderr,
        /^herald: no answer from Herald at .*\(POST \/api\/v1\/projects\/p\/events, \d+ tries\)\. Is --url a Herald server\? The event may have been stored: to send it again without storing it twice, add --idempotency-key auto-[0-9a-f-]{36}\n$/,
      );
      const keyed = await herald([
        'events',
        'send',
        'player.joined',
        '--project',
        'p',
        '--idempotency-key',
        'k1',
        '--url',
        url,
        '--token',
        't',
      ]);
      assert.equal(keyed.code, 1);
      assert.doesNotMatch(keyed.stderr, /may have been stored/, 'its own key: the user has it');
      const listen = await herald(
        ['listen', '--project', 'p', '--token', 't', '--forward-to', 'http://127.0.0.1:9/hook'],
        { HERALD_URL: url },
      );
      assert.equal(listen.code, 1, listen.stdout);
      oneLine(listen.stderr);
      assert.match(
        listen.stderr,
        new RegExp(`^herald: no answer from Herald at ${url} \\(from HERALD_URL\\): `),
      );
    } finally {
      closing.closeAllConnections();
      await new Promise<void>((r) => closing.close(() => r()));
    }
    const https = server.url.replace(/^http:/, 'https:');
    const tls = await herald(['projects', 'list', '--url', https, '--token', ADMIN]);
    assert.equal(tls.code, 1);
    oneLine(tls.stderr);
    assert.match(
      tls.stderr,
      new RegExp(
        `^herald: no answer from Herald at ${https} \\(from --url\\): TLS failed \\(packet length too long\\): does it serve https, or only http\\? \\(GET /api/v1/projects, \\d+ tries\\)\\. Is --url a Herald server\\?\n$`,
      ),
    );
  });

  test('Ctrl-C while events send waits for an answer it never gets: the line gives the key the event went with (it used to exit 130 in silence, the automatic key lost)', async () => {
    let received: (body: string) => void = () => {};
    // Reads the request, never answers: a Herald stuck on its database, say.
    const stuck = createServer((req) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c)).on('end', () => received(body));
    });
    await new Promise<void>((r) => stuck.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(stuck.address() as AddressInfo).port}`;
    try {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const bodyReceived = new Promise<string>((r) => (received = r));
        const child = spawn(
          join(ROOT, 'node_modules/.bin/node'),
          [
            join(ROOT, 'bin/herald.js'),
            'events',
            'send',
            'player.joined',
            '--project',
            'p',
            '--url',
            url,
            '--token',
            't',
          ],
          { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c));
        child.stderr.on('data', (c: Buffer) => (stderr += c));
        const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
        const sent = JSON.parse(await bodyReceived) as { idempotencyKey: string };
        child.kill(signal);
        assert.equal(await exited, signal === 'SIGINT' ? 130 : 143, stderr);
        assert.equal(stdout, '');
        assert.match(sent.idempotencyKey, /^auto-[0-9a-f-]{36}$/);
        assert.equal(
          stderr,
          `herald: stopped by ${signal} before Herald answered: the event may have been stored: to send it again without storing it twice, add --idempotency-key ${sent.idempotencyKey}\n`,
        );
      }
    } finally {
      stuck.closeAllConnections();
      await new Promise<void>((r) => stuck.close(() => r()));
    }
  });

  test('output that cannot be written (a full disk) ends with one line and exit code 1: no stack trace, and not 0 after --version', async () => {
    await client.createProject({ name: 'one to list' });
    const full = openSync('/dev/full', 'w');
    try {
      const list = await runHerald(['projects', 'list', '--url', server.url, '--token', ADMIN], {
        stdoutFd: full,
      });
      assert.equal(list.code, 1);
      assert.match(
        list.stderr,
        /^herald: cannot write the output \(stdout\): ENOSPC: no space left on device, write\n$/,
      );
      for (const args of [['--version'], ['events', '--help']]) {
        const run = await runHerald(args, { stdoutFd: full });
        assert.equal(run.code, 1, args.join(' '));
        assert.match(run.stderr, /^herald: cannot write the output \(stdout\): ENOSPC/, args.join(' '));
      }
    } finally {
      closeSync(full);
    }
  });

  test('--url at something answering JSON of another shape: the same one line asking whether it is a Herald server (it used to crash with a TypeError, or print {} and exit 0)', async () => {
    // Answers every request 200 with JSON that is not Herald's: a bare number, or another API's object.
    let body = '200';
    const foreign = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    const conn = ['--url', url, '--token', 't'];
    const notHerald = (run: { code: number | null; stdout: string; stderr: string }, expected: string) => {
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stdout, '');
      oneLine(run.stderr);
      assert.equal(
        run.stderr,
        `herald: ${url} answered 200 with JSON that is not Herald's answer (expected ${expected}): is --url a Herald server?\n`,
      );
    };
    const list = 'a list {"data": [...]} of objects with "id" (string)';
    const withId = 'an object with "id" (string)';
    try {
      for (const answer of ['200', '{"status":"ok"}']) {
        body = answer;
        notHerald(await herald(['events', 'list', '--project', 'p', ...conn]), list);
        notHerald(await herald(['projects', 'list', ...conn]), list);
        notHerald(await herald(['endpoints', 'get', 'ep_x', '--project', 'p', ...conn]), withId);
        notHerald(await herald(['events', 'send', 'x', '--project', 'p', ...conn]), withId);
        notHerald(await herald(['deliveries', 'retry', 'dlv_x', '--project', 'p', ...conn]), withId);
        notHerald(
          await herald(['endpoints', 'recover', 'ep_x', '--project', 'p', '--since', '0', ...conn]),
          'an object with "recovered" (number)',
        );
      }
      const listen = await herald([
        'listen',
        '--project',
        'p',
        ...conn,
        '--forward-to',
        'http://127.0.0.1:9/hook',
      ]);
      notHerald(listen, list);
    } finally {
      foreign.closeAllConnections();
      await new Promise<void>((r) => foreign.close(() => r()));
    }
  });

  test('an empty argument, --project or --endpoint of any API command is refused naming it, before any request (it used to say params.endpoint, or 404 project not found)', async () => {
    // Whatever answers is counted: nothing may be sent.
    let requests = 0;
    const counting = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => counting.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(counting.address() as AddressInfo).port}`;
    // Through both ways commands run (apiAction, and listen's own); every command and argument is
    // covered by test/unit/cli-empty-ids.test.ts.
    const forward = ['--forward-to', 'http://127.0.0.1:9/hook'];
    const cases: { argv: string[]; named: string }[] = [
      { argv: ['endpoints', 'get', '', '--project', 'p'], named: '<endpoint>' },
      { argv: ['events', 'get', '', '--project', 'p'], named: '<event>' },
      { argv: ['projects', 'revoke-api-key', 'p', ''], named: '<key>' },
      { argv: ['events', 'send', 'x', '--project', ''], named: '--project' },
      { argv: ['listen', '--project', '', ...forward], named: '--project' },
      { argv: ['listen', '--project', 'p', '--endpoint', '', ...forward], named: '--endpoint' },
    ].map(({ argv, named }) => ({ argv: [...argv, '--url', url, '--token', 't'], named }));
    try {
      for (const { argv, named } of cases) {
        const run = await herald(argv);
        assert.equal(run.code, 1, `${argv.join(' ')}: ${run.stdout}${run.stderr}`);
        assert.equal(run.stdout, '');
        assert.equal(run.stderr, `herald: ${named}: must not be empty\n`, argv.join(' '));
      }
      assert.equal(requests, 0, 'nothing was sent');
    } finally {
      counting.closeAllConnections();
      await new Promise<void>((r) => counting.close(() => r()));
    }
  });

  test('listen --secret that is not a standard secret the API would take is refused at start naming --secret (it used to fail on every event, or sign with a key of the wrong size)', async () => {
    const project = await client.createProject({ name: 'listen-secret' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    // Not base64, or base64 of fewer than 24 bytes or more than 64 (the API refuses those for an
    // endpoint; listen used to sign with them).
    for (const [secret, problem] of [
      ['short', /a standard secret must be whsec_ followed by base64/],
      ['whsec_not base64!', /a standard secret must be whsec_ followed by base64/],
      ['notwhsec', /a standard secret must decode to 24–64 bytes/],
      [`whsec_${Buffer.alloc(16, 1).toString('base64')}`, /a standard secret must decode to 24–64 bytes/],
      [`whsec_${Buffer.alloc(65, 1).toString('base64')}`, /a standard secret must decode to 24–64 bytes/],
    ] as const) {
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
      assert.match(run.stderr, new RegExp(`^herald: --secret: ${problem.source}`));
      assert.ok(!run.stderr.includes(secret), 'the secret is not repeated');
    }
  });

  test('a file that is not UTF-8 (--data @file, --secret-file) is refused naming the flag, not sent as U+FFFD', async () => {
    const project = await client.createProject({ name: 'files' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const dir = mkdtempSync(join(tmpdir(), 'herald-cli-files-'));
    try {
      const latin1 = join(dir, 'latin1.json');
      writeFileSync(latin1, Buffer.from('{"x":"caf\xe9"}', 'latin1'));
      const sent = await herald(['events', 'send', 't', ...conn, '--data', `@${latin1}`]);
      assert.equal(sent.code, 1, sent.stdout);
      oneLine(sent.stderr);
      assert.match(sent.stderr, /^herald: --data: .*latin1\.json is not valid UTF-8 text/);
      assert.equal((await client.listEvents(project.id)).data.length, 0, 'nothing sent');
      const endpoint = await client.createEndpoint(project.id, { url: 'https://hooks.example/f' });
      const secret = join(dir, 'secret');
      writeFileSync(secret, Buffer.from([0x73, 0xff, 0xfe, 0x0a]));
      const rotated = await herald([
        'endpoints',
        'rotate-secret',
        endpoint.id,
        ...conn,
        '--secret-file',
        secret,
      ]);
      assert.equal(rotated.code, 1, rotated.stdout);
      assert.match(rotated.stderr, /^herald: --secret-file: .* is not valid UTF-8 text/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file starting with a UTF-8 byte-order mark (--data @file, --secret-file) is read without it', async () => {
    const project = await client.createProject({ name: 'bom' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const dir = mkdtempSync(join(tmpdir(), 'herald-cli-bom-'));
    try {
      const data = join(dir, 'data.json');
      writeFileSync(data, '\uFEFF{"player":"p1"}\r\n');
      const sent = await herald(['events', 'send', 'player.joined', ...conn, '--data', `@${data}`]);
      assert.equal(sent.code, 0, sent.stderr);
      const [event] = (await client.listEvents(project.id)).data;
      assert.deepEqual(event?.payload, { player: 'p1' });
      const endpoint = await client.createEndpoint(project.id, {
        url: 'https://hooks.example/bom',
        signature: { scheme: 'hmac-sha256' },
      });
      const secretFile = join(dir, 'secret');
      writeFileSync(secretFile, '\uFEFFmy-own-secret-0123456789abcdef\r\n');
      const rotated = await herald([
        'endpoints',
        'rotate-secret',
        endpoint.id,
        ...conn,
        '--secret-file',
        secretFile,
      ]);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.equal(rotated.stdout, 'my-own-secret-0123456789abcdef\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('human output shows control characters of tenant text as escapes (\\u001b, \\n); --json stays exact', async () => {
    const nasty = 'a\u001b[2Jb\nforged line\u009bc';
    const shown = 'a\\u001b[2Jb\\nforged line\\u009bc';
    // The API refuses control characters in names, types and descriptions now; a Herald before it
    // stored them. Written into the database as that one did, beside the running server.
    const stored = (sql: string, ...values: string[]) => {
      const db = new DatabaseSync(join(server.dataDir, 'herald.db'));
      try {
        db.exec('PRAGMA busy_timeout = 5000');
        db.prepare(sql).run(...values);
      } finally {
        db.close();
      }
    };
    const project = await client.createProject({ name: 'nasty' });
    stored('UPDATE projects SET name = ? WHERE id = ?', nasty, project.id);
    const conn = ['--url', server.url, '--token', ADMIN];
    // Control characters other than the newline that ends each line.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
    const raw = (text: string) => assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);

    const projects = await herald(['projects', 'list', ...conn]);
    assert.equal(projects.code, 0, projects.stderr);
    raw(projects.stdout);
    const line = projects.stdout.split('\n').find((l) => l.startsWith(project.id));
    assert.equal(line, `${project.id} - ${shown}`);
    const json = await herald(['projects', 'list', '--json', ...conn]);
    assert.equal(
      (JSON.parse(json.stdout) as { id: string; name: string }[]).find((p) => p.id === project.id)?.name,
      nasty,
    );

    await client.request('PUT', `/event-types/${encodeURIComponent('nasty.type')}`, {
      body: { description: 'nasty' },
    });
    stored('UPDATE event_types SET description = ? WHERE name = ?', nasty, 'nasty.type');
    const types = await herald(['event-types', 'list', ...conn]);
    assert.equal(types.code, 0, types.stderr);
    raw(types.stdout);
    assert.equal(types.stdout, `nasty.type  ${shown}\n`);

    // An event type, through events list.
    const event = await client.sendEvent(project.id, { type: 'x.y', payload: {} });
    stored('UPDATE events SET type = ? WHERE id = ?', 'x\u001b]0;title\u0007y', event.id);
    const events = await herald(['events', 'list', ...conn, '--project', project.id]);
    assert.equal(events.code, 0, events.stderr);
    raw(events.stdout);
    assert.equal(events.stdout, `${event.id} x\\u001b]0;title\\u0007y ${event.createdAt}\n`);

    // A server's error message: one visible line on stderr.
    const foreign = createServer((req, res) => {
      req.resume();
      res.writeHead(404, { 'content-type': 'text/plain' }).end(nasty);
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
      const refused = await herald(['events', 'list', '--url', url, '--token', 't', '--project', 'p']);
      assert.equal(refused.code, 1);
      raw(refused.stderr);
      oneLine(refused.stderr);
      assert.ok(refused.stderr.startsWith(`herald: 404 http_404: ${shown} (`), refused.stderr);
    } finally {
      foreign.closeAllConnections();
      await new Promise<void>((r) => foreign.close(() => r()));
    }
  });

  test('an empty flag counts as unset, as docs/cli.md says (--limit "", --status "", --grace "", --callback-envelope "" were refused); an empty --secret-file is refused', async () => {
    const project = await client.createProject({ name: 'empty flags' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    for (let n = 0; n < 22; n++) await client.sendEvent(project.id, { type: 'player.paid', payload: { n } });
    const listed = await herald(['events', 'list', ...conn, '--limit', '']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n').length, 20, 'the default --limit');

    const endpoint = await client.createEndpoint(project.id, { url: 'https://hooks.example/e' });
    const attempts = await herald(['endpoints', 'attempts', endpoint.id, ...conn, '--status', '']);
    assert.equal(attempts.code, 0, attempts.stderr);
    assert.equal(attempts.stderr, `herald: no attempts of ${endpoint.id}\n`);
    const sent = await herald(['events', 'send', 'player.paid', ...conn, '--callback-envelope', '']);
    assert.equal(sent.code, 0, sent.stderr);

    const before = (await client.getEndpointSecret(project.id, endpoint.id)).secrets;
    const rotated = await herald(['endpoints', 'rotate-secret', endpoint.id, ...conn, '--grace', '']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const after = (await client.getEndpointSecret(project.id, endpoint.id)).secrets;
    assert.equal(after.length, before.length + 1, 'the old secret kept for the default grace');

    const fromNothing = await herald([
      'endpoints',
      'rotate-secret',
      endpoint.id,
      ...conn,
      '--secret-file',
      '',
    ]);
    assert.equal(fromNothing.code, 1);
    assert.equal(fromNothing.stderr, 'herald: --secret-file: must not be empty\n');
    assert.equal((await client.getEndpointSecret(project.id, endpoint.id)).secrets.length, after.length);
  });

  test('a body over HERALD_MAX_BODY_BYTES is refused naming the flag that filled it, --data or --settings (it named body)', async () => {
    const project = await client.createProject({ name: 'large ones' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const dir = mkdtempSync(join(tmpdir(), 'herald-large-'));
    try {
      const file = join(dir, 'large.json');
      writeFileSync(file, JSON.stringify({ name: 'n'.repeat(1024 * 1024) }));
      const endpoint = await client.createEndpoint(project.id, { url: 'https://hooks.example/l' });
      const tail =
        ': larger than the limit of 1048576 bytes (HERALD_MAX_BODY_BYTES); send less in it, or have the operator raise the limit\n';
      for (const [args, flag] of [
        [['events', 'send', 'player.paid', ...conn, '--data', `@${file}`], '--data'],
        [['endpoints', 'create', 'https://hooks.example/m', ...conn, '--settings', `@${file}`], '--settings'],
        [['endpoints', 'update', endpoint.id, ...conn, '--settings', `@${file}`], '--settings'],
      ] as const) {
        const run = await herald([...args]);
        assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
        assert.equal(
          run.stderr,
          `herald: 413 HERALD_ERR_BODY_TOO_LARGE: ${flag} (body)${tail}`,
          args.join(' '),
        );
      }
      assert.equal((await client.listEndpoints(project.id)).data.length, 1);
      assert.equal((await client.listEvents(project.id)).data.length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--settings must be a JSON object; recover --since in the future says "after now (the default --until)"; --json is taken by every command that prints JSON; update --name "" changes nothing', async () => {
    const project = await client.createProject({ name: 'small ones' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const endpoint = await client.createEndpoint(project.id, {
      url: 'https://hooks.example/s',
      name: 'kept',
    });

    for (const [settings, got] of [
      ['[]', 'an array'],
      ['null', 'null'],
      ['5', 'a number'],
      ['"PUT"', 'a string'],
    ] as const) {
      for (const args of [
        ['endpoints', 'create', 'https://hooks.example/t', ...conn, '--settings', settings],
        ['endpoints', 'update', endpoint.id, ...conn, '--settings', settings],
      ]) {
        const run = await herald(args);
        assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
        oneLine(run.stderr);
        assert.match(run.stderr, new RegExp(`^herald: --settings: must be a JSON object .*, got ${got}\n$`));
      }
    }
    assert.equal((await client.listEndpoints(project.id)).data.length, 1);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const recover = await herald(['endpoints', 'recover', endpoint.id, ...conn, '--since', future]);
    assert.equal(recover.code, 1);
    assert.equal(
      recover.stderr,
      'herald: 422 HERALD_ERR_UNPROCESSABLE: --since: must not be after now (the default --until)\n',
    );
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const both = await herald([
      'endpoints',
      'recover',
      endpoint.id,
      ...conn,
      '--since',
      future,
      '--until',
      past,
    ]);
    assert.equal(both.stderr, 'herald: 422 HERALD_ERR_UNPROCESSABLE: --since: must not be after --until\n');
    const stats = await herald(['endpoints', 'stats', endpoint.id, ...conn, '--since', future]);
    assert.match(stats.stderr, /--since: must not be after now \(the default --until\)\n$/);

    const event = await client.sendEvent(project.id, { type: 'player.paid', payload: { n: 1 } });
    await client.request('PUT', '/event-types/player.paid', { body: { description: 'paid' } });
    for (const args of [
      ['events', 'get', event.id, ...conn],
      ['endpoints', 'get', endpoint.id, ...conn],
      ['event-types', 'get', 'player.paid', '--url', server.url, '--token', ADMIN],
    ]) {
      const run = await herald([...args, '--json']);
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(typeof JSON.parse(run.stdout), 'object');
    }

    const nameless = await herald(['endpoints', 'update', endpoint.id, ...conn, '--name', '']);
    assert.equal(nameless.code, 1);
    oneLine(nameless.stderr);
    assert.match(nameless.stderr, /^herald: nothing to change: .*to clear the name: --settings/);
    const renamedToo = await herald(['endpoints', 'update', endpoint.id, ...conn, '--name', '', '--dev']);
    assert.equal(renamedToo.code, 0, renamedToo.stderr);
    const kept = await client.getEndpoint(project.id, endpoint.id);
    assert.deepEqual([kept.name, kept.dev], ['kept', true]);
    const cleared = await herald(['endpoints', 'update', endpoint.id, ...conn, '--settings', '{"name": ""}']);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal((await client.getEndpoint(project.id, endpoint.id)).name, '');
  });

  test('a field given by its flag and in --settings, differently, is refused naming both (the flag won silently); given alike, taken', async () => {
    const project = await client.createProject({ name: 'twice' });
    const conn = ['--url', server.url, '--token', ADMIN, '--project', project.id];
    const endpoint = await client.createEndpoint(project.id, {
      url: 'https://hooks.example/kept',
      name: 'kept',
    });
    const refused: [string[], string][] = [
      [
        ['endpoints', 'create', 'https://hooks.example/a', '--name', 'a', '--settings', '{"name": "b"}'],
        '--name',
      ],
      [
        [
          'endpoints',
          'create',
          'https://hooks.example/a',
          '--settings',
          '{"url": "https://hooks.example/b"}',
        ],
        '<url>',
      ],
      [
        [
          'endpoints',
          'create',
          'https://hooks.example/a',
          '--types',
          'x',
          '--settings',
          '{"eventTypes": ["y"]}',
        ],
        '--types',
      ],
      [['endpoints', 'create', 'https://hooks.example/a', '--dev', '--settings', '{"dev": false}'], '--dev'],
      [['endpoints', 'update', endpoint.id, '--name', 'a', '--settings', '{"name": "b"}'], '--name'],
      [
        [
          'endpoints',
          'update',
          endpoint.id,
          '--endpoint-url',
          'https://hooks.example/a',
          '--settings',
          '{"url": "https://hooks.example/b"}',
        ],
        '--endpoint-url',
      ],
      [
        ['endpoints', 'update', endpoint.id, '--all-types', '--settings', '{"eventTypes": ["y"]}'],
        '--all-types',
      ],
      [['endpoints', 'update', endpoint.id, '--no-dev', '--settings', '{"dev": true}'], '--no-dev'],
    ];
    for (const [args, flag] of refused) {
      const run = await herald([...args, ...conn]);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
      oneLine(run.stderr);
      const field = args.includes('--settings')
        ? Object.keys(JSON.parse(args[args.indexOf('--settings') + 1]!))[0]
        : '';
      assert.equal(
        run.stderr,
        `herald: ${flag} and --settings ("${field}") give the ${field} twice, differently: give it once\n`,
        args.join(' '),
      );
    }
    assert.deepEqual(
      (await client.listEndpoints(project.id)).data.map((e) => [e.url, e.name]),
      [['https://hooks.example/kept', 'kept']],
    );
    const alike = await herald([
      'endpoints',
      'update',
      endpoint.id,
      ...conn,
      '--name',
      'same',
      '--types',
      'x,y',
      '--settings',
      '{"name": "same", "eventTypes": ["x", "y"], "method": "PUT"}',
    ]);
    assert.equal(alike.code, 0, alike.stderr);
    const updated = await client.getEndpoint(project.id, endpoint.id);
    assert.deepEqual([updated.name, updated.eventTypes, updated.method], ['same', ['x', 'y'], 'PUT']);
  });
});
