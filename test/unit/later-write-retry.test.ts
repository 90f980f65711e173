/**
 * The later writes' retry (park-batch.ts retryLaterWrites), which both stores' parking and resuming
 * loops run: the wait after a failure doubles while failures follow each other and is back to its
 * first once a write goes through. PostgreSQL's loop kept the doubled wait: failures, then writes
 * going through, then one more failure waited as long as the next doubling. Run with a pause that
 * records what it was asked to wait; the loops on real stores: test/store/later-batch-failure.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LaterLoop, laterRetry, retryLaterWrites } from '../../src/store/park-batch.ts';

const loop: LaterLoop = { step: 'resume', projectId: 'p', endpointId: 'e' };

test('the wait after a failure doubles while failures follow each other, and is back to the first once a write goes through', async () => {
  // Each run: how many writes go through, then whether it fails.
  const runs = [
    { through: 0, fails: true },
    { through: 0, fails: true },
    { through: 0, fails: true },
    { through: 2, fails: true },
    { through: 1, fails: true },
    { through: 0, fails: true },
    { through: 3, fails: false },
  ];
  const waits: number[] = [];
  const said: string[] = [];
  let n = 0;
  await retryLaterWrites(
    loop,
    async (through) => {
      const run = runs[n++]!;
      for (let i = 0; i < run.through; i++) through();
      if (run.fails) throw new Error(`write ${n} failed`);
    },
    {
      closed: () => false,
      pause: async (ms) => {
        waits.push(ms);
      },
      report: {
        failed: (l, error) => said.push(`failed ${l.step} ${(error as Error).message}`),
        through: (l, failures) => said.push(`through ${l.step} after ${failures}`),
      },
    },
  );
  const first = laterRetry.firstMs;
  assert.equal(n, runs.length);
  assert.deepEqual(waits, [first, first * 2, first * 4, first, first, first * 2]);
  assert.deepEqual(said, [
    'failed resume write 1 failed',
    'through resume after 3',
    'failed resume write 4 failed',
    'through resume after 1',
    'failed resume write 5 failed',
    'through resume after 2',
  ]);
});

test('the wait stops doubling at its longest', async () => {
  const waits: number[] = [];
  let failures = 12;
  await retryLaterWrites(
    loop,
    async () => {
      if (failures-- > 0) throw new Error('refused');
    },
    {
      closed: () => false,
      pause: async (ms) => {
        waits.push(ms);
      },
    },
  );
  assert.equal(waits.length, 12);
  assert.equal(Math.max(...waits), laterRetry.maxMs);
  assert.equal(waits.at(-1), laterRetry.maxMs);
});

test('a store closed during a pause ends the loop: nothing is run again', async () => {
  let closed = false;
  let runs = 0;
  await retryLaterWrites(
    loop,
    async () => {
      runs++;
      throw new Error('refused');
    },
    {
      closed: () => closed,
      pause: async () => {
        closed = true;
      },
    },
  );
  assert.equal(runs, 1);
});
