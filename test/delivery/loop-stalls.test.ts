/** The loop-stall clock: nothing counted while the loop runs freely, a hold counted while it goes on and after. */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { createLoopStalls } from '../../src/delivery/loop-stalls.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a free loop counts no stall; a held one counts the hold, during it and after, never less later', async () => {
  const stalls = createLoopStalls();
  try {
    await sleep(350);
    const free = stalls.stalledMs();
    assert.ok(free < 60, `a free loop counted ${free} ms`);
    const end = performance.now() + 500;
    while (performance.now() < end);
    const during = stalls.stalledMs(); // before the tick has run: the hold going on is counted
    // 500 ms held, less the part of it before the tick was due (at most the 100 ms tick)
    assert.ok(during - free >= 390 && during - free <= 560, `counted ${during - free} ms of a 500 ms hold`);
    await sleep(250);
    const later = stalls.stalledMs();
    assert.ok(later >= during, `${later} < ${during}`);
    assert.ok(later - during < 60, `${later - during} ms more counted on a free loop`);
  } finally {
    stalls.stop();
  }
});

test('a stopped clock counts nothing more: the time since its last tick is not a hold', async () => {
  const stalls = createLoopStalls();
  await sleep(150);
  stalls.stop();
  const stopped = stalls.stalledMs();
  await sleep(400); // no tick runs now: before, all of this was counted at each read
  assert.equal(stalls.stalledMs(), stopped);
});
