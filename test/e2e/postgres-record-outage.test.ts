/**
 * PostgreSQL stops while attempts are out: their answers come back with the database down, so
 * their records cannot be written then. They are written once it is back (within the lease), so
 * the history keeps every attempt and no delivery is sent a second time: after 1 s, and after
 * 15 s (a failover's time, longer than the ~10 s a record was once kept for).
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { within } from '../support/wait-until.ts';
import { api, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-record-outage-token-0123456789abcdef';
const EVENTS = 10;

/** Each test's Herald, receiver and PostgreSQL (stopped in that order), after the file's tests. */
const stops: (() => Promise<unknown>)[][] = [];
after(async () => {
  await Promise.all(
    stops.map(async (ofTest) => {
      for (const stop of ofTest.reverse()) await stop();
    }),
  );
});

/**
 * EVENTS attempts out to a receiver that holds their answers until `release` (then it answers
 * everything at once): a Herald on a new PostgreSQL of its own (the tests stop theirs, and run at
 * once), `env` added to its settings.
 */
async function attemptsOut(leaseMs: number, env: Record<string, string> = {}) {
  const pg: LocalPostgres = await startPostgres();
  const ofTest: (() => Promise<unknown>)[] = [() => pg.stop()];
  stops.push(ofTest);
  const database = await pg.createDatabase();
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
  ofTest.push(() => new Promise<void>((r) => receiver.close(() => r())));
  const herald: HeraldProcess = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_DATABASE_URL: database,
      HERALD_DELIVERY_MAX_TIMEOUT_MS: '5000',
      HERALD_LEASE_MS: String(leaseMs),
      ...env,
    },
  });
  ofTest.push(() => herald.dispose());
  const call = <T>(method: string, path: string, body?: unknown) =>
    api<T>(herald.url, TOKEN, method, path, body);
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
  const release = () => {
    holding = false;
    for (const res of held) res.end('ok');
  };
  return { ids, call, p, endpoint, batch: batch.body.data, release, pg, herald };
}

/**
 * PostgreSQL stopped, the answers released, PostgreSQL started again `outageMs` later. Then, past
 * the lease (a delivery whose record was dropped has been claimed and sent again by then): each
 * attempt is in the history once, and the receiver got each delivery once. `leaseMs` short, so that
 * such a delivery comes back within the test.
 */
async function outage(outageMs: number, leaseMs: number) {
  const { ids, call, p, endpoint, batch, release, pg } = await attemptsOut(leaseMs);
  await pg.down('fast');
  release();
  // Herald has the answers now, and no database to record them in, for a while.
  await sleep(outageMs);
  await pg.up();
  // Past the lease (counted from the claim, before the outage): a delivery whose record was
  // dropped has been claimed and sent again by now.
  await sleep(Math.max(leaseMs - outageMs, 0) + 4_000);

  assert.equal(ids.length, EVENTS, `requests received: ${ids.length} for ${EVENTS} deliveries`);
  const attempts = await call<{ data: { outcome: string; number: number }[] }>(
    'GET',
    `${p}/endpoints/${endpoint}/attempts?limit=100`,
  );
  assert.equal(attempts.status, 200);
  assert.deepEqual(
    attempts.body.data.map((a) => `${a.outcome}/${a.number}`),
    Array(EVENTS).fill('succeeded/1'),
    'every attempt sent is in the history',
  );
  for (const { id } of batch) {
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
}

// At once: each test has a PostgreSQL of its own, and most of each is waiting (an outage, a lease
// running out, a stop's grace), not work.
describe('attempts answered while PostgreSQL is down', { concurrency: true }, () => {
  test('attempts answered while PostgreSQL is down are recorded once it is back, and not sent again', async () => {
    // The lease short (the 5 s timeout + 5 s).
    await outage(1_000, 10_000);
  });

  test('attempts answered during a 15 s outage (a failover) are recorded once PostgreSQL is back, and not sent again', async () => {
    // Longer than the outage: the records are written before it runs out (a lease that ran out
    // meanwhile lets another worker send the delivery again, whatever Herald does).
    await outage(15_000, 20_000);
  });

  test('a SIGTERM while records wait for PostgreSQL gives them up after the 10 s grace: the process exits well within a 30 s stop timeout', async () => {
    // The dispatcher on the main thread, as in a `worker` process: no thread to terminate at the end.
    const { ids, release, pg, herald } = await attemptsOut(60_000, { HERALD_DELIVERY_THREAD: 'false' });
    await pg.down('fast');
    release();
    await sleep(2_000); // the records have found the database out of reach
    const stopAt = Date.now();
    const exit = await within(herald.kill('SIGTERM'), 30_000, 'still running');
    const took = Date.now() - stopAt;
    assert.deepEqual(exit, { code: 0, signal: null }, `after ${took} ms`);
    assert.ok(took >= 9_000 && took < 20_000, `stopped in ${took} ms`);
    assert.equal(ids.length, EVENTS);
  });
});
