/**
 * Deliveries waiting in the dispatcher share their event's payload: a real `herald serve` under
 * `--max-old-space-size=160` takes twelve 1 MiB events of non-ASCII text to 60 hmac-sha1-url
 * endpoints (half GET, answered 431 by a receiver whose request-head limit the ~3 MiB URL passes;
 * half POST to a receiver that never answers) and stays up. Every claim read its events again, so
 * deliveries of one event claimed in different claims each held a copy of its payload while they
 * waited for room among the bytes in flight: ~100 copies, and the dispatcher thread ran out of
 * heap (ERR_WORKER_OUT_OF_MEMORY) about 15 s after the events were sent.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-admin-token-shared-payloads-0123456789';
const ENDPOINTS = 60;
const EVENTS = 12;
const WATCH_MS = 25_000;
let herald: HeraldProcess | undefined;
let stalled = 0;
// A GET's URL is past Node's 16 KiB request head: answered 431 without reaching the handler.
const answering = createServer((_req, res) => res.end('ok'));
const stalling = createServer((req) => {
  req.resume();
  req.on('end', () => stalled++);
});

after(async () => {
  await herald?.dispose();
  for (const s of [answering, stalling]) {
    s.closeAllConnections();
    s.close();
  }
});

test('twelve 1 MiB events to 60 hmac-sha1-url endpoints, half GET, under a 160 MiB heap: the process lives', async () => {
  const ports: number[] = [];
  for (const s of [answering, stalling]) {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    ports.push((s.address() as AddressInfo).port);
  }
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_LOG_LEVEL: 'warn',
      NODE_OPTIONS: '--max-old-space-size=160',
    },
  });
  const h = herald;
  let exited = false;
  void h.exited.then(() => (exited = true));
  const p = await api<{ id: string }>(h.url, TOKEN, 'POST', '/api/v1/projects', { name: 'shared-payloads' });
  for (let i = 0; i < ENDPOINTS; i++) {
    const get = i % 2 === 0;
    const e = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/endpoints`, {
      url: `http://127.0.0.1:${get ? ports[0] : ports[1]}/e/${i}`,
      signature: { scheme: 'hmac-sha1-url', signatureHeader: 'X-Signature', key: 'k1' },
      ...(get ? { method: 'GET' } : {}),
    });
    assert.equal(e.status, 201, JSON.stringify(e.body));
  }
  for (let n = 0; n < EVENTS; n++) {
    const sent = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/events`, {
      type: 'big.event',
      payload: { n, blob: 'é'.repeat(524_000) },
    });
    assert.equal(sent.status, 202);
  }
  const end = Date.now() + WATCH_MS;
  while (!exited && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  assert.equal(exited, false, `the process stopped:\n${h.output().slice(-2_000)}`);
  assert.ok(stalled > 0, 'no POST reached its receiver');
});
