/**
 * Workers on one PostgreSQL share a rate limit's bucket (GCRA, rate-limit.ts): its time (TAT) is
 * written by each worker that takes a token and compared by the next. Until 2026-12-07 each took
 * with its own clock and the bucket's time only moves forward, so a worker ahead kept the bucket
 * ahead of the others by its offset: a worker in step got no token for that long, and was told the
 * next one came that much later (two dispatchers, 20/s burst 1, one 3 s ahead: 2.1 deliveries a
 * second and 4.5 put-backs a delivery; one behind got no token at all). Now the bucket is judged
 * in the database's time, by the offset the worker's last claim proved (lease-clock.ts), and the
 * next token's time handed back in the worker's own. The workers below are 20 s off; the offset
 * proved may fall short of the true one by a reading's round trip, hence the 1 s taken later.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';
import { projectWithEndpoints } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

const SKEW_MS = 20_000;
const INTERVAL_MS = 50;

/** An endpoint limited to 20/s, burst 1, and two stores on its database: one in step, one `skew` off. */
async function sharedBucket(skew: number) {
  const url = await server.createDatabase();
  const inStep = new PostgresStore(url);
  await inStep.migrate();
  const clockOff = () => Date.now() + skew;
  const off = new PostgresStore(url, { clock: clockOff });
  const { project, endpoints } = await projectWithEndpoints(inStep, 1, Date.now());
  // Each measures its offset as a claim does (nothing is due).
  for (const [store, clock] of [
    [inStep, Date.now],
    [off, clockOff],
  ] as const)
    await store.claimDueDeliveries({ limit: 1, leaseMs: 1_000, now: clock(), workerId: 'w' });
  const take = (store: PostgresStore, now: number) =>
    store
      .takeRateTokens(
        [
          {
            projectId: project.id,
            endpointId: endpoints[0]!.id,
            perSecond: 1000 / INTERVAL_MS,
            burst: 1,
            want: 1,
          },
        ],
        now,
      )
      .then((g) => g.get(endpoints[0]!.id)!);
  return { inStep, off, clockOff, take };
}

test('a worker whose clock is ahead does not keep the bucket ahead of a worker in step', async () => {
  const { inStep, off, clockOff, take } = await sharedBucket(SKEW_MS);
  try {
    const nowAhead = clockOff();
    const ahead = await take(off, nowAhead);
    assert.equal(ahead.granted, 1);
    // Its next token in its own time.
    assert.ok(
      Math.abs(ahead.nextAt - (nowAhead + INTERVAL_MS)) < 1_000,
      `${ahead.nextAt - nowAhead} ms away`,
    );
    const now = Date.now() + 1_000;
    const inStepGrant = await take(inStep, now);
    assert.equal(inStepGrant.granted, 1, `no token, the next ${inStepGrant.nextAt - now} ms away`);
    const again = await take(inStep, now);
    assert.equal(again.granted, 0);
    assert.ok(again.nextAt - now <= 2 * INTERVAL_MS, `the next token ${again.nextAt - now} ms away`);
  } finally {
    await inStep.close();
    await off.close();
  }
});

test('a worker whose clock is behind gets tokens from a bucket a worker in step keeps', async () => {
  const { inStep, off, clockOff, take } = await sharedBucket(-SKEW_MS);
  try {
    assert.equal((await take(inStep, Date.now())).granted, 1);
    const now = clockOff() + 1_000;
    const behind = await take(off, now);
    assert.equal(behind.granted, 1, `no token, the next ${behind.nextAt - now} ms away`);
    const again = await take(off, now);
    assert.equal(again.granted, 0);
    assert.ok(again.nextAt - now <= 2 * INTERVAL_MS, `the next token ${again.nextAt - now} ms away`);
  } finally {
    await inStep.close();
    await off.close();
  }
});
