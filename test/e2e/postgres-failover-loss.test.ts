/**
 * What a failover keeps of the events Herald acknowledged. Herald answers 202 once the event's
 * transaction committed on the server its URL leads to; whether a standby has it too is
 * PostgreSQL's replication to decide. The standby's replication link is stalled (a lagging
 * replica) under a steady stream of events, then the primary dies (immediate stop), the standby is
 * promoted and the proxy moved to it. With asynchronous replication, the events acknowledged while
 * it lagged are gone from the new primary (docs/deployment.md "Failover" says so); with
 * synchronous_standby_names, their commits wait for the standby, no 202 is given for them, the
 * clients send them again to the new primary, and no acknowledged event is lost.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startReplicatedPostgres } from '../support/postgres-standby.ts';
import { api as call, startHerald } from './harness.ts';
import { eventually, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-failover-loss-token-0123456789abcdef';
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Events acknowledged (key → event id and when), and what was lost or delivered of them. */
async function failoverUnderLoad(primarySettings: Record<string, string>) {
  const rp = await startReplicatedPostgres(primarySettings);
  cleanups.push(() => rp.stop());
  const receiver = await startScriptedReceiver();
  cleanups.push(() => receiver.close());
  const url = await rp.createDatabase();
  const herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_DATABASE_URL: url,
      // Claims left on the old primary come back after this (attempts are cut at 2 s; the least allowed).
      HERALD_DELIVERY_MAX_TIMEOUT_MS: '2000',
      HERALD_LEASE_MS: '7000',
    },
    args: ['--role', 'all'],
  });
  cleanups.push(() => herald.dispose());
  const project = await call<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', { name: 'loss' });
  const endpoint = await call(herald.url, TOKEN, 'POST', `/api/v1/projects/${project.body.id}/endpoints`, {
    url: `${receiver.url}/hook`,
  });
  assert.equal(endpoint.status, 201);
  const events = `${herald.url}/api/v1/projects/${project.body.id}/events`;

  // Clients that send each event until it is acknowledged, with its idempotency key.
  const acked = new Map<string, { id: string; at: number }>();
  let making = true;
  let next = 0;
  const client = async () => {
    let key: string | null = null;
    while (making || key) {
      key ??= `k-${next++}`;
      const res = await fetch(events, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({ type: 'failover.loss', payload: { key } }),
        signal: AbortSignal.timeout(25_000),
      }).catch(() => null);
      const text = (await res?.text().catch(() => '')) ?? '';
      if (res?.status === 202) {
        if (!acked.has(key)) acked.set(key, { id: (JSON.parse(text) as { id: string }).id, at: Date.now() });
        key = null;
      } else {
        assert.ok(res === null || res.status === 503, `${res?.status}: ${text}`);
        await sleep(50);
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await sleep(1_000);
  rp.replication.stall();
  const stalledAt = Date.now();
  await sleep(1_000);
  await rp.primary.down('immediate');
  const diedAt = Date.now();
  await rp.standby.promote();
  rp.proxy.pointTo(rp.standby.port);
  rp.proxy.dropConnections();
  await sleep(1_000);
  making = false;
  await Promise.all(clients);

  const db = new URL(url);
  db.port = String(rp.standby.port);
  const reader = new pg.Client({ connectionString: db.href });
  await reader.connect();
  const ids = [...acked.values()].map((a) => a.id);
  const kept = new Set(
    (await reader.query<{ id: string }>('SELECT id FROM events WHERE id = ANY($1)', [ids])).rows.map(
      (r) => r.id,
    ),
  );
  await reader.end();
  const lost = [...acked.values()].filter((a) => !kept.has(a.id));
  // From 250 ms into the stall: a commit the standby confirmed just before it may be answered after.
  const ackedWhileStalled = [...acked.values()].filter(
    (a) => a.at >= stalledAt + 250 && a.at < diedAt,
  ).length;
  const arrived = () => new Set(receiver.hits.map((h) => String(h.headers['webhook-id'])));
  await eventually(
    async () => [...kept].every((id) => arrived().has(id)),
    15_000,
    'every kept event delivered',
  );
  // Sent by the old primary's dispatcher before it died: receivers have events Herald no longer has.
  const lostButDelivered = lost.filter((a) => arrived().has(a.id)).length;
  return { acked: acked.size, ackedWhileStalled, lost: lost.length, lostButDelivered };
}

test('asynchronous replication: events acknowledged while the standby lagged are lost at a failover', async () => {
  const { acked, ackedWhileStalled, lost, lostButDelivered } = await failoverUnderLoad({});
  console.log(
    `async: ${acked} acknowledged, ${ackedWhileStalled} while the standby lagged, ${lost} lost (${lostButDelivered} of them delivered before the primary died)`,
  );
  assert.ok(ackedWhileStalled > 0);
  assert.ok(lost > 0, 'with the standby 1 s behind, a failover loses what it had not received');
});

test('synchronous replication (synchronous_standby_names): no acknowledged event is lost at a failover', async () => {
  const { acked, ackedWhileStalled, lost } = await failoverUnderLoad({ synchronous_standby_names: '*' });
  console.log(`sync: ${acked} acknowledged, ${ackedWhileStalled} while the standby lagged, ${lost} lost`);
  assert.equal(lost, 0);
  assert.equal(ackedWhileStalled, 0, 'a 202 while the standby could not confirm the commit');
});
