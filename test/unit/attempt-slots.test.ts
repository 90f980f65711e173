/** The dispatcher's slot bookkeeping (src/delivery/attempt-slots.ts), with attempts it ends itself. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAttemptSlots } from '../../src/delivery/attempt-slots.ts';

function slotsWithLog(config = { concurrency: 4, perEndpointConcurrency: 2, perProjectConcurrency: 3 }) {
  const freed: string[] = [];
  const errors: unknown[] = [];
  let counts = 0;
  const slots = createAttemptSlots({
    config,
    onCount: () => counts++,
    onFreed: (key, projectId) => freed.push(`${key ?? 'callback'}@${projectId}`),
    onError: (error) => errors.push(error),
  });
  /** An attempt that runs until its `end` is called (or throws, with `fail`). */
  const start = (key: string | null, projectId: string) => {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    slots.launch(key, projectId, () => promise);
    return { end: resolve, fail: reject };
  };
  return { slots, freed, errors, start, counts: () => counts };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test('counts attempts per process, endpoint and project, and frees their slots when they end', async () => {
  const { slots, freed, start, counts } = slotsWithLog();
  const a1 = start('ep-a', 'p1');
  const a2 = start('ep-a', 'p1');
  const cb = start(null, 'p1');
  assert.equal(slots.inFlight, 3);
  assert.equal(slots.ofEndpoint('ep-a'), 2);
  assert.equal(slots.ofEndpoint('ep-b'), 0);
  // p1 holds its cap of 3 (callbacks count for the project).
  assert.equal(slots.projectAllowance('p1'), 0);
  assert.equal(slots.projectFull('p1'), true);
  // One slot is free in the process; it is within the reserve (4 - 3 = 1) and p2 has none in flight.
  assert.equal(slots.projectAllowance('p2'), 1);
  a1.end();
  await settled();
  assert.deepEqual(freed, ['ep-a@p1']);
  assert.equal(slots.ofEndpoint('ep-a'), 1);
  assert.equal(slots.projectFull('p1'), false);
  cb.end();
  a2.end();
  await settled();
  assert.deepEqual(freed, ['ep-a@p1', 'callback@p1', 'ep-a@p1']);
  assert.equal(slots.inFlight, 0);
  assert.equal(slots.ofEndpoint('ep-a'), 0);
  assert.equal(counts(), 6, 'every start and end is reported');
});

test('an attempt that rejects is reported and still frees its slots', async () => {
  const { slots, freed, errors, start } = slotsWithLog();
  start('ep-a', 'p1').fail(new Error('boom'));
  await settled();
  assert.equal((errors[0] as Error).message, 'boom');
  assert.deepEqual(freed, ['ep-a@p1']);
  assert.equal(slots.inFlight, 0);
});

test('settle waits for running attempts, up to the grace, and says how many still run', async () => {
  const { slots, start } = slotsWithLog();
  const quick = start('ep-a', 'p1');
  start('ep-b', 'p1'); // never ends
  setTimeout(() => quick.end(), 5);
  const started = performance.now();
  assert.equal(await slots.settle(60), 1);
  assert.ok(performance.now() - started >= 55);
  const { slots: idle } = slotsWithLog();
  assert.equal(await idle.settle(10_000), 0, 'nothing running: no wait');
});
