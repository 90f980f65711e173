/**
 * An API process on PostgreSQL says whether a delivery is in flight (`inFlight`) by its lease's
 * end, which claims write in the database's time (src/store/lease-clock.ts). Read on the API
 * process's own clock, one 60 s ahead showed a delivery being sent as not in flight (while a retry
 * answered 409), and one 60 s behind showed a delivery whose lease had ended as in flight and
 * refused its retry. The process's clock check (every minute, one at start) proves the offset, and
 * leases are judged by it: in a GET of the delivery, of its event, and in the 202 answering a repeat
 * of the event's idempotency key (which judged them on its own clock until 2026-12-07). Each API process here is a real `herald serve --role api` whose clock
 * is shifted (test/support/shifted-clock.ts); the claims are made by a store in this process, in
 * step with the database, with a 30 s lease (the time the test has to read it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { eventInput, projectWithEndpoints } from '../store/helpers.ts';
import { api, type HeraldProcess } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';

const TOKEN = 'e2e-in-flight-clock-token-0123456789abcdef';
const cluster = usePostgresProcesses(TOKEN);
const PRELOAD = fileURLToPath(new URL('../support/shifted-clock.ts', import.meta.url));
const SKEW_MS = 60_000;
const LEASE_MS = 30_000;
/** The key the event is accepted with: a repeat of it answers the event and its deliveries. */
const KEY = 'in-flight-clock-order-1';

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

/** One delivery, claimed by a worker in step at `claimAt` (the database's time) with a 30 s lease. */
async function claimedDelivery(database: string, claimAt: number) {
  const store = new PostgresStore(database);
  try {
    const { project } = await projectWithEndpoints(store, 1, claimAt - 1_000);
    await store.acceptEvents(
      project.id,
      [eventInput('order.created', { idempotencyKey: KEY })],
      claimAt - 1_000,
    );
    const [taken] = await store.claimDueDeliveries({
      limit: 10,
      leaseMs: LEASE_MS,
      now: claimAt,
      workerId: 'w',
    });
    assert.ok(taken, 'the worker in step claims the delivery');
    return { projectId: project.id, id: taken.delivery.id, eventId: taken.delivery.eventId };
  } finally {
    await store.close();
  }
}

const inFlightOf = async (p: HeraldProcess, d: { projectId: string; id: string; eventId: string }) => {
  const one = await api<{ inFlight: boolean }>(
    p.url,
    TOKEN,
    'GET',
    `/api/v1/projects/${d.projectId}/deliveries/${d.id}`,
  );
  assert.equal(one.status, 200, JSON.stringify(one.body));
  const event = await api<{ deliveries: { inFlight: boolean }[] }>(
    p.url,
    TOKEN,
    'GET',
    `/api/v1/projects/${d.projectId}/events/${d.eventId}`,
  );
  assert.equal(event.status, 200, JSON.stringify(event.body));
  // A repeat of the idempotency key answers the stored event with its deliveries (the 202 of an
  // accept): their leases, written by any worker, judged as a read's are.
  const repeat = await api<{ deliveries: { inFlight: boolean }[] }>(
    p.url,
    TOKEN,
    'POST',
    `/api/v1/projects/${d.projectId}/events`,
    { type: 'order.created', payload: { n: 1 }, idempotencyKey: KEY },
  );
  assert.equal(repeat.status, 202, JSON.stringify(repeat.body));
  return [one.body.inFlight, event.body.deliveries[0]?.inFlight, repeat.body.deliveries[0]?.inFlight];
};

test('an API process whose clock is 60 s ahead shows a delivery under a running lease as in flight', async () => {
  const database = await cluster.pg.createDatabase();
  const ahead = await shiftedApi(database, SKEW_MS);
  const d = await claimedDelivery(database, Date.now());
  assert.deepEqual(await inFlightOf(ahead, d), [true, true, true], 'its lease runs 30 s by the database');
  const retried = await api(
    ahead.url,
    TOKEN,
    'POST',
    `/api/v1/projects/${d.projectId}/deliveries/${d.id}/retry`,
  );
  assert.equal(retried.status, 409, 'and a retry is refused as in flight, as it said');
});

test('an API process whose clock is 60 s behind shows a delivery whose lease has ended as not in flight, and retries it', async () => {
  const database = await cluster.pg.createDatabase();
  const behind = await shiftedApi(database, -SKEW_MS);
  // Claimed 40 s ago by the database's clock: its 30 s lease ended 10 s ago.
  const d = await claimedDelivery(database, Date.now() - 40_000);
  assert.deepEqual(
    await inFlightOf(behind, d),
    [false, false, false],
    'its lease ended 10 s ago by the database',
  );
  const retried = await api<{ inFlight: boolean }>(
    behind.url,
    TOKEN,
    'POST',
    `/api/v1/projects/${d.projectId}/deliveries/${d.id}/retry`,
  );
  assert.equal(retried.status, 202, JSON.stringify(retried.body));
  assert.equal(retried.body.inFlight, false);
});
