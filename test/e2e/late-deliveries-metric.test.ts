/**
 * herald_oldest_pending_age_seconds ("Deliveries are late", docs/operations.md) end to end: a real
 * `herald serve` whose process is killed while it sends to a receiver that never answers, then
 * started again. The delivery is claimed and sent again and again and never delivered; the gauge
 * must say how long it has waited since it was accepted. Before 2026-12-06 it was measured from the
 * due time, which a claim (SQLite: the lease's end), the hand-back at start and a lease held by the
 * killed process all move or hide: it read 0 all along, on both stores.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { withPostgres } from '../support/postgres.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-admin-token-late-deliveries-0123';

const held: ServerResponse[] = [];
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => held.push(res));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
const processes: HeraldProcess[] = [];
const postgres = await withPostgres();

after(async () => {
  for (const h of processes) await h.dispose();
  for (const res of held.splice(0)) res.destroy();
  server.closeAllConnections();
  server.close();
  await postgres.stop();
});

async function lateness(h: HeraldProcess): Promise<number> {
  const text = await fetch(`${h.url}/metrics`).then((r) => r.text());
  const value = /^herald_oldest_pending_age_seconds (\S+)$/m.exec(text)?.[1];
  assert.ok(value !== undefined, 'herald_oldest_pending_age_seconds is served');
  return Number(value);
}

async function heldAtLeast(count: number): Promise<void> {
  const end = Date.now() + 20_000;
  while (held.length < count) {
    assert.ok(Date.now() < end, `the receiver got ${held.length} of ${count} requests`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const store of ['sqlite', 'postgres'] as const) {
  test(`a delivery sent again after each kill, never delivered, reads later and later (${store})`, async () => {
    for (const res of held.splice(0)) res.destroy();
    const env: Record<string, string> = {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_LOG_LEVEL: 'warn',
    };
    if (store === 'postgres') env.HERALD_DATABASE_URL = await postgres.createDatabase();
    let h = await startHerald({ env });
    processes.push(h);
    const p = await api<{ id: string }>(h.url, TOKEN, 'POST', '/api/v1/projects', { name: 'late' });
    const e = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/endpoints`, {
      url: `http://127.0.0.1:${port}/hook`,
      timeoutMs: 30_000,
    });
    assert.equal(e.status, 201, JSON.stringify(e.body));
    const sent = await api(h.url, TOKEN, 'POST', `/api/v1/projects/${p.body.id}/events`, {
      type: 'late.test',
      payload: {},
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const acceptedBy = Date.now(); // the event was accepted (and due) no later than this
    await heldAtLeast(1);

    // Killed mid-send, started again. SQLite hands the claim back at start and sends it again at
    // once; PostgreSQL leaves it leased by the dead process until HERALD_LEASE_MS runs out.
    h = await h.restart();
    processes.push(h);
    if (store === 'sqlite') await heldAtLeast(2);
    await new Promise((r) => setTimeout(r, Math.max(0, acceptedBy + 1_500 - Date.now())));
    const readFrom = Date.now();
    const age = await lateness(h);
    assert.ok(
      age >= (readFrom - acceptedBy) / 1000,
      `waiting since ${readFrom - acceptedBy} ms, gauge ${age} s`,
    );
  });
}
