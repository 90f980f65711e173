/**
 * Fastify's own error bodies never reach a client: a request that arrives on a kept-alive
 * connection while the server shuts down gets 503 in Herald's error shape with Retry-After, and a
 * worker's probe server answers unknown routes (and its own shutdown) like the API does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/build-app.ts';
import { PIPELINED_AT_ONCE } from '../../src/api/pipelined-requests.ts';
import { buildWorkerApp } from '../../src/api/worker-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald } from '../../src/main.ts';
import { openStore } from '../../src/store/open-store.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { within } from '../support/wait-until.ts';

const ADMIN = 'shutdown-errors-admin-token-0123456789';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads every HTTP/1.1 response (with Content-Length bodies) a socket receives until it closes. */
function responses(socket: Socket): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const out: RawResponse[] = [];
      let rest = data;
      while (rest.length > 0) {
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) break;
        const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
        const headers = Object.fromEntries(
          lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        );
        const length = Number(headers['content-length'] ?? 0);
        out.push({
          status: Number(statusLine?.split(' ')[1]),
          headers,
          body: rest.slice(end + 4, end + 4 + length),
        });
        rest = rest.slice(end + 4 + length);
      }
      resolve(out);
    });
  });
}

/** A kept-alive connection to `port`, and everything it will have received once it closes. */
async function connection(port: number): Promise<{ socket: Socket; received: Promise<RawResponse[]> }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, received: responses(socket) };
}

/** The API on a free loopback port, with the held route when given; `dispose` closes it and its store. */
async function listeningApi(held?: ReturnType<typeof holdRoute>) {
  const store = await openStore('sqlite::memory:');
  const app = buildApp({ store, config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }) });
  if (held) app.get(held.path, held.handler);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const dispose = async () => {
    await app.close();
    await store.close();
  };
  return { app, port, dispose };
}

/**
 * On one kept-alive connection: a request held in flight by `hold`, then app.close(), then a second
 * request on the same connection. Returns what the connection received.
 */
async function requestDuringClose(
  app: FastifyInstance,
  port: number,
  held: { path: string; entered: Promise<void>; release: () => void },
  second: string,
): Promise<RawResponse[]> {
  const { socket, received } = await connection(port);
  socket.write(`GET ${held.path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
  await held.entered;
  const closed = app.close();
  await new Promise((r) => setTimeout(r, 50)); // the close has begun (preClose ran)
  socket.write(`GET ${second} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 50));
  held.release();
  const result = await received;
  await closed;
  return result;
}

function holdRoute() {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((r) => {
    enter = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  return {
    path: '/test/held',
    entered,
    release,
    handler: async () => {
      enter();
      await released;
      return { held: true };
    },
  };
}

function assertShuttingDown(response: RawResponse | undefined) {
  assert.ok(response, 'a second response');
  assert.equal(response.status, 503, response.body);
  assert.equal(response.headers['retry-after'], '1');
  assert.equal(response.headers.connection, 'close');
  assert.deepEqual(JSON.parse(response.body), {
    error: {
      code: 'HERALD_ERR_SHUTTING_DOWN',
      message: 'this server is shutting down; send the request again',
      // A 5xx names its request id, the answer's x-request-id (request-id.ts).
      requestId: response.headers['x-request-id'],
    },
  });
  assert.ok(response.headers['x-request-id']);
}

test('a request on a kept-alive connection during the API shutdown gets 503 HERALD_ERR_SHUTTING_DOWN with Retry-After; the one in flight finishes', async () => {
  const held = holdRoute();
  const { app, port, dispose } = await listeningApi(held);
  try {
    const [first, second, ...more] = await requestDuringClose(app, port, held, '/healthz');
    assert.equal(first?.status, 200);
    assert.deepEqual(JSON.parse(first?.body ?? ''), { held: true });
    assertShuttingDown(second);
    assert.equal(more.length, 0);
  } finally {
    await dispose();
  }
});

test('the 503 of a closing server to an /api/ URL says Cache-Control: no-store, as every /api/ answer does', async () => {
  // It is answered before the token check, whose hook set the header until 2026-12-06 (no-store.ts).
  const held = holdRoute();
  const { app, port, dispose } = await listeningApi(held);
  try {
    const [, second] = await requestDuringClose(app, port, held, '/api/v1/projects');
    assertShuttingDown(second);
    assert.equal(second?.headers['cache-control'], 'no-store');
  } finally {
    await dispose();
  }
});

test('requests a client pipelined past the ones running get 503 once the API shutdown begins; they are not run', async () => {
  const held = holdRoute();
  let ran = 0;
  const counted = {
    ...held,
    handler: () => {
      ran++;
      return held.handler();
    },
  };
  const { app, port, dispose } = await listeningApi(counted);
  try {
    const { socket, received } = await connection(port);
    // PIPELINED_AT_ONCE run; the rest wait behind them (pipelined-requests.ts), taken before the close.
    const count = PIPELINED_AT_ONCE + 3;
    socket.write(`GET ${held.path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`.repeat(count));
    await held.entered;
    await new Promise((r) => setTimeout(r, 100)); // every request read: the first few run, the rest wait
    const closed = app.close();
    await new Promise((r) => setTimeout(r, 50)); // the close has begun (preClose ran)
    held.release();
    const answers = await received;
    await closed;
    assert.equal(answers.length, count);
    for (const answer of answers.slice(0, PIPELINED_AT_ONCE)) assert.equal(answer.status, 200);
    // They were sent before the close began, but waited: run, one would store what the
    // shutdown no longer has time for (a stop waits for its answer).
    for (const answer of answers.slice(PIPELINED_AT_ONCE, -1)) {
      assert.equal(answer.status, 503);
      assert.equal(JSON.parse(answer.body).error.code, 'HERALD_ERR_SHUTTING_DOWN');
    }
    assertShuttingDown(answers.at(-1)); // the last closes the connection

    assert.equal(ran, PIPELINED_AT_ONCE);
  } finally {
    await dispose();
  }
});

test('a worker answers an unknown route with 404 HERALD_ERR_NOT_FOUND in the API error shape', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-worker-'));
  const config = loadConfig({
    env: {
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_DATA_DIR: dir,
      HERALD_ROLE: 'worker',
      HERALD_PORT: '0',
      HERALD_HOST: '127.0.0.1',
    },
  });
  const herald = await startHerald(config, { logger: createLogger({ level: 'silent' }) });
  try {
    for (const [method, path] of [
      ['GET', '/api/v1/projects'],
      ['POST', '/healthz'],
      ['GET', '/nope'],
    ] as const) {
      const response = await fetch(`${herald.url}${path}`, { method });
      assert.equal(response.status, 404, path);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'HERALD_ERR_NOT_FOUND');
      assert.equal(
        body.error.message,
        `no ${method} route at this path (a worker serves only /healthz, /readyz and /metrics)`,
      );
    }
    const ready = await fetch(`${herald.url}/readyz`);
    assert.equal(ready.status, 200);
  } finally {
    await herald.close({ graceMs: 0 });
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a request on a kept-alive connection during a worker's shutdown gets the same 503", async () => {
  const store = await openStore('sqlite::memory:');
  const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ROLE: 'worker' } });
  const app = buildWorkerApp(config, store, createLogger({ level: 'silent' }), undefined);
  const held = holdRoute();
  app.get(held.path, held.handler);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  try {
    const [first, second] = await requestDuringClose(app, port, held, '/readyz');
    assert.equal(first?.status, 200);
    assertShuttingDown(second);
  } finally {
    await app.close();
    await store.close();
  }
});

test('a request sent on an idle kept-alive connection as the API shutdown begins gets 503, not a reset', async () => {
  const { app, port, dispose } = await listeningApi();
  try {
    const { socket, received } = await connection(port);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100)); // answered: the connection is idle
    const closed = app.close();
    // A client that sent its next request as the close began (it was in the kernel's buffer, not
    // yet read): closing the connection under it would reset it, and the client could not tell
    // whether the request was taken.
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    const [first, second, ...more] = await received;
    assert.equal(first?.status, 200);
    assertShuttingDown(second);
    assert.equal(more.length, 0);
    await closed;
  } finally {
    await dispose();
  }
});

test('the answer to a request in flight when the API shutdown began closes its connection, so the close does not wait out the keep-alive', async () => {
  const held = holdRoute();
  const { app, port, dispose } = await listeningApi(held);
  try {
    const { socket, received } = await connection(port);
    socket.write(`GET ${held.path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
    await held.entered;
    const closed = app.close();
    // Answered after the idle connections' drain window (1 s): nothing would close it but its
    // keep-alive timeout, and the process's stop would wait for that before stopping deliveries.
    await new Promise((r) => setTimeout(r, 1_200));
    const releasedAt = Date.now();
    held.release();
    const [only, ...more] = await received;
    assert.equal(only?.status, 200);
    assert.equal(only?.headers.connection, 'close');
    assert.equal(more.length, 0);
    await closed;
    const closeMs = Date.now() - releasedAt;
    assert.ok(closeMs < 1_000, `the server closed ${closeMs} ms after its last answer`);
  } finally {
    await dispose();
  }
});

test('a client sending its request body slowly does not hold up the stop past the grace', async () => {
  const config = loadConfig({
    env: {
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_DATABASE_URL: 'sqlite::memory:',
      HERALD_PORT: '0',
      HERALD_HOST: '127.0.0.1',
    },
  });
  const { logger, lines } = capturedLogger('warn');
  const herald = await startHerald(config, { logger });
  const { socket, received } = await connection(Number(new URL(herald.url).port));
  socket.on('error', () => undefined);
  received.catch(() => undefined); // cut: no answer to read
  // A body that never ends, one byte of it every 100 ms. Node stops checking its request timeout
  // once the server closes, so only the stop's own bound can end it.
  socket.write(
    `POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n`,
  );
  const drip = setInterval(() => socket.write('1\r\n \r\n'), 100);
  try {
    await new Promise((r) => setTimeout(r, 200));
    const startedAt = Date.now();
    const outcome = await within(
      herald.close({ graceMs: 500 }).then(() => 'closed'),
      5_000,
      'still closing after 5 s',
    );
    assert.equal(outcome, 'closed');
    const closeMs = Date.now() - startedAt;
    assert.ok(closeMs < 2_000, `closed after ${closeMs} ms`);
    const cut = lines.filter((l) => String(l.msg).includes('are cut'));
    assert.equal(cut.length, 1, JSON.stringify(lines));
    assert.equal(cut[0]!.graceMs, 500);
    assert.match(
      String(cut[0]!.msg),
      /requests still in progress 500 ms after the stop began \(a body still being received/,
    );
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
});
