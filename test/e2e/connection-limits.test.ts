/**
 * Connections one client address, and all clients together, may hold open (api/connection-limits.ts),
 * against a real `herald serve` under `ulimit -n 512`: without the bounds, 600 idle connections from
 * 127.0.0.1 took every file descriptor and every other client's requests were closed unanswered.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, afterEach, before, test } from 'node:test';
import { addressKey, connectionBounds } from '../../src/api/connection-limits.ts';
import { until } from '../support/wait-until.ts';
import { type HeraldProcess, startHerald } from './harness.ts';

const ADMIN = 'connection-limits-admin-token-0123456789';
const LIMIT = 512;
const { total, perAddress } = connectionBounds(LIMIT);

let herald: HeraldProcess;
let port: number;
const sockets: Socket[] = [];

before(async () => {
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: ADMIN }, openFileLimit: LIMIT });
  port = Number(new URL(herald.url).port);
  filesAtRest = openFds();
});
// Each test's idle connections are closed after it and waited out: left to the headers timeout
// (10 s), they closed in the middle of the next test, whose count then depended on the load.
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await released();
});
after(() => herald?.dispose());

/** Opens `count` connections from `localAddress` that send nothing; resolves once each is open or answered. */
async function hold(localAddress: string, count: number, to = port): Promise<{ refused: number }> {
  let refused = 0;
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const socket = connect({ port: to, host: '127.0.0.1', localAddress });
          sockets.push(socket);
          let text = '';
          socket.setEncoding('utf8');
          socket.on('data', (chunk: string) => {
            text += chunk;
            if (text.startsWith('HTTP/1.1 503') && text.includes('HERALD_ERR_BUSY')) refused++;
          });
          socket.on('error', () => resolve());
          socket.on('close', () => resolve());
          socket.on('connect', () => setTimeout(resolve, 3_000)); // a connection past the listen backlog is accepted later
        }),
    ),
  );
  return { refused };
}

/** One request from `localAddress` on a new connection: its status, or the error that ended it. */
function call(localAddress: string, method: string, path: string, body?: unknown): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      `${herald.url}${path}`,
      {
        method,
        localAddress,
        agent: false,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (error) => resolve(error.message));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const openFds = () => readdirSync(`/proc/${herald.pid}/fd`).length;
/** herald's open files once it is ready, before any test's connections. */
let filesAtRest: number;
/** Resolves once herald has closed its side of the connections the client closed. */
const released = () => until('herald to release the closed connections', () => openFds() <= filesAtRest);

test('bounds follow the open-file limit, and an IPv6 host is its /64', () => {
  assert.deepEqual(connectionBounds(512), { total: 384, perAddress: 96 });
  assert.deepEqual(connectionBounds(1_048_576), { total: 1_048_448, perAddress: 1024 });
  assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:bbbb::7'));
  assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
});

test('one address past its share gets 503 at once, and other clients are still served', async () => {
  const { refused } = await hold('127.0.0.1', 600);
  assert.ok(
    refused >= 600 - perAddress - 10,
    `${refused} of 600 connections refused with 503 HERALD_ERR_BUSY`,
  );
  assert.equal(await call('127.0.0.2', 'GET', '/healthz'), 200);
  const project = await call('127.0.0.2', 'POST', '/api/v1/projects', { name: 'p' });
  assert.equal(project, 201, 'another address can still create');
  assert.ok(openFds() < LIMIT - 100, `${openFds()} files open of ${LIMIT}`);
});

/** herald_http_requests_total of the connections refused (method `unknown`, route `unmatched`, 503), scraped from `localAddress`. */
function refusedCount(localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${herald.url}/metrics`, { localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const line =
          /^herald_http_requests_total\{method="unknown",route="unmatched",status_code="503"\} (\d+)$/m.exec(
            text,
          );
        resolve(Number(line?.[1] ?? 0));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('each connection refused with 503 is counted in herald_http_requests_total, as what Node refuses is', async () => {
  // Before: nothing counted them (no series, no log line), so an API at its bound, answering 503 to
  // new clients, showed nothing in the API-errors alert.
  const before = await refusedCount('127.0.0.2');
  const { refused } = await hold('127.0.0.8', perAddress + 40);
  assert.equal(refused, 40, 'past its share, each connection is answered 503 HERALD_ERR_BUSY');
  assert.equal((await refusedCount('127.0.0.2')) - before, 40);
});

test('all addresses together are held under the open-file limit, and refused clearly past it', async () => {
  // At once: a connection that sends nothing is closed after the headers timeout (10 s).
  const held = await Promise.all(
    ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'].map((a) => hold(a, perAddress)),
  );
  assert.deepEqual(
    held.map((h) => h.refused),
    [0, 0, 0, 0],
    'each address within its share',
  );
  assert.equal(await call('127.0.0.7', 'GET', '/healthz'), 503, `${total} connections at most`);
  assert.ok(openFds() <= LIMIT - 64, `${openFds()} files open of ${LIMIT}: some kept for the database`);
  for (const socket of sockets.splice(0)) socket.destroy();
  await released();
  assert.equal(await call('127.0.0.7', 'GET', '/healthz'), 200, 'served again once they left');
});

test("a worker's probe port (/healthz, /readyz, /metrics) is bounded the same way", async () => {
  const worker = await startHerald({
    env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ROLE: 'worker' },
    openFileLimit: LIMIT,
  });
  try {
    const workerPort = Number(new URL(worker.url).port);
    // Without the bound the worker held all 600 and ran out of files: its deliveries too.
    const { refused } = await hold('127.0.0.1', 600, workerPort);
    assert.ok(
      refused >= 600 - perAddress - 10,
      `${refused} of 600 connections refused with 503 HERALD_ERR_BUSY`,
    );
    const ready = await new Promise<number | string>((resolve) => {
      const req = request(`${worker.url}/readyz`, { localAddress: '127.0.0.2', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', (error) => resolve(error.message));
      req.end();
    });
    assert.equal(ready, 200, 'another address is still served');
    assert.ok(readdirSync(`/proc/${worker.pid}/fd`).length < LIMIT - 100, 'files open of the worker');
  } finally {
    await worker.dispose();
  }
});
