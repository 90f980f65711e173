/** The sender against real loopback servers: outcomes, timeouts, caps, and the SSRF guard. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { SendRequest } from '../../src/delivery/send-types.ts';
import { createSender, type SenderOptions } from '../../src/delivery/sender.ts';
import { classifyResult } from '../../src/domain/classify-outcome.ts';
import { refusedPort } from '../support/refused-port.ts';
import { post } from './post-request.ts';
import { startReceiver } from './receiver.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const senders: { close(): Promise<void> }[] = [];
after(async () => {
  for (const s of senders) await s.close();
});

function sender(over: Partial<SenderOptions> = {}) {
  const s = createSender({ allowNetworks: LOOPBACK, maxResponseBytes: 65536, userAgent: 'test', ...over });
  senders.push(s);
  return s;
}

/** What a raw server saw at the socket level. */
interface SocketStats {
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open right now. */
  open: number;
  /** Most connections open at once. */
  peak: number;
  /** Connections the client closed. */
  closed: number;
}

/** A raw HTTP server (handler gets req/res), counting connections, closed after the test. */
async function rawServer(
  handler: Parameters<typeof createHttpServer>[1],
  t: { after(fn: () => unknown): void },
  host = '127.0.0.1',
) {
  const sockets = new Set<Socket>();
  const stats: SocketStats = { accepted: 0, open: 0, peak: 0, closed: 0 };
  const server: Server = createHttpServer(handler);
  // longer than any test: a socket closing early was closed by the sender, not by the server
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    stats.accepted++;
    stats.open++;
    stats.peak = Math.max(stats.peak, stats.open);
    s.on('close', () => {
      sockets.delete(s);
      stats.open--;
      stats.closed++;
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  const port = (server.address() as AddressInfo).port;
  const h = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${h}:${port}/hook`, port, stats };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sender', () => {
  test('2xx: response status, headers and body; request method, headers and body arrive', async (t) => {
    const r = await startReceiver(() => ({ status: 204, headers: { 'x-seen': 'yes' }, body: '' }));
    t.after(() => r.close());
    const res = await sender().send(post(r.url));
    assert.equal(res.error, null);
    assert.equal(res.response?.status, 204);
    assert.equal(res.response?.headers['x-seen'], 'yes');
    assert.ok(res.durationMs >= 0 && res.startedAt <= Date.now());
    assert.equal(r.requests[0]!.method, 'POST');
    assert.equal(r.requests[0]!.body, '{"a":1}');
    assert.equal(r.requests[0]!.headers['webhook-id'], 'msg_1');
    assert.equal(r.requests[0]!.headers['user-agent'], 'test');
  });

  test('500 is a response, not an error', async (t) => {
    const r = await startReceiver(() => ({ status: 500, body: 'boom' }));
    t.after(() => r.close());
    const res = await sender().send(post(r.url));
    assert.equal(res.error, null);
    assert.equal(res.response?.status, 500);
    assert.equal(res.response?.body, 'boom');
  });

  test('301 is returned as is, never followed', async (t) => {
    const target = await startReceiver();
    t.after(() => target.close());
    const r = await startReceiver(() => ({ status: 301, headers: { location: target.url } }));
    t.after(() => r.close());
    const res = await sender().send(post(r.url));
    assert.equal(res.response?.status, 301);
    assert.equal(res.response?.headers.location, target.url);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(target.requests.length, 0);
  });

  test('slow headers → timeout within about timeoutMs', async (t) => {
    const r = await startReceiver(() => ({ status: 200, delayMs: 3_000 }));
    t.after(() => r.close());
    const started = Date.now();
    const res = await sender().send(post(r.url, 300));
    assert.equal(res.response, null);
    assert.equal(res.error?.kind, 'timeout');
    assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
  });

  test('slow body → timeout (one deadline over headers and body)', async (t) => {
    const { url } = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // a trickle: each chunk resets an idle timer, only an overall deadline stops it
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    }, t);
    const started = Date.now();
    const res = await sender().send(post(url, 400));
    assert.equal(res.error?.kind, 'timeout');
    assert.match(res.error?.message ?? '', /its body did not finish/);
    assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
    // The receiver's answer is kept as far as it came: its status, headers and the body so far.
    assert.equal(res.response?.status, 200);
    assert.equal(res.response?.headers['content-type'], 'text/plain');
    assert.match(res.response?.body ?? '', /^\.+$/);
    assert.equal(classifyResult(res).outcome, 'failed', 'still a timeout, retried');
  });

  test('connection reset → reset', async (t) => {
    const r = await startReceiver(() => ({ reset: true }));
    t.after(() => r.close());
    const res = await sender().send(post(r.url));
    assert.equal(res.response, null);
    assert.equal(res.error?.kind, 'reset');
  });

  // A receiver that answered and then cut its connection mid-body answered all the same: the history
  // keeps its status, headers and body so far (as a timeout in the body does), and a 503's
  // Retry-After is still read. Before, the attempt kept only "reset" with no response at all.
  for (const [status, extra] of [
    [200, {}],
    [503, { 'retry-after': '120' }],
  ] as const) {
    test(`a connection cut after a ${status}'s status and headers → reset, the response kept as far as it came`, async (t) => {
      const { url } = await rawServer((_req, res) => {
        res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '100', ...extra });
        res.write('half');
        setTimeout(() => res.socket?.destroy(), 50);
      }, t);
      const res = await sender().send(post(url));
      assert.equal(res.error?.kind, 'reset');
      assert.match(
        res.error?.message ?? '',
        /: the response's status and headers came, its body did not finish$/,
      );
      assert.equal(res.response?.status, status);
      assert.equal(res.response?.headers['content-type'], 'text/plain');
      assert.equal(res.response?.headers['retry-after'], status === 503 ? '120' : undefined);
      assert.equal(res.response?.body, 'half');
      assert.equal(classifyResult(res).outcome, 'failed', 'still a failure, retried');
    });
  }

  test('refused port → connect', async () => {
    const res = await sender().send(post(`http://127.0.0.1:${await refusedPort()}/hook`));
    assert.equal(res.error?.kind, 'connect');
  });

  test('a 10 MB response is cut at maxResponseBytes and does not take long', async (t) => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const { url, stats } = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const pump = () => {
        while (sent < 10 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => {});
      pump();
    }, t);
    const started = Date.now();
    const res = await sender().send(post(url, 5_000));
    assert.equal(res.error, null);
    assert.equal(res.response?.status, 200);
    assert.equal(res.response!.body, 'x'.repeat(65536));
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    // the rest was not read: the connection was dropped, not kept busy by 10 MB
    for (let i = 0; i < 50 && stats.closed === 0; i++) await sleep(20);
    assert.equal(stats.closed, 1);
  });

  test('loopback is blocked when allowNetworks is empty, and the server sees nothing', async (t) => {
    const r = await startReceiver();
    t.after(() => r.close());
    const strict = sender({ allowNetworks: [] });
    for (const url of [r.url, `http://[::ffff:127.0.0.1]:${r.port}/`, `http://2130706433:${r.port}/`]) {
      const res = await strict.send(post(url));
      assert.equal(res.error?.kind, 'blocked', url);
    }
    assert.equal(r.requests.length, 0);
  });

  test('a name that resolves to loopback (DNS rebinding) is blocked at connect time', async (t) => {
    const r = await startReceiver();
    t.after(() => r.close());
    const strict = sender({
      allowNetworks: [],
      lookup: async (hostname) => {
        assert.equal(hostname, 'rebind.test');
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    const res = await strict.send(post(`http://rebind.test:${r.port}/hook`));
    assert.equal(res.error?.kind, 'blocked');
    assert.equal(r.requests.length, 0);
    // the same stub with loopback allowed connects: the guard, not the stub, refused
    const open = sender({ lookup: async () => [{ address: '127.0.0.1', family: 4 }] });
    const ok = await open.send(post(`http://rebind.test:${r.port}/hook`));
    assert.equal(ok.response?.status, 200);
  });

  test('non-http schemes are blocked', async () => {
    const res = await sender().send(post('file:///etc/passwd'));
    assert.equal(res.error?.kind, 'blocked');
  });

  test('a self-signed certificate → tls', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) =>
      res.end('ok'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => server.close(r)));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const res = await sender().send(post(url));
    assert.equal(res.error?.kind, 'tls');
    // trusting it as a CA makes the same request succeed: the failure was the certificate
    const trusting = sender({ ca: cert });
    const ok = await trusting.send(post(url));
    assert.equal(ok.response?.status, 200, JSON.stringify(ok.error));
  });
  test('410 comes back as a response that classifies as gone', async (t) => {
    const r = await startReceiver(() => ({ status: 410, body: 'gone' }));
    t.after(() => r.close());
    const res = await sender().send(post(r.url));
    assert.equal(res.response?.status, 410);
    assert.equal(classifyResult(res).effect, 'gone');
    assert.equal(classifyResult(res).retryable, false);
  });

  test("the request's own User-Agent wins over the default, in any case", async (t) => {
    const r = await startReceiver();
    t.after(() => r.close());
    const req = post(r.url);
    await sender().send({ ...req, headers: { ...req.headers, 'User-Agent': 'custom/1' } });
    assert.equal(r.requests[0]!.headers['user-agent'], 'custom/1');
  });

  test('response headers are a plain lowercase record; repeated ones keep each value, one per line', async (t) => {
    const cookies = ['a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'b=2; Path=/'];
    const { url } = await rawServer((_req, res) => {
      res.setHeader('X-Mixed-Case', 'v');
      res.setHeader('Set-Cookie', cookies);
      res.setHeader('X-Twice', ['x, y', 'z']);
      res.end('ok');
    }, t);
    const res = await sender().send(post(url));
    assert.equal(Object.getPrototypeOf(res.response!.headers), Object.prototype);
    assert.equal(res.response!.headers['x-mixed-case'], 'v');
    assert.deepEqual(res.response!.headers['set-cookie']!.split('\n'), cookies);
    assert.deepEqual(res.response!.headers['x-twice']!.split('\n'), ['x, y', 'z']);
  });

  test('requestHeaders are the header lines the receiver got, host and content-length included, in order', async (t) => {
    const received: string[][] = [];
    const { url, port } = await rawServer((req, res) => {
      const lines: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]!.toLowerCase()}: ${req.rawHeaders[i + 1]}`);
      received.push(lines);
      req.resume();
      req.on('end', () => res.end('ok'));
    }, t);
    const s = sender();
    const lines = (h: Record<string, string> | undefined) =>
      Object.entries(h ?? {}).map(([k, v]) => `${k.toLowerCase()}: ${v}`);
    const requests: SendRequest[] = [
      { ...post(url), body: '{"name":"Zoë ✓"}' }, // multi-byte: the length is in bytes
      {
        method: 'GET',
        url: `${url}?type=a`,
        headers: { 'webhook-id': 'msg_2' },
        body: null,
        timeoutMs: 2_000,
      },
      { method: 'PUT', url, headers: { 'X-Env': 'prod' }, body: '', timeoutMs: 2_000 },
      { method: 'PATCH', url, headers: {}, body: null, timeoutMs: 2_000 },
    ];
    for (const [i, req] of requests.entries()) {
      const res = await s.send(req);
      assert.equal(res.error, null);
      assert.deepEqual(lines(res.requestHeaders), received[i], `${req.method} ${JSON.stringify(req.body)}`);
    }
    assert.equal(received[0]![0], `host: 127.0.0.1:${port}`);
    assert.ok(received[0]!.includes(`content-length: ${Buffer.byteLength('{"name":"Zoë ✓"}')}`));
    assert.ok(!received[1]!.some((l) => l.startsWith('content-length')), 'a GET without a body has none');
    // Refused by the guard: the request as it would have gone.
    const blocked = await sender({ allowNetworks: [] }).send(post(url));
    assert.equal(blocked.error?.kind, 'blocked');
    assert.equal(blocked.requestHeaders?.host, `127.0.0.1:${port}`);
  });

  test('an informational 103 before the answer is passed over: the final status and body count', async (t) => {
    const { url } = await rawServer((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' }, () => {
        res.writeHead(202, { 'x-final': 'yes' }).end('accepted');
      });
    }, t);
    const res = await sender().send(post(url));
    assert.equal(res.error, null);
    assert.equal(res.response?.status, 202);
    assert.equal(res.response?.headers['x-final'], 'yes');
    assert.equal(res.response?.headers.link, undefined);
    assert.equal(res.response?.body, 'accepted');
  });

  test('a multi-byte character cut by the cap is dropped, not mangled', async (t) => {
    const { url } = await rawServer((_req, res) => res.end('abcé and more'), t);
    const res = await sender({ maxResponseBytes: 4 }).send(post(url));
    assert.equal(res.response?.body, 'abc');
  });

  for (const framing of ['content-length', 'chunked'] as const) {
    test(`a character split across two body writes arrives whole (${framing})`, async (t) => {
      const bytes = Buffer.from('prix: 5 €, é', 'utf8');
      const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of €
      const { url } = await rawServer((req, res) => {
        req.resume();
        if (framing === 'content-length') res.setHeader('content-length', bytes.length);
        res.write(bytes.subarray(0, cut));
        setTimeout(() => res.end(bytes.subarray(cut)), 20);
      }, t);
      const res = await sender().send(post(url));
      assert.equal(res.response?.body, 'prix: 5 €, é');
    });
  }

  test('a response that is not HTTP → protocol', async (t) => {
    const sockets = new Set<Socket>();
    const garbage = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    });
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((r) => garbage.close(r));
    });
    const res = await sender().send(post(`http://127.0.0.1:${(garbage.address() as AddressInfo).port}/`));
    assert.equal(res.error?.kind, 'protocol', JSON.stringify(res.error));
  });

  test('keep-alive: sequential requests share one connection', async (t) => {
    // the request body is read before answering, as a receiver would: an unread body ends keep-alive
    const { url, stats } = await rawServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    }, t);
    const s = sender();
    for (let i = 0; i < 3; i++) {
      assert.equal((await s.send(post(url))).response?.status, 200);
      // undici frees the connection a tick after the body ends; back-to-back calls may open a second
      await sleep(10);
    }
    assert.equal(stats.accepted, 1);
  });

  test('connections per origin are bounded', async (t) => {
    const { url, stats } = await rawServer((_req, res) => {
      setTimeout(() => res.end('ok'), 150);
    }, t);
    const s = sender({ connectionsPerOrigin: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, () => s.send(post(url))));
    assert.ok(results.every((r) => r.response?.status === 200));
    assert.equal(stats.peak, 2);
  });

  test('an idle origin pool is closed (its keep-alive socket goes away)', async (t) => {
    const { url, stats } = await rawServer((_req, res) => res.end('ok'), t);
    const s = sender({ poolIdleMs: 100 });
    assert.equal((await s.send(post(url))).response?.status, 200);
    for (let i = 0; i < 100 && stats.closed === 0; i++) await sleep(20);
    assert.equal(stats.closed, 1, 'the sender closed the idle connection');
    // and the origin still works afterwards, on a new pool
    assert.equal((await s.send(post(url))).response?.status, 200);
    assert.equal(stats.accepted, 2);
  });

  test('close() ends in-flight requests with a result, not a throw', async (t) => {
    const r = await startReceiver(() => ({ hang: true }));
    t.after(() => r.close());
    const s = createSender({ allowNetworks: LOOPBACK, maxResponseBytes: 65536, userAgent: 'test' });
    const pending = s.send(post(r.url, 5_000));
    await r.waitFor(1);
    await s.close();
    const res = await pending;
    assert.equal(res.response, null);
    assert.ok(res.error, 'an error kind is recorded');
  });

  test('odd IP spellings URL parsing leaves alone are caught before DNS', async (t) => {
    const r = await startReceiver();
    t.after(() => r.close());
    const asked: string[] = [];
    const strict = sender({
      allowNetworks: [],
      lookup: async (hostname) => {
        asked.push(hostname);
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    for (const host of ['127.0.0.1..', '0x7f.1', '0177.0.0.1', '127.1', '[::ffff:7f00:1]', '[::7f00:1]']) {
      const res = await strict.send(post(`http://${host}:${r.port}/hook`));
      assert.equal(res.error?.kind, 'blocked', host);
    }
    assert.deepEqual(asked, [], 'no name was resolved');
    assert.equal(r.requests.length, 0);
  });

  test('a name with one allowed and one refused address is refused as a whole', async (t) => {
    const r = await startReceiver();
    t.after(() => r.close());
    const s = sender({
      allowNetworks: ['127.0.0.1/32'],
      lookup: async () => [
        { address: '127.0.0.1', family: 4 },
        { address: '127.0.0.2', family: 4 },
      ],
    });
    const res = await s.send(post(`http://mixed.test:${r.port}/hook`));
    assert.equal(res.error?.kind, 'blocked');
    // the name, not the address (the attempt is the tenant's to read: guarded-lookup.ts)
    assert.match(res.error!.message, /^mixed\.test resolves to an address that is not allowed/);
    assert.doesNotMatch(res.error!.message, /127\.0\.0\.2/);
    assert.equal(r.requests.length, 0);
  });

  test('IPv6 loopback: delivered when ::1/128 is allowed, refused otherwise (literal and by name)', async (t) => {
    const { url, port, stats } = await rawServer((_req, res) => res.end('six'), t, '::1');
    assert.equal((await sender().send(post(url))).response?.body, 'six');
    const strict = sender({
      allowNetworks: ['127.0.0.0/8'],
      lookup: async () => [{ address: '::1', family: 6 }],
    });
    assert.equal((await strict.send(post(url))).error?.kind, 'blocked');
    assert.equal((await strict.send(post(`http://six.test:${port}/`))).error?.kind, 'blocked');
    assert.equal(stats.accepted, 1);
  });
});
