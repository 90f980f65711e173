/**
 * Concurrent large fan-outs on PostgreSQL fit a small heap: a real `herald serve --role api` on
 * PostgreSQL, started with `--max-old-space-size=160`, takes sixteen batches of 1,000 events sent
 * at once into a project with 60 endpoints (60,000 deliveries each, within
 * HERALD_MAX_DELIVERIES_PER_REQUEST) and answers each 202. The store's group commit wrote every
 * accept queued while one was being written in one transaction: the fifteen that waited behind the
 * first made one group of 900,000 deliveries, all in memory at once, and the process ran out of
 * heap (SIGABRT) within seconds.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-admin-token-pg-small-heap-0123456789';
const ENDPOINTS = 60;
const BATCHES = 16;
let herald: HeraldProcess | undefined;
let postgres: TestPostgres | undefined;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
});

after(async () => {
  await herald?.dispose();
  receiver.closeAllConnections();
  receiver.close();
  await postgres?.stop();
});

test('16 batches of 1,000 events to 60 endpoints at once on PostgreSQL under a 160 MiB heap: each accepted whole or refused busy, and the process lives', async () => {
  postgres = await withPostgres();
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_LOG_LEVEL: 'warn',
      HERALD_DATABASE_URL: await postgres.createDatabase(),
      NODE_OPTIONS: '--max-old-space-size=160',
    },
    // Accepting is what is under test: a dispatcher sending up to 960,000 deliveries to the
    // receiver meanwhile was a third of the file's CPU. Without the group bound (GROUP_DELIVERIES)
    // this api process still runs out of heap: every batch after the first failed.
    args: ['--role', 'api'],
  });
  const h = herald;
  let exited = false;
  void h.exited.then(() => (exited = true));
  const p = await api<{ id: string }>(h.url, TOKEN, 'POST', '/api/v1/projects', { name: 'pg-small-heap' });
  for (let i = 0; i < ENDPOINTS; i++) {
    const e = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/endpoints`, {
      url: `http://127.0.0.1:${port}/e/${i}`,
    });
    assert.equal(e.status, 201, JSON.stringify(e.body));
  }
  const answers = await Promise.all(
    Array.from({ length: BATCHES }, async (_, n) => {
      const events = Array.from({ length: 1_000 }, (_, i) => ({
        type: 'small',
        payload: { i, n, pad: 'p'.repeat(900) },
      }));
      try {
        const r = await fetch(`${h.url}/api/v1/projects/${p.body.id}/events/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        });
        const body = (await r.json()) as { data?: { deliveryCount: number }[]; error?: { code: string } };
        if (r.status === 503) return `503 ${body.error?.code}`;
        return `${r.status} ${body.data?.reduce((s, e) => s + e.deliveryCount, 0)}`;
      } catch (error) {
        return `failed: ${(error as Error).message}`;
      }
    }),
  );
  assert.equal(exited, false, `the process stopped:\n${h.output().slice(-2_000)}`);
  // Each batch accepted whole, or refused as busy after its 10 s in the group-commit queue with
  // nothing of it stored (ACCEPT_WAIT_MS, a shared machine): never lost, never half-stored.
  const accepted = answers.filter((a) => a === `202 ${1_000 * ENDPOINTS}`).length;
  const busy = answers.filter((a) => a === '503 HERALD_ERR_BUSY').length;
  assert.equal(accepted + busy, BATCHES, answers.join(', '));
  assert.ok(accepted > 0, answers.join(', '));
  let stored = 0;
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { data: unknown[]; nextCursor: string | null } } = await api(
      h.url,
      TOKEN,
      'GET',
      `/api/v1/projects/${p.body.id}/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
    );
    stored += page.body.data.length;
    cursor = page.body.nextCursor;
  } while (cursor);
  assert.equal(stored, accepted * 1_000, `${accepted} batches answered 202`);
});
