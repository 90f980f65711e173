/**
 * The default HERALD_DELIVERY_BYTES_IN_FLIGHT fits the heap: a real `herald serve` started with a
 * small V8 heap (`--max-old-space-size=128`, as in a container with little memory) delivers two
 * 1 MiB events to 40 slow `sha256-body` endpoints without its dispatcher thread running out of
 * heap. With the fixed 256 MiB default, their 80 attempts all started at once (within the
 * project's 192 MiB share), the thread ran out of heap before one request was sent, and the
 * process stopped.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-admin-token-small-heap-0123456789';
const ENDPOINTS = 40;
let herald: HeraldProcess | undefined;
let delivered = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () =>
    setTimeout(() => {
      delivered++;
      res.end('ok');
    }, 1_000),
  );
});

after(async () => {
  await herald?.dispose();
  server.closeAllConnections();
  server.close();
});

test('two 1 MiB events to 40 slow sha256-body endpoints under a 128 MiB heap: delivered, and the process lives', async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_LOG_LEVEL: 'warn',
      NODE_OPTIONS: '--max-old-space-size=128',
    },
  });
  const h = herald;
  const p = await api<{ id: string }>(h.url, TOKEN, 'POST', '/api/v1/projects', { name: 'small-heap' });
  for (let i = 0; i < ENDPOINTS; i++) {
    const e = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/endpoints`, {
      url: `http://127.0.0.1:${port}/e/${i}`,
      signature: { scheme: 'sha256-body' },
    });
    assert.equal(e.status, 201, JSON.stringify(e.body));
  }
  // Two UTF-8 bytes a character: a payload just under the 1 MiB body limit.
  for (const n of [1, 2]) {
    const sent = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/events`, {
      type: 'big.event',
      payload: { n, blob: 'é'.repeat(524_000) },
    });
    assert.equal(sent.status, 202);
  }
  let exited = false;
  void h.exited.then(() => (exited = true));
  const end = Date.now() + 40_000;
  while (delivered < 2 * ENDPOINTS && !exited && Date.now() < end)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal(exited, false, `the process stopped:\n${h.output().slice(-2_000)}`);
  assert.equal(delivered, 2 * ENDPOINTS, `${delivered} of ${2 * ENDPOINTS} delivered in 40 s`);
});
