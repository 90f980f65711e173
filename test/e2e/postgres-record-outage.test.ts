/**
 * PostgreSQL stops while attempts are out: their answers come back with the database down, so
 * their records cannot be written then. They are written once it is back (within the lease), so
 * the history keeps every attempt and no delivery is sent a second time.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-record-outage-token-0123456789abcdef';
const EVENTS = 10;
/** Short (the 5 s timeout + 5 s), so that a delivery whose record was dropped comes back within the test. */
const LEASE_MS = 10_000;

let pg: LocalPostgres | undefined;
let herald: HeraldProcess | undefined;
after(async () => {
  await herald?.dispose();
  await pg?.stop();
});

test('attempts answered while PostgreSQL is down are recorded once it is back, and not sent again', async () => {
  pg = await startPostgres();
  const database = await pg.createDatabase();
  // Holds every answer until released: the attempts are out when the database goes down.
  const held: ServerResponse[] = [];
  const ids: string[] = [];
  let holding = true;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      ids.push(String(req.headers['webhook-id']));
      if (holding) held.push(res);
      else res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  after(() => new Promise<void>((r) => receiver.close(() => r())));
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_DATABASE_URL: database,
      HERALD_DELIVERY_MAX_TIMEOUT_MS: '5000',
      HERALD_LEASE_MS: String(LEASE_MS),
    },
    readyTimeoutMs: 30_000,
  });
  const call = <T>(method: string, path: string, body?: unknown) =>
    api<T>(herald!.url, TOKEN, method, path, body);
  const project = (await call<{ id: string }>('POST', '/api/v1/projects', { name: 'outage' })).body.id;
  const p = `/api/v1/projects/${project}`;
  const { port } = receiver.address() as AddressInfo;
  const endpoint = (
    await call<{ id: string }>('POST', `${p}/endpoints`, {
      url: `http://127.0.0.1:${port}/hook`,
      timeoutMs: 5_000,
    })
  ).body.id;
  const batch = await call<{ data: { id: string }[] }>('POST', `${p}/events/batch`, {
    events: Array.from({ length: EVENTS }, (_, i) => ({ type: 'order.created', payload: { i } })),
  });
  assert.equal(batch.status, 202);

  for (let i = 0; held.length < EVENTS; i++) {
    assert.ok(i < 200, `the receiver holds ${held.length} of ${EVENTS} requests`);
    await sleep(50);
  }
  await pg.down('fast');
  holding = false;
  for (const res of held) res.end('ok');
  // Herald has the answers now, and no database to record them in, for a moment.
  await sleep(1_000);
  await pg.up();
  // Past the lease: a delivery whose record was dropped has been claimed and sent again by now.
  await sleep(LEASE_MS + 4_000);

  assert.equal(ids.length, EVENTS, `requests received: ${ids.length} for ${EVENTS} deliveries`);
  const attempts = await call<{ data: { outcome: string }[] }>(
    'GET',
    `${p}/endpoints/${endpoint}/attempts?limit=100`,
  );
  assert.equal(attempts.status, 200);
  assert.deepEqual(
    attempts.body.data.map((a) => a.outcome),
    Array(EVENTS).fill('succeeded'),
    'every attempt sent is in the history',
  );
  for (const { id } of batch.body.data) {
    const event = await call<{ deliveries: { status: string; attempts: number }[] }>(
      'GET',
      `${p}/events/${id}`,
    );
    assert.deepEqual(
      event.body.deliveries.map((d) => `${d.status}/${d.attempts}`),
      ['succeeded/1'],
      `event ${id}`,
    );
  }
});
