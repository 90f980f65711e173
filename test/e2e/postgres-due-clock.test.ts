/**
 * An API process on PostgreSQL writes the due time of what it makes due at once (a new event's
 * deliveries, a retry by hand), and workers' claims compare it in the database's time
 * (src/store/lease-clock.ts). Written on the API process's own clock, one 60 s ahead made every
 * event it accepted wait a minute for the workers (until 2026-12-07). The API process here is a
 * real `herald serve --role api` whose clock is shifted (test/support/shifted-clock.ts); the worker
 * is a store in this process, in step with the database, claiming right after each write (as it
 * would 5 s later). And a real `herald serve --role worker` 60 s behind, which until 2026-12-07
 * claimed on its own clock and wrote its retries on it: it sent an event accepted in step 60.3 s
 * late, and a 10 s retry it wrote was due 51.4 s before its first attempt, for a worker in step.
 * And a real worker 60 s ahead that disables an endpoint (its receiver answers 410): until
 * 2026-12-08 it wrote disabledAt on its own clock, 59.9 s on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { endpointInput, eventInput, projectWithEndpoints } from '../store/helpers.ts';
import { api, type HeraldProcess } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';

const TOKEN = 'e2e-due-clock-token-0123456789abcdef';
const cluster = usePostgresProcesses(TOKEN);
const PRELOAD = fileURLToPath(new URL('../support/shifted-clock.ts', import.meta.url));
const SKEW_MS = 60_000;

/** An API process whose clock is `shiftMs` off, once its clock check has read the database's clock. */
async function shiftedApi(database: string, shiftMs: number): Promise<HeraldProcess> {
  const p = await cluster.start(database, 'api', {
    NODE_OPTIONS: `--import=${PRELOAD}`,
    HERALD_TEST_CLOCK_SHIFT_MS: String(shiftMs),
  });
  // Out of step by 60 s, its first reading logs a warning: the offset is proved from then on.
  for (let i = 0; i < 100; i++) {
    if (p.logLines().some((l) => String(l.msg).startsWith('clock:'))) return p;
    await sleep(100);
  }
  throw new Error(`no clock reading: ${JSON.stringify(p.logLines()).slice(0, 2000)}`);
}

/**
 * A claim by the worker in step, as it would claim 5 s from now: the offset the API process proved
 * is its reading's midpoint less the reading's uncertainty (lease-clock.ts), so what it writes may
 * come due up to one reading's round trip late (tens of ms here; more on a slow first reading).
 */
const claimSoon = (store: PostgresStore) =>
  store.claimDueDeliveries({ limit: 10, leaseMs: 30_000, now: Date.now() + 5_000, workerId: 'in-step' });

test('an event accepted, and a delivery retried by hand, by an API process 60 s ahead are due (and the event created) at once for a worker in step, not a minute later', async () => {
  const database = await cluster.pg.createDatabase();
  const ahead = await shiftedApi(database, SKEW_MS);
  const worker = new PostgresStore(database);
  try {
    const { project } = await projectWithEndpoints(worker, 1, Date.now() - 1_000);
    const accepted = await api<{
      id: string;
      createdAt: string;
      deliveries: { id: string; nextAttemptAt: string; createdAt: string }[];
    }>(ahead.url, TOKEN, 'POST', `/api/v1/projects/${project.id}/events`, {
      type: 'order.created',
      payload: { n: 1 },
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const lateBy = Date.parse(accepted.body.deliveries[0]!.nextAttemptAt) - Date.now();
    const taken = await claimSoon(worker);
    assert.equal(taken.length, 1, `the accepted event's delivery is due ${lateBy} ms from now`);
    // Created at that time too, the event with its delivery (until 2026-12-07 on the API's clock,
    // a minute after its delivery was due), so `until` now by the database's clock finds it.
    const d = accepted.body.deliveries[0]!;
    assert.equal(d.createdAt, d.nextAttemptAt, 'the delivery created when it was due');
    assert.equal(accepted.body.createdAt, d.createdAt, 'the event created with its delivery');
    const until = new Date(Date.now() + 5_000).toISOString();
    const upToNow = await api<{ data: { id: string }[] }>(
      ahead.url,
      TOKEN,
      'GET',
      `/api/v1/projects/${project.id}/events?until=${encodeURIComponent(until)}`,
    );
    assert.deepEqual(
      upToNow.body.data.map((e) => e.id),
      [accepted.body.id],
      'listed until now',
    );

    // A delivery due in an hour (written by the worker), retried by hand through the API ahead.
    const [due] = await worker.acceptEvents(project.id, [eventInput()], Date.now() + 3_600_000);
    const later = due!.deliveries[0]!;
    const retried = await api<{ nextAttemptAt: string }>(
      ahead.url,
      TOKEN,
      'POST',
      `/api/v1/projects/${project.id}/deliveries/${later.id}/retry`,
    );
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    const retryLateBy = Date.parse(retried.body.nextAttemptAt) - Date.now();
    const again = await claimSoon(worker);
    assert.deepEqual(
      again.map((c) => c.delivery.id),
      [later.id],
      `the retried delivery is due ${retryLateBy} ms from now`,
    );
  } finally {
    await worker.close();
  }
});

test('a worker 60 s behind sends what is due at once, and its retry 10 s later, not due earlier for a worker in step', async () => {
  const database = await cluster.pg.createDatabase();
  const behind = await cluster.start(database, 'worker', {
    NODE_OPTIONS: `--import=${PRELOAD}`,
    HERALD_TEST_CLOCK_SHIFT_MS: String(-SKEW_MS),
  });
  const store = new PostgresStore(database);
  try {
    const { project } = await projectWithEndpoints(store, 0, Date.now() - 1_000);
    const path = `/behind-${Date.now()}`;
    await store.createEndpoint(
      endpointInput(project.id, { url: `${cluster.receiver.url}${path}`, retrySchedule: [10] }),
      `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
      Date.now(),
    );
    const mine = () => cluster.receiver.hits.filter((h) => h.url === path);
    cluster.receiver.script((hit) => ({ status: hit.url === path && mine().length === 1 ? 500 : 200 }));
    const acceptedAt = Date.now();
    const [accepted] = await store.acceptEvents(project.id, [eventInput()], acceptedAt);
    const id = accepted!.deliveries[0]!.id;
    // Until 2026-12-07 the worker behind claimed on its own clock: a minute late.
    const deadline = Date.now() + 30_000;
    while (mine().length === 0 && Date.now() < deadline) await sleep(50);
    assert.equal(
      mine().length,
      1,
      `the first attempt within 30 s: ${JSON.stringify(behind.logLines().slice(-2))}`,
    );
    const first = mine()[0]!.at;
    // Its failure recorded: the retry is due 10 s after it by the database's clock, not before.
    let d = await store.getDelivery(project.id, id);
    while (d?.attempts !== 1 && Date.now() < deadline) {
      await sleep(50);
      d = await store.getDelivery(project.id, id);
    }
    assert.equal(d?.attempts, 1, 'the failure recorded');
    const dueIn = d.nextAttemptAt! - first;
    assert.deepEqual(
      (await claimSoon(store)).map((c) => c.delivery.id),
      [],
      `not due for a worker in step 5 s on (due ${dueIn} ms after the first attempt)`,
    );
    // And the worker behind sends it then, by the same time.
    while (mine().length < 2 && Date.now() < first + 20_000) await sleep(50);
    assert.equal(mine().length, 2, 'the retry sent');
    const gap = mine()[1]!.at - first;
    assert.ok(gap >= 8_000 && gap < 15_000, `the retry sent ${gap} ms after the first attempt`);
  } finally {
    await store.close();
  }
});

test("an endpoint a worker 60 s ahead disables (its receiver answers 410) has its disabledAt in the database's time", async () => {
  const database = await cluster.pg.createDatabase();
  await cluster.start(database, 'worker', {
    NODE_OPTIONS: `--import=${PRELOAD}`,
    HERALD_TEST_CLOCK_SHIFT_MS: String(SKEW_MS),
  });
  const store = new PostgresStore(database);
  try {
    const { project } = await projectWithEndpoints(store, 0, Date.now() - 1_000);
    const path = `/gone-${Date.now()}`;
    const endpoint = await store.createEndpoint(
      endpointInput(project.id, { url: `${cluster.receiver.url}${path}` }),
      `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
      Date.now(),
    );
    cluster.receiver.script((hit) => ({ status: hit.url === path ? 410 : 200 }));
    await store.acceptEvents(project.id, [eventInput()], Date.now());
    const deadline = Date.now() + 30_000;
    let found = await store.getEndpoint(project.id, endpoint.id);
    while (found?.status !== 'disabled' && Date.now() < deadline) {
      await sleep(50);
      found = await store.getEndpoint(project.id, endpoint.id);
    }
    assert.equal(found?.status, 'disabled', 'disabled by the 410');
    // Until 2026-12-08 on the worker's clock: 60 s on, and a replay from it left out the minute after.
    const off = found.disabledAt! - Date.now();
    assert.ok(Math.abs(off) < 5_000, `disabledAt ${off} ms from now`);
  } finally {
    await store.close();
  }
});
