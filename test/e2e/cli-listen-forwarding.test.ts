/**
 * `herald listen` while it runs: a secret rotated after it started signs the forwarded copies (with
 * every valid secret, as Herald does), Ctrl-C says what it waits for, an outage of Herald is said
 * once (not every poll), a secret given with --secret or --secret-file is not printed, and
 * --forward-to must be this machine unless --allow-remote. Real `herald serve` and receivers on
 * 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeraldClient } from '../../packages/client/src/index.ts';
import { verifyWebhook } from '../../packages/verify/src/index.ts';
import { isLoopbackUrl } from '../../src/domain/loopback-url.ts';
import { refusedPort } from '../support/refused-port.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { makeTestCerts, startHttpsReceiver } from '../support/test-certs.ts';
import { type HeraldProcess, startHerald } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/herald.js');
const ADMIN = 'cli-listen-forwarding-token-0123456789';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A loopback receiver; `answer: false` keeps every request waiting (a slow receiver), a number
 * answers each after that many ms.
 */
async function receiver(answer: boolean | number = true) {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      if (typeof answer === 'number') setTimeout(() => res.writeHead(204).end(), answer);
      else if (answer) res.writeHead(204).end();
    });
  });
  const url = await listen(server);
  return {
    url,
    requests,
    async waitFor(n: number, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (requests.length < n && Date.now() < deadline) await sleep(20);
      assert.ok(requests.length >= n, `${requests.length} of ${n} requests arrived`);
      return requests;
    },
    close: () => close(server),
  };
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** `herald listen ARGS` running: its output so far, a wait for a line, and its exit. */
function listenProcess(args: string[]) {
  const child: ChildProcess = spawn(NODE, [BIN, 'listen', ...args], {
    env: { PATH: process.env.PATH ?? '', HERALD_TOKEN: ADMIN },
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c));
  child.stderr?.on('data', (c: Buffer) => (out += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    exited,
    out: () => out,
    async waitFor(pattern: RegExp, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(out) && Date.now() < deadline) await sleep(20);
      assert.match(out, pattern);
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs `herald listen ARGS` to its end (killed after 10 s). */
async function runListen(args: string[]) {
  const p = listenProcess(args);
  const timer = setTimeout(() => p.kill(), 10_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, out: p.out() };
}

/**
 * `command` as a user pastes it into a POSIX shell, with `herald` on its PATH (this checkout's
 * CLI) and `env`; its exit code and output (killed after 10 s).
 */
async function runInShell(command: string, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sh-'));
  try {
    writeFileSync(join(dir, 'herald'), `#!/bin/sh\nexec '${NODE}' '${BIN}' "$@"\n`, { mode: 0o755 });
    const child = spawn('/bin/sh', ['-c', command], {
      env: { PATH: `${dir}:${process.env.PATH ?? ''}`, ...env },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    return { code, out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('herald listen against a real Herald', () => {
  let herald: HeraldProcess;
  let client: HeraldClient;
  const running: { kill(): void }[] = [];
  before(async () => {
    // API only: the events are stored and listed, and nothing delivers them (example.test).
    herald = await startHerald({ args: ['--role', 'api'], env: { HERALD_ADMIN_TOKEN: ADMIN } });
    client = new HeraldClient({ url: herald.url, token: ADMIN });
  });
  after(async () => {
    for (const p of running) p.kill();
    await client?.close();
    await herald?.dispose();
  });

  test('a rotation after the start signs the forwarded copies: the new secret, and the old one during its grace', async () => {
    const project = await client.createProject({ name: 'listen-rotation' });
    const endpoint = await client.createEndpoint(project.id, { url: 'https://example.test/rot' });
    const local = await receiver();
    const p = listenProcess([
      '--url',
      herald.url,
      '--project',
      project.id,
      '--endpoint',
      endpoint.id,
      '--forward-to',
      `${local.url}/hook`,
      '--interval',
      '100',
    ]);
    running.push(p);
    try {
      await p.waitFor(/herald listen: forwarding/);
      // Retired at once: only the new secret is valid.
      const rotated = await client.rotateEndpointSecret(project.id, endpoint.id, { graceSeconds: 0 });
      const first = await client.sendEvent(project.id, { type: 'a', payload: { n: 1 } });
      const [got] = await local.waitFor(1);
      const verified = verifyWebhook({
        scheme: 'standard',
        payload: got!.body,
        headers: got!.headers as Record<string, string>,
        secret: rotated.secret,
      });
      assert.equal(verified.id, first.id);
      assert.throws(() =>
        verifyWebhook({
          scheme: 'standard',
          payload: got!.body,
          headers: got!.headers as Record<string, string>,
          secret: String(endpoint.secret),
        }),
      );
      // During a grace period: one signature per valid secret, as Herald sends.
      const again = await client.rotateEndpointSecret(project.id, endpoint.id, { graceSeconds: 600 });
      await client.sendEvent(project.id, { type: 'a', payload: { n: 2 } });
      const second = (await local.waitFor(2))[1]!;
      assert.equal(String(second.headers['webhook-signature']).split(' ').length, 2);
      for (const secret of [again.secret, rotated.secret]) {
        verifyWebhook({
          scheme: 'standard',
          payload: second.body,
          headers: second.headers as Record<string, string>,
          secret,
        });
      }
    } finally {
      p.kill();
      await local.close();
    }
  });

  test('a disabled endpoint is said at start and when it changes; its live events are forwarded all the same', async () => {
    // Herald sends a disabled endpoint nothing new, but listen forwards to the receiver under
    // development, not to the endpoint's URL, whose failures (10 in a row) disable it.
    const project = await client.createProject({ name: 'listen-disabled' });
    const endpoint = await client.createEndpoint(project.id, { url: 'https://example.test/off' });
    await client.updateEndpoint(project.id, endpoint.id, { active: false });
    const local = await receiver();
    const p = listenProcess([
      ...['--url', herald.url, '--project', project.id, '--endpoint', endpoint.id],
      ...['--forward-to', `${local.url}/hook`, '--interval', '100'],
    ]);
    running.push(p);
    try {
      await p.waitFor(/herald listen: forwarding/);
      // The line after it (its own write: it may arrive a moment later).
      await p.waitFor(
        new RegExp(
          `^endpoint ${endpoint.id} is disabled \\(manual\\): Herald sends it nothing new; listen forwards its live events all the same`,
          'm',
        ),
      );
      const first = await client.sendEvent(project.id, { type: 'a', payload: { n: 1 } });
      const [got] = await local.waitFor(1);
      assert.equal(JSON.parse(got!.body).data.n, 1);
      await p.waitFor(new RegExp(`${first.id} a → 204`));
      // Enabled, then disabled again: each said once, at the next event. Enabled by the command the
      // start line gives, as a shell runs it (until 2026-12-06 it lacked --project, which it needs).
      const enable = /`(herald endpoints enable [^`\n]*)` resumes its deliveries/.exec(p.out());
      assert.ok(enable, p.out());
      const ran = await runInShell(enable[1] as string, { HERALD_URL: herald.url, HERALD_TOKEN: ADMIN });
      assert.equal(ran.code, 0, ran.out);
      await client.sendEvent(project.id, { type: 'a', payload: { n: 2 } });
      await local.waitFor(2);
      await p.waitFor(new RegExp(`^endpoint ${endpoint.id} is active again`, 'm'));
      await client.updateEndpoint(project.id, endpoint.id, { active: false });
      await client.sendEvent(project.id, { type: 'a', payload: { n: 3 } });
      await local.waitFor(3);
      await p.waitFor(
        /listen forwards its live events all the same[\s\S]*listen forwards its live events all the same/,
      );
      assert.equal(p.out().match(/is active again/g)?.length, 1);
    } finally {
      p.kill();
      await local.close();
    }
  });

  test("--types the endpoint's filter takes none of forwards its test sends of them alone, and says so at start", async () => {
    // A test send reaches its endpoint whatever the filter (docs/cli.md). Until 2026-12-06 such
    // --types were refused at start, so a test send of a type outside the filter could not be
    // watched alone.
    await client.putEventType('listen-only.guild.left', { example: { guild: 7 } });
    const project = await client.createProject({ name: 'listen-only-tests' });
    const endpoint = await client.createEndpoint(project.id, {
      url: 'https://example.test/only-tests',
      eventTypes: ['player.paid'],
    });
    const local = await receiver();
    const p = listenProcess([
      ...['--url', herald.url, '--project', project.id, '--endpoint', endpoint.id],
      ...['--forward-to', `${local.url}/hook`, '--interval', '100', '--types', 'listen-only.guild.left'],
    ]);
    running.push(p);
    try {
      await p.waitFor(/herald listen: forwarding/);
      // The line gives the command that makes such a test send, as it runs (until 2026-12-06 it
      // lacked --project, which `endpoints test` needs, and said `--type <type>`).
      const line = new RegExp(
        `^--types: endpoint ${endpoint.id}'s filter \\(player\\.paid\\) takes none of listen-only\\.guild\\.left: ` +
          'only its test sends of them are forwarded \\((herald endpoints test [^\\n]*)\\)$',
        'm',
      );
      await p.waitFor(line); // its own write, after the start line's
      const hint = line.exec(p.out());
      assert.ok(hint, p.out());
      // Live events: one of the type (the endpoint never gets it), one of its filter (not --types).
      await client.sendEvent(project.id, { type: 'listen-only.guild.left', payload: { live: 1 } });
      await client.sendEvent(project.id, { type: 'player.paid', payload: { live: 2 } });
      const ran = await runInShell(hint[1] as string, { HERALD_URL: herald.url, HERALD_TOKEN: ADMIN });
      assert.equal(ran.code, 0, ran.out);
      const eventId = /\bevt_\w+/.exec(ran.out)?.[0];
      assert.ok(eventId, ran.out);
      await p.waitFor(new RegExp(`${eventId} listen-only\\.guild\\.left \\(test\\) → 204`));
      // Events are forwarded in the order they were created: the live ones were passed over.
      assert.equal(local.requests.length, 1);
      assert.deepEqual(JSON.parse(local.requests[0]!.body).data, { guild: 7 });
    } finally {
      p.kill();
      await local.close();
    }
  });

  /**
   * `herald listen` of `project` to `forwardTo`, polling every 100 ms unless `extra` says otherwise
   * (killed after the tests).
   */
  const listenTo = (project: string, forwardTo: string, extra: string[] = []) => {
    const p = listenProcess([
      ...['--url', herald.url, '--project', project, '--forward-to', forwardTo, '--interval', '100'],
      ...extra,
    ]);
    running.push(p);
    return p;
  };

  test('Ctrl-C during a slow forward says what it waits for; a second Ctrl-C exits at once', async () => {
    const project = await client.createProject({ name: 'listen-stop' });
    const slow = await receiver(false);
    const p = listenTo(project.id, `${slow.url}/hook`, ['--timeout', '60000']);
    try {
      await p.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: {} });
      await slow.waitFor(1);
      p.child.kill('SIGINT');
      await p.waitFor(/stopping: waiting for .*Ctrl-C again to exit now/);
      assert.match(p.out(), new RegExp(`the forward of ${event.id} to ${slow.url}/hook \\(up to 60000 ms`));
      const started = Date.now();
      p.child.kill('SIGINT');
      assert.equal(await p.exited, 130);
      assert.ok(Date.now() - started < 3000);
    } finally {
      p.kill();
      await slow.close();
    }
  });

  test('a user and password in --forward-to are refused at start, never printed: they would not be sent', async () => {
    const project = await client.createProject({ name: 'listen-password' });
    const local = await receiver();
    const port = new URL(local.url).port;
    try {
      const refused = await runListen([
        ...['--url', herald.url, '--project', project.id],
        ...['--forward-to', `http://dev:hunter2-pw@127.0.0.1:${port}/hook`],
      ]);
      assert.equal(refused.code, 1, refused.out);
      assert.match(refused.out, /--forward-to: a user and password in the URL are never sent/);
      assert.doesNotMatch(refused.out, /hunter2/);
      assert.equal(local.requests.length, 0);
    } finally {
      await local.close();
    }
    // A --forward-to the parser cannot read (a space in its host) is quoted without its password.
    const bad = await runListen([
      ...['--url', herald.url, '--project', project.id],
      ...['--forward-to', 'http://dev:hunter2-pw@127.0.0 .1/hook'],
    ]);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /--forward-to: not a URL: http:\/\/\*\*\*@127\.0\.0 \.1\/hook/);
    assert.doesNotMatch(bad.out, /hunter2/);
  });

  test('a *.localhost --forward-to is this machine without asking DNS: the copy reaches the loopback receiver', async () => {
    // `app.localhost` passes the this-machine check, so what it names must be loopback: the system
    // resolver (glibc with `hosts: files dns`) would send it to a DNS server, whose answer could
    // send signed copies to another host. This machine's resolver answers it with nothing at all.
    const project = await client.createProject({ name: 'listen-localhost-name' });
    const local = await receiver();
    const target = `${local.url.replace('127.0.0.1', 'app.localhost')}/hook`;
    const p = listenProcess(['--url', herald.url, '--project', project.id, '--forward-to', target]);
    running.push(p);
    try {
      await p.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: { n: 1 } });
      await p.waitFor(new RegExp(`${event.id} a → `));
      assert.doesNotMatch(p.out(), /→ failed/);
      const [got] = await local.waitFor(1);
      assert.equal(JSON.parse(got!.body).data.n, 1, p.out());
    } finally {
      p.kill();
      await local.close();
    }
  });

  test('a forward to a localhost receiver that is not running says why it failed', async () => {
    // `localhost` is dialled at ::1 and at 127.0.0.1 (the documented --forward-to): both refused,
    // Node reports an AggregateError whose own message is empty, and the line ended at "failed: ".
    const project = await client.createProject({ name: 'listen-receiver-down' });
    const gone = createServer();
    const port = Number(new URL(await listen(gone)).port);
    await close(gone);
    const p = listenTo(project.id, `http://localhost:${port}/hook`);
    try {
      await p.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: {} });
      await p.waitFor(new RegExp(`${event.id} a → failed: .*\n`));
      const line = p
        .out()
        .split('\n')
        .find((l) => l.startsWith(`${event.id} a → failed`));
      assert.match(line ?? '', new RegExp(`→ failed: .*ECONNREFUSED .*:${port}`), p.out());
      // A test event's failure says it is one, as its delivered line does (until 2026-12-08 only that did).
      const sample = await client.sendEvent(project.id, { type: 'a', payload: {}, test: true });
      await p.waitFor(new RegExp(`${sample.id} a .*→ failed: .*\n`));
      assert.match(p.out(), new RegExp(`${sample.id} a \\(test\\) → failed: .*ECONNREFUSED`));
    } finally {
      p.kill();
    }
  });

  test('--forward-ca-file trusts a local HTTPS receiver with a self-signed certificate, which is refused without it', async () => {
    // A developer's receiver served over https with its own certificate: undici trusts the
    // system's CAs only, so every copy failed and there was no way to say "this one too".
    const certs = makeTestCerts();
    const secure = await startHttpsReceiver(certs.selfSigned);
    const project = await client.createProject({ name: 'listen-self-signed' });
    const plain = listenTo(project.id, secure.url);
    try {
      await plain.waitFor(/herald listen: forwarding/);
      const refused = await client.sendEvent(project.id, { type: 'a', payload: { n: 1 } });
      await plain.waitFor(new RegExp(`${refused.id} a → failed: .*self-signed certificate`));
      plain.kill();
      assert.equal(secure.requests, 0);

      const trusting = listenTo(project.id, secure.url, ['--forward-ca-file', certs.selfSigned.certFile]);
      await trusting.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: { n: 2 } });
      await trusting.waitFor(new RegExp(`${event.id} a → 200`));
      assert.equal(secure.requests, 1, trusting.out());
      trusting.kill();

      const conn = ['--url', herald.url, '--project', project.id];
      const https = ['--forward-to', secure.url];
      for (const [args, message] of [
        [[...https, '--forward-ca-file', join(certs.dir, 'missing.pem')], /--forward-ca-file: cannot read /],
        [
          [...https, '--forward-ca-file', join(certs.dir, 'self.key')],
          /--forward-ca-file: .* no PEM certificate/,
        ],
        [
          ['--forward-to', 'http://127.0.0.1:9/hook', '--forward-ca-file', certs.selfSigned.certFile],
          /--forward-ca-file: only for an https:\/\/ --forward-to/,
        ],
      ] as const) {
        const run = await runListen([...conn, ...args]);
        assert.equal(run.code, 1, run.out);
        assert.match(run.out, message);
      }
    } finally {
      await secure.close();
      certs.remove();
    }
  });

  test('Ctrl-C during the first of several forwards of a poll stops after it, without forwarding the others', async () => {
    const project = await client.createProject({ name: 'listen-stop-batch' });
    const slow = await receiver(1500);
    const p = listenTo(project.id, `${slow.url}/hook`);
    try {
      await p.waitFor(/herald listen: forwarding/);
      // One batch request: all four are new at the same poll.
      const events = await client.sendEvents(
        project.id,
        [1, 2, 3, 4].map((n) => ({ type: 'a', payload: { n } })),
      );
      await slow.waitFor(1);
      p.child.kill('SIGINT');
      await p.waitFor(/stopping: waiting for the forward of evt_/);
      assert.equal(await p.exited, 0);
      // The forward under way ends (one line); none is started after Ctrl-C.
      assert.equal(slow.requests.length, 1, p.out());
      assert.equal(p.out().match(/ → /g)?.length, 1, p.out());
      assert.ok(
        events.some((e) => p.out().includes(`${e.id} a → 204`)),
        p.out(),
      );
    } finally {
      p.kill();
      await slow.close();
    }
  });

  test("a refused forward is printed with the start of the receiver's answer: why it refused", async () => {
    const project = await client.createProject({ name: 'listen-refused' });
    // The receiver's verification, with a secret other than the one listen printed: refused as
    // @herald/verify's adapters refuse, its reason in the body (spread over lines, and long).
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const reason = { code: 'HERALD_VERIFY_BAD_SIGNATURE', message: 'No matching signature found' };
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: reason, detail: 'x'.repeat(5_000) }, null, 2));
      });
    });
    const ok = await receiver();
    const url = await listen(refusing);
    const p = listenTo(project.id, `${url}/hook`);
    const q = listenTo(project.id, `${ok.url}/hook`);
    try {
      await p.waitFor(/herald listen: forwarding/);
      await q.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: {} });
      await p.waitFor(new RegExp(`${event.id} a → 401 \\(\\d+ ms\\): `));
      const line =
        p
          .out()
          .split('\n')
          .find((l) => l.startsWith(`${event.id} a → 401`)) ?? '';
      assert.match(
        line,
        /: \{ "error": \{ "code": "HERALD_VERIFY_BAD_SIGNATURE", "message": "No matching signature found" \}/,
      );
      assert.ok(line.length < 300 && line.endsWith('…'), `one line, cut short: ${line}`);
      // A 2xx answer is the status alone, as before.
      await q.waitFor(new RegExp(`${event.id} a → 204 \\(\\d+ ms\\)\n`));
    } finally {
      p.kill();
      q.kill();
      await close(refusing);
      await ok.close();
    }
  });

  test('a refusal whose body never ends is printed with its status and start, not as no answer', async () => {
    const project = await client.createProject({ name: 'listen-endless-refusal' });
    // A 500 whose error page streams on for good: its first bytes say enough.
    const endless = createServer((req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.write('upstream exploded: ');
      const timer = setInterval(() => res.write('x'.repeat(1_024)), 20);
      res.on('close', () => clearInterval(timer));
    });
    const url = await listen(endless);
    const p = listenTo(project.id, `${url}/hook`, ['--timeout', '3000']);
    try {
      await p.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: {} });
      await p.waitFor(new RegExp(`${event.id} a → (500 \\(\\d+ ms\\): upstream exploded: x+…|failed: .*)\n`));
      assert.match(p.out(), new RegExp(`${event.id} a → 500 \\(\\d+ ms\\): upstream exploded: x+…`));
    } finally {
      p.kill();
      endless.closeAllConnections();
      await close(endless);
    }
  });

  // Herald counts an answer whose body is cut short (the connection closed before its
  // content-length came) as a failed attempt, and sends it again: the history says the status and
  // headers came, the body did not finish. Until 2026-12-08 listen printed such a 2xx as delivered
  // (undici's dump() ends quietly on the error), and such a refusal as `failed: other side closed`,
  // without the status the receiver answered.
  test('an answer whose body is cut short is a failure, with the status that came', async () => {
    const project = await client.createProject({ name: 'listen-cut-body' });
    const cutting = (status: number, start: string) =>
      createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '1000' });
          res.write(start);
          setTimeout(() => res.socket?.destroy(), 50);
        });
      });
    const ok = cutting(200, 'ok so far');
    const refusing = cutting(500, 'database down');
    const okUrl = await listen(ok);
    const refusingUrl = await listen(refusing);
    const p = listenTo(project.id, `${okUrl}/hook`);
    const q = listenTo(project.id, `${refusingUrl}/hook`);
    try {
      await p.waitFor(/herald listen: forwarding/);
      await q.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: {} });
      await p.waitFor(new RegExp(`${event.id} a → .*\n`));
      await q.waitFor(new RegExp(`${event.id} a → .*\n`));
      assert.match(
        p.out(),
        new RegExp(
          `${event.id} a → failed: 200 answered, its body cut short: other side closed \\(\\d+ ms\\)\n`,
        ),
      );
      assert.match(
        q.out(),
        new RegExp(
          `${event.id} a → 500 \\(\\d+ ms\\): database down \\(its body cut short: other side closed\\)\n`,
        ),
      );
    } finally {
      p.kill();
      q.kill();
      await close(ok);
      await close(refusing);
    }
  });

  test('--timeout bounds the whole forward: a receiver sending its answer a chunk at a time is given up on', async () => {
    const project = await client.createProject({ name: 'listen-trickle' });
    // Headers at once, then one byte every 200 ms for 3 s: each wait is short, the answer is not.
    const trickle = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || ++sent === 15) {
          clearInterval(timer);
          res.end();
        } else res.write('x');
      }, 200);
    });
    const url = await listen(trickle);
    const p = listenTo(project.id, `${url}/hook`, ['--timeout', '1000']);
    try {
      await p.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: {} });
      await p.waitFor(new RegExp(`${event.id} a → `), 10_000);
      // Not `→ 200 (3000 ms)`: the output is read as soon as the line starts, well before 3 s.
      await p.waitFor(
        new RegExp(`${event.id} a → failed: no complete answer within 1000 ms \\(--timeout\\)`),
      );
    } finally {
      p.kill();
      await close(trickle);
    }
  });

  // Herald gives up on an attempt after the endpoint's timeoutMs and sends it again later: a
  // receiver slower than that gets every event twice or more. Until 2026-12-07 listen --endpoint
  // waited 10 s (--timeout's default) whatever the endpoint's, and printed such a copy as delivered.
  test("--endpoint without --timeout gives each forward the endpoint's timeoutMs, as Herald gives its attempts", async () => {
    const project = await client.createProject({ name: 'listen-endpoint-timeout' });
    const endpoint = await client.createEndpoint(project.id, {
      url: 'https://example.test/slow',
      timeoutMs: 500,
    });
    const slow = await receiver(1_500);
    const forwardTo = `${slow.url}/hook`;
    const p = listenTo(project.id, forwardTo, ['--endpoint', endpoint.id]);
    try {
      await p.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: {} });
      await p.waitFor(new RegExp(`${event.id} a → `), 10_000);
      await p.waitFor(
        new RegExp(
          `${event.id} a → failed: no complete answer within 500 ms \\(the endpoint's timeoutMs; --timeout to change it\\)`,
        ),
      );
    } finally {
      p.kill();
    }
    // --timeout given: it decides, whatever the endpoint's.
    const q = listenTo(project.id, forwardTo, ['--endpoint', endpoint.id, '--timeout', '5000']);
    try {
      await q.waitFor(/herald listen: forwarding/);
      const event = await client.sendEvent(project.id, { type: 'a', payload: {} });
      await q.waitFor(new RegExp(`${event.id} a → 204 \\(\\d+ ms\\)`), 10_000);
    } finally {
      q.kill();
      await slow.close();
    }
  });

  // Until 2026-12-08 "works again" was said after the poll that got through had forwarded what it
  // found: below the events forwarded after the outage, and with their forwarding counted in it
  // (`works again after 9 s` for an outage of 3 s, three forwards of 2 s each after it).
  test('after an outage, "works again" comes before the events it found, and counts the outage alone', async () => {
    const project = await client.createProject({ name: 'listen-back' });
    const slow = await receiver(2_000);
    const proxy = await startTcpProxy(Number(new URL(herald.url).port));
    const p = listenProcess([
      ...['--url', `http://127.0.0.1:${proxy.port}`, '--project', project.id],
      ...['--forward-to', `${slow.url}/hook`, '--interval', '100'],
    ]);
    running.push(p);
    try {
      await p.waitFor(/herald listen: forwarding/);
      proxy.pointTo(await refusedPort());
      proxy.dropConnections();
      await p.waitFor(/polling \S+ failed/);
      // It answered as Herald until then: not asked whether --url is one (until 2026-12-08 it was).
      assert.match(
        p.out(),
        /failed: no answer from Herald at .*; it answered before: restarting, or cut off by a proxy/,
      );
      assert.doesNotMatch(p.out(), /a Herald server\?/);
      const events = await client.sendEvents(
        project.id,
        [1, 2, 3].map((n) => ({ type: 'a', payload: { n } })),
      );
      const downFor = performance.now();
      await sleep(1_000);
      proxy.pointTo(Number(new URL(herald.url).port));
      await p.waitFor(new RegExp(`${events.at(-1)?.id} a → 204`), 20_000);
      const lines = p.out().split('\n');
      const back = lines.findIndex((l) => / works again after \d+ s/.test(l));
      const first = lines.findIndex((l) => l.startsWith(`${events[0]?.id} a → `));
      assert.ok(back >= 0 && back < first, p.out());
      const said = Number(/works again after (\d+) s/.exec(p.out())?.[1]);
      // The outage: its first failure's tries, the second down, a poll's retry wait; not 6 s of forwards.
      assert.ok(
        said < 6,
        `${said} s, ${Math.round(performance.now() - downFor)} ms since the events: ${p.out()}`,
      );
    } finally {
      p.kill();
      await slow.close();
      await proxy.close();
    }
  });

  test('a window of more than 2,000 events is said when new ones are cut short, not at every poll for a burst before the start', async () => {
    const project = await client.createProject({ name: 'listen-burst' });
    const burst = () =>
      client.sendEvents(
        project.id,
        Array.from({ length: 2100 }, (_, n) => ({ type: 'burst', payload: { n } })),
      );
    // --types other: nothing is forwarded (nor contacted); what each poll reads and says is the same.
    const nowhere = 'http://127.0.0.1:9/none';
    await burst();
    const before = listenTo(project.id, nowhere, ['--types', 'other']);
    await before.waitFor(/herald listen: forwarding/);
    await sleep(1000);
    // About ten polls, each reading the 2,000 newest of those events, all there before the start.
    assert.doesNotMatch(before.out(), /more than 2000 events/);
    before.kill();

    // The same, polling every 5 s (a later flag wins).
    const during = listenTo(project.id, nowhere, ['--types', 'other', '--interval', '5000']);
    await during.waitFor(/herald listen: forwarding/);
    // Sent in the 5 s before its next poll, which finds 2,100 new events and reads 2,000.
    await burst();
    await during.waitFor(/more than 2000 events in 5 s: the oldest of them are not forwarded/, 15_000);
  });

  test('an --interval or --timeout longer than a timer holds is refused at start, naming it', async () => {
    // Past 2^31-1 ms Node's timers fire after 1 ms: --timeout 3000000000 (a receiver stopped in a
    // debugger, "wait for ever") gave up on every forward at once, and --interval polled Herald
    // without a pause.
    const project = await client.createProject({ name: 'listen-long-timers' });
    const conn = ['--url', herald.url, '--project', project.id, '--forward-to', 'http://127.0.0.1:9/none'];
    for (const flag of ['--timeout', '--interval']) {
      const run = await runListen([...conn, flag, '3000000000']);
      assert.equal(run.code, 1, run.out);
      assert.match(
        run.out,
        new RegExp(`herald: ${flag}: must be at most 2147483647 ms \\(24\\.8 days\\), got 3000000000`),
      );
      assert.doesNotMatch(run.out, /herald listen: forwarding/);
    }
    // The largest is taken.
    const p = listenTo(project.id, 'http://127.0.0.1:9/none', ['--timeout', '2147483647']);
    await p.waitFor(/herald listen: forwarding/);
    p.kill();
  });

  test('a secret given with --secret is not printed; a generated one is', async () => {
    const project = await client.createProject({ name: 'listen-secret' });
    const local = await receiver();
    const given = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    for (const secret of [given, undefined]) {
      const p = listenProcess([
        '--url',
        herald.url,
        '--project',
        project.id,
        '--forward-to',
        local.url,
        ...(secret ? ['--secret', secret] : []),
      ]);
      running.push(p);
      try {
        await p.waitFor(/herald listen: forwarding[^\n]*\n/);
        if (secret) {
          assert.ok(!p.out().includes(secret), p.out());
          assert.match(p.out(), /the secret given with --secret/);
        } else {
          assert.match(p.out(), /new secret whsec_[A-Za-z0-9+/]{32}/);
        }
      } finally {
        p.kill();
      }
    }
    await local.close();
  });

  test('--secret-file (- for stdin) signs with the secret it holds, kept out of ps and shell history, and never printed', async () => {
    const project = await client.createProject({ name: 'listen-secret-file' });
    const local = await receiver();
    const dir = mkdtempSync(join(tmpdir(), 'herald-listen-secret-'));
    try {
      const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
      const file = join(dir, 'secret');
      writeFileSync(file, `${secret}\n`);
      for (const [n, args] of [
        [1, ['--secret-file', file]],
        [2, ['--secret-file', '-']],
      ] as const) {
        const p = listenProcess([
          '--url',
          herald.url,
          '--project',
          project.id,
          '--forward-to',
          local.url,
          '--interval',
          '50',
          ...args,
        ]);
        running.push(p);
        p.child.stdin?.end(`${secret}\n`);
        try {
          // Before, commander refused the unknown option --secret-file, exit code 1.
          await p.waitFor(/herald listen: forwarding[^\n]*\n/);
          assert.ok(!p.out().includes(secret), p.out());
          assert.match(p.out(), /the secret given with --secret-file/);
          await client.sendEvent(project.id, { type: 'file.signed', payload: { n } });
          const [request] = (await local.waitFor(n)).slice(n - 1);
          const verified = verifyWebhook({
            scheme: 'standard',
            payload: request!.body,
            headers: request!.headers,
            secret,
          });
          assert.deepEqual((verified.payload as { data: unknown }).data, { n });
        } finally {
          p.kill();
        }
      }
      // Refused at start, naming --secret-file, the value never repeated: not a standard secret,
      // empty, with --secret or --endpoint.
      writeFileSync(join(dir, 'bad'), 'not-a-standard-secret\n');
      writeFileSync(join(dir, 'empty'), '\n');
      const conn = ['--url', herald.url, '--project', project.id, '--forward-to', local.url];
      for (const [args, message] of [
        [
          ['--secret-file', join(dir, 'bad')],
          /^herald: --secret-file: a standard secret must be whsec_ followed by base64/,
        ],
        [['--secret-file', join(dir, 'empty')], /^herald: --secret-file: .*empty is empty\n$/],
        [['--secret-file', file, '--secret', secret], /^herald: --secret-file: not with --secret/],
        [['--secret-file', file, '--endpoint', 'ep_x'], /^herald: --secret-file: not with --endpoint/],
      ] as const) {
        const run = await runListen([...conn, ...args]);
        assert.equal(run.code, 1, run.out);
        assert.match(run.out, message);
        assert.ok(!run.out.includes('not-a-standard-secret'), run.out);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await local.close();
    }
  });
});

test('while Herald is down, listen says so once, and once when it answers again', async () => {
  // A stand-in Herald on loopback: lists no events, or drops every connection while `down`.
  let down = false;
  let polls = 0;
  const fake = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    polls++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"nextCursor":null}');
  });
  const url = await listen(fake);
  const p = listenProcess([
    '--url',
    url,
    '--project',
    'p',
    '--forward-to',
    'http://127.0.0.1:9/',
    '--interval',
    '20',
  ]);
  try {
    await p.waitFor(/herald listen: forwarding/);
    down = true;
    await p.waitFor(/polling p failed/);
    await sleep(2_000); // several polls, each failing after the client's retries
    const during = polls;
    down = false;
    await p.waitFor(/polling p works again after \d+ s \(it failed with: /);
    await sleep(300);
    assert.ok(polls > during + 2, 'polling went on');
    assert.equal(p.out().match(/failed/g)?.length, 2, p.out()); // the outage line, and the "back" line's reason
    assert.equal(p.out().match(/polling p failed/g)?.length, 1, p.out());
    assert.equal(p.out().match(/works again/g)?.length, 1, p.out());
  } finally {
    p.kill();
    await close(fake);
  }
});

test('Ctrl-C while a poll waits for a Herald that does not answer stops at once, without an outage line', async () => {
  // A stand-in Herald on loopback that answers the start, then keeps every later call waiting.
  let hang = false;
  let waiting = 0;
  const fake = createServer((_req, res) => {
    if (hang) waiting++;
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"nextCursor":null}');
  });
  const url = await listen(fake);
  const p = listenProcess(['--url', url, '--project', 'p', '--forward-to', 'http://127.0.0.1:9/']);
  try {
    await p.waitFor(/herald listen: forwarding/);
    hang = true;
    // A poll is under way, waiting.
    for (const deadline = Date.now() + 10_000; waiting === 0; await sleep(20))
      assert.ok(Date.now() < deadline, 'no poll came while the stand-in Herald kept calls waiting');
    const started = Date.now();
    p.child.kill('SIGINT');
    // Nothing of what that poll would find is forwarded after Ctrl-C: its answer is not waited
    // for (the client's 30 s timeout, not --timeout).
    const code = await Promise.race([p.exited, sleep(5_000).then(() => 'still running after 5 s')]);
    assert.equal(code, 0, p.out());
    assert.ok(Date.now() - started < 3_000, `${Date.now() - started} ms`);
    assert.doesNotMatch(p.out(), /polling p failed|trying again/);
  } finally {
    p.kill();
    await close(fake);
  }
});

test('--forward-to must be this machine unless --allow-remote; nothing is contacted when refused', async () => {
  let calls = 0;
  const fake = createServer((_req, res) => {
    calls++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[],"nextCursor":null}');
  });
  const url = await listen(fake);
  try {
    for (const target of ['http://10.1.2.3:3000/hook', 'http://example.test/hook', 'http://[fe80::1]/x']) {
      const refused = await runListen(['--url', url, '--project', 'p', '--forward-to', target]);
      assert.equal(refused.code, 1, refused.out);
      assert.match(refused.out, /--forward-to: .* is not this machine .*--allow-remote/);
    }
    assert.equal(calls, 0);
  } finally {
    await close(fake);
  }
  for (const ok of [
    'http://localhost:3000/',
    'http://LOCALHOST./',
    'http://app.localhost/',
    'http://127.0.0.1/',
    'http://127.9.8.7:1/',
    'http://[::1]:3000/',
    'http://[::ffff:127.0.0.1]/',
  ]) {
    assert.equal(isLoopbackUrl(new URL(ok)), true, ok);
  }
  for (const no of [
    'http://10.0.0.1/',
    'http://128.0.0.1/',
    'http://[::2]/',
    'http://[::ffff:10.0.0.1]/',
    'http://localhost.example/',
  ]) {
    assert.equal(isLoopbackUrl(new URL(no)), false, no);
  }
});
