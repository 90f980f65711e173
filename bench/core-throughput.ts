/**
 * Core throughput on this machine: a real `herald serve` (SQLite), a counting receiver on loopback,
 * and a load generator. Prints ingest events/s (single and batch requests) and end-to-end
 * delivered events/s. Tunables: BENCH_EVENTS (default 20000), BENCH_BATCH (100), BENCH_PARALLEL (4).
 * Run: npm run bench
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { startHerald } from '../test/e2e/harness.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 4);
const SINGLES = Math.min(5_000, EVENTS);
const TOKEN = 'bench-admin-token-0123456789abcdef';
const PAYLOAD = {
  player: { id: 1820283, name: 'bench' },
  result: { productId: 'gems-100', pad: 'x'.repeat(900) },
}; // ~1 KB

let received = 0;
let firstAt = 0;
let lastAt = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    lastAt = performance.now();
    if (!firstAt) firstAt = lastAt;
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const herald = await startHerald({
  env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8', HERALD_LOG_LEVEL: 'info' },
});
const client = new Pool(herald.url, { connections: PARALLEL * 2 });
const post = async (path: string, body: unknown) => {
  const res = await client.request({
    method: 'POST',
    path,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as { id: string };
};

try {
  const project = await post('/api/v1/projects', { name: 'bench' });
  await post(`/api/v1/projects/${project.id}/endpoints`, { url: receiverUrl });
  const events = `/api/v1/projects/${project.id}/events`;

  // Single-event requests.
  let t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL * 4 }, async () => {
      while (next < SINGLES) {
        next++;
        await post(events, { type: 'PurchasePlayerPurchase', payload: PAYLOAD });
      }
    }),
  );
  const singleRate = SINGLES / ((performance.now() - t0) / 1000);
  await waitFor(() => received >= SINGLES, 120_000);

  // Batch requests, measured end to end (accepted → delivered).
  received = 0;
  firstAt = 0;
  t0 = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (sent < EVENTS) {
        sent += BATCH;
        await post(`${events}/batch`, {
          events: Array.from({ length: BATCH }, () => ({ type: 'PurchasePlayerPurchase', payload: PAYLOAD })),
        });
      }
    }),
  );
  const acceptedMs = performance.now() - t0;
  await waitFor(() => received >= sent, 300_000);
  const deliveredMs = lastAt - t0;
  const rows = [
    ['ingest, single-event requests', `${Math.round(singleRate)} events/s`],
    [`ingest, batches of ${BATCH}`, `${Math.round(sent / (acceptedMs / 1000))} events/s`],
    [
      `delivered end to end (${sent} events, 1 endpoint)`,
      `${Math.round(sent / (deliveredMs / 1000))} events/s`,
    ],
  ];
  for (const [k, v] of rows) console.log(`${k!.padEnd(48)} ${v}`);
} finally {
  await client.close();
  await herald.dispose();
  receiver.close();
}

async function waitFor(check: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out (received ${received})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
