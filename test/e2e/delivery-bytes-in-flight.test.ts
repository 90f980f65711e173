/**
 * HERALD_DELIVERY_BYTES_IN_FLIGHT end to end: a real `herald serve` (its dispatcher on a thread of
 * its own) delivering large events to slow loopback receivers holds no more bodies at once than
 * the budget, says so in herald_delivery_bytes_in_flight, and still delivers everything.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-admin-token-bytes-in-flight-0123';
const MiB = 1024 * 1024;
let herald: HeraldProcess | undefined;
const server = createServer((req, res) => {
  let size = 0;
  req.on('data', (c: Buffer) => (size += c.length));
  req.on('end', () => {
    open += size;
    most = Math.max(most, open);
    setTimeout(() => {
      open -= size;
      done++;
      res.end('ok');
    }, 700);
  });
});
let open = 0;
let most = 0;
let done = 0;

after(async () => {
  await herald?.dispose();
  server.closeAllConnections();
  server.close();
});

test('large events to slow receivers: the bodies held at once stay within the budget, and the gauge shows them', async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_LOG_LEVEL: 'warn',
      HERALD_DELIVERY_BYTES_IN_FLIGHT: String(MiB),
    },
  });
  const h = herald;
  const p = await api<{ id: string }>(h.url, TOKEN, 'POST', '/api/v1/projects', { name: 'big' });
  const count = 8;
  for (let i = 0; i < count; i++) {
    const e = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/endpoints`, {
      url: `http://127.0.0.1:${port}/e/${i}`,
    });
    assert.equal(e.status, 201, JSON.stringify(e.body));
  }
  const sent = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/events`, {
    type: 'big.event',
    payload: { blob: 'x'.repeat(300_000) },
  });
  assert.equal(sent.status, 202);
  let gaugeMost = 0;
  const end = Date.now() + 30_000;
  while (done < count) {
    assert.ok(Date.now() < end, `${done} of ${count} delivered in 30 s`);
    const text = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(
      (r) => r.text(),
    );
    const value = /^herald_delivery_bytes_in_flight (\d+)$/m.exec(text)?.[1];
    assert.ok(value !== undefined, 'the gauge is there');
    gaugeMost = Math.max(gaugeMost, Number(value));
    await new Promise((r) => setTimeout(r, 50));
  }
  // One project holds three quarters of the budget: two of the 300 KB bodies at once, not eight.
  assert.ok(most >= 600_000 && most <= 0.75 * MiB, `the receiver held ${most} bytes at once`);
  assert.ok(gaugeMost >= 300_000 && gaugeMost <= 0.75 * MiB, `the gauge showed at most ${gaugeMost}`);
});
