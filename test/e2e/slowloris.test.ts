/**
 * Slow clients against a real `herald serve`: 200 sockets that send their headers one byte a
 * second (slowloris), 50 that send a body one byte at a time, 50 that connect and say nothing.
 * Meanwhile ordinary requests keep being answered quickly, and the server closes every slow socket
 * itself once its timeout is up (408). The timeouts are shortened through their settings so the
 * test takes seconds: HERALD_HEADERS_TIMEOUT_MS and HERALD_REQUEST_TIMEOUT_MS.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { type HeraldProcess, startHerald } from './harness.ts';

const ADMIN = 'slowloris-admin-token-0123456789abcdef';
const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 3_000;
/** Node checks the timeouts once a second (src/api/build-app.ts), and the machine may be busy. */
const SLACK_MS = 2_500;

interface SlowSocket {
  socket: Socket;
  openedAt: number;
  closedAt: number | null;
  response: string;
}

let herald: HeraldProcess;
let port: number;

before(async () => {
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HERALD_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    },
  });
  port = Number(new URL(herald.url).port);
});
after(() => herald?.dispose());

/** Opens a socket that sends `first`, then `drip` one byte every `everyMs` until the server closes it. */
function slowSocket(first: string, drip: string, everyMs: number): Promise<SlowSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const slow: SlowSocket = { socket, openedAt: Date.now(), closedAt: null, response: '' };
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      slow.response += chunk;
    });
    socket.on('error', () => undefined); // a reset is one way of being closed
    socket.on('close', () => {
      clearInterval(timer);
      slow.closedAt = Date.now();
    });
    socket.once('connect', () => {
      if (first) socket.write(first);
      let i = 0;
      if (drip) {
        timer = setInterval(() => {
          if (!socket.destroyed) socket.write(drip[i++ % drip.length]!);
        }, everyMs);
      }
      resolve(slow);
    });
    socket.once('error', reject);
  });
}

async function timed(path: string, init: RequestInit = {}) {
  const started = Date.now();
  const response = await fetch(`${herald.url}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return { status: response.status, ms: Date.now() - started };
}

test('slow and silent sockets are closed by the server, and nobody else waits for them', async () => {
  const project = await fetch(`${herald.url}/api/v1/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'slowloris' }),
  }).then((r) => r.json() as Promise<{ id: string }>);

  const started = Date.now();
  const headerDrip: Promise<SlowSocket>[] = [];
  for (let i = 0; i < 200; i++) {
    headerDrip.push(
      slowSocket(
        `POST /api/v1/projects/${project.id}/events HTTP/1.1\r\nHost: x\r\n`,
        `X-Slow-${i}: ${'a'.repeat(50)}\r\n`,
        1_000,
      ),
    );
  }
  const bodyDrip: Promise<SlowSocket>[] = [];
  for (let i = 0; i < 50; i++) {
    bodyDrip.push(
      slowSocket(
        `POST /api/v1/projects/${project.id}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"type":"t","payload":"',
        'a',
        500,
      ),
    );
  }
  const silent: Promise<SlowSocket>[] = [];
  for (let i = 0; i < 50; i++) silent.push(slowSocket('', '', 0));
  const sockets = await Promise.all([...headerDrip, ...bodyDrip, ...silent]);
  const all = { headers: sockets.slice(0, 200), body: sockets.slice(200, 250), silent: sockets.slice(250) };

  // Ordinary clients, while the slow ones hold their sockets: every request answered, and quickly.
  const latencies: number[] = [];
  const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  while (Date.now() - started < REQUEST_TIMEOUT_MS + SLACK_MS && sockets.some((s) => s.closedAt === null)) {
    const results = await Promise.all([
      timed('/healthz'),
      timed('/api/v1/projects', { headers: auth }),
      timed(`/api/v1/projects/${project.id}/events`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ type: 'slowloris.probe', payload: { at: Date.now() } }),
      }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 202],
    );
    latencies.push(...results.map((r) => r.ms));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  latencies.sort((a, b) => a - b);
  const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
  assert.ok(latencies.length >= 10, `only ${latencies.length} ordinary requests were made`);
  assert.ok(p95 < 1_000, `ordinary requests slowed down: p95 ${p95} ms over ${latencies.length} requests`);

  const late = (group: SlowSocket[], limitMs: number) =>
    group.filter((s) => s.closedAt === null || s.closedAt - s.openedAt > limitMs + SLACK_MS);
  assert.equal(
    late(all.headers, HEADERS_TIMEOUT_MS).length,
    0,
    'header dribblers outlived HERALD_HEADERS_TIMEOUT_MS',
  );
  assert.equal(
    late(all.silent, HEADERS_TIMEOUT_MS).length,
    0,
    'silent sockets outlived HERALD_HEADERS_TIMEOUT_MS',
  );
  assert.equal(
    late(all.body, REQUEST_TIMEOUT_MS).length,
    0,
    'body dribblers outlived HERALD_REQUEST_TIMEOUT_MS',
  );
  // Not cut off early either: a slow but honest client gets its whole allowance.
  for (const s of all.headers) assert.ok(s.closedAt! - s.openedAt >= HEADERS_TIMEOUT_MS - 100);
  // Closed with a 408 in Herald's error shape, not just dropped.
  for (const s of [...all.headers, ...all.body]) {
    assert.match(s.response, /^HTTP\/1\.1 408 /, s.response.slice(0, 100));
    assert.match(s.response, /"code":"HERALD_ERR_REQUEST_TIMEOUT"/);
  }
  // None of the dribbled events was accepted.
  const events = await fetch(`${herald.url}/api/v1/projects/${project.id}/events?limit=1000`, {
    headers: auth,
  }).then((r) => r.json() as Promise<{ data: { type: string }[] }>);
  assert.ok(events.data.every((e) => e.type === 'slowloris.probe'));

  // Still alive and well afterwards.
  assert.equal((await timed('/healthz')).status, 200);
  assert.equal((await timed('/readyz')).status, 200);
});
