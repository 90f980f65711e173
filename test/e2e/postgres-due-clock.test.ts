/**
 * An API process on PostgreSQL writes the due time of what it makes due at once (a new event's
 * deliveries, a retry by hand), and workers' claims compare it in the database's time
 * (src/store/lease-clock.ts). Written on the API process's own clock, one 60 s ahead made every
 * event it accepted wait a minute for the workers (until 2026-12-07). The API process here is a
 * real `herald serve --role api` whose clock is shifted (test/support/shifted-clock.ts); the worker
 * is a store in this process, in step with the database, claiming right after each write (as it
 * would 5 s later).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { eventInput, projectWithEndpoints } from '../store/helpers.ts';
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
