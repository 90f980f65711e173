/**
 * The loop-stall clock. Its arithmetic on a clock and timer the test drives (nothing counted while
 * the loop runs freely, a hold counted while it goes on and after, a stop keeping the count), then
 * on the real ones: what holds whatever the machine's load, since a starved CPU holds the loop as
 * surely as synchronous work and is counted as such. Nothing here bounds a free loop's real count.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { createLoopStalls, MIN_STALL_MS, type StallClock, TICK_MS } from '../../src/delivery/loop-stalls.ts';
import { holdThread } from '../support/hold-thread.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A clock and an interval timer as a Node event loop runs them: `run` lets the loop run freely (each
 * tick when due), `hold` moves time on with no tick (the loop held); a tick that came due during a
 * hold runs as soon as the loop runs again, and the next one an interval after it.
 */
function drivenClock() {
  let now = 10_000;
  let tick: (() => void) | null = null;
  let interval = 0;
  let due = 0;
  const clock: StallClock = {
    now: () => now,
    repeat: (fn, ms) => {
      tick = fn;
      interval = ms;
      due = now + ms;
      return () => {
        tick = null;
      };
    },
  };
  return {
    clock,
    ticking: () => tick !== null,
    run(ms: number) {
      const end = now + ms;
      while (tick && Math.max(due, now) <= end) {
        now = Math.max(due, now);
        tick();
        due = now + interval;
      }
      now = end;
    },
    hold(ms: number) {
      now += ms;
    },
  };
}

test('a loop that runs freely counts nothing, however long', () => {
  const loop = drivenClock();
  const stalls = createLoopStalls(loop.clock);
  loop.run(60_000);
  assert.equal(stalls.stalledMs(), 0);
  stalls.stop();
});

test('a tick late by less than MIN_STALL_MS is no stall; one late by MIN_STALL_MS or more counts all its lateness', () => {
  const loop = drivenClock();
  const stalls = createLoopStalls(loop.clock);
  loop.hold(TICK_MS + MIN_STALL_MS - 1);
  loop.run(0);
  assert.equal(stalls.stalledMs(), 0);
  loop.hold(TICK_MS + MIN_STALL_MS);
  assert.equal(stalls.stalledMs(), MIN_STALL_MS, 'read during the hold');
  loop.run(0);
  assert.equal(stalls.stalledMs(), MIN_STALL_MS, 'after the late tick');
  loop.run(10_000);
  assert.equal(stalls.stalledMs(), MIN_STALL_MS, 'and after a free run');
  stalls.stop();
});

test('a hold is counted while it goes on and after it, less the part before the tick was due; never less later', () => {
  const loop = drivenClock();
  const stalls = createLoopStalls(loop.clock);
  loop.run(1_030); // 30 ms after a tick
  let previous = 0;
  for (const step of [100, 100, 100, 200]) {
    loop.hold(step);
    const during = stalls.stalledMs();
    assert.ok(during >= previous, `${during} < ${previous}`);
    previous = during;
  }
  // 500 ms held, the first 70 of it before the tick was due
  assert.equal(previous, 430);
  loop.run(0);
  assert.equal(stalls.stalledMs(), 430, 'the late tick has run');
  loop.run(5_000);
  assert.equal(stalls.stalledMs(), 430, 'a free loop after it');
  loop.hold(1_000); // right after a tick: all of it but the tick's 100 ms
  loop.run(5_000);
  assert.equal(stalls.stalledMs(), 1_330);
  stalls.stop();
});

test('mark: what a hold under way had gone on before it (under MIN_STALL_MS) is not in a later rise', () => {
  const loop = drivenClock();
  const stalls = createLoopStalls(loop.clock);
  loop.run(1_000); // on a tick
  loop.hold(TICK_MS + 15); // 15 ms late: no stall yet
  assert.equal(stalls.stalledMs(), 0);
  const mark = stalls.mark();
  assert.equal(stalls.heldSince(mark), 0);
  loop.hold(185); // the hold goes on: 200 ms counted from the tick's due time, 185 since the mark
  assert.equal(stalls.heldSince(mark), 185);
  loop.run(0);
  assert.equal(stalls.heldSince(mark), 185, 'after the late tick');
  stalls.stop();
  const stopped = stalls.mark();
  assert.equal(stopped.ms, stalls.stalledMs(), 'stopped: the count');
});

test('mark: a lateness under way that never becomes a hold takes nothing off a later one', () => {
  const loop = drivenClock();
  const stalls = createLoopStalls(loop.clock);
  loop.run(1_000); // on a tick
  loop.hold(TICK_MS + 15); // 15 ms late as the mark is taken
  const mark = stalls.mark();
  const second = stalls.mark();
  assert.equal(stalls.heldSince(mark), 0, 'no stall yet');
  loop.run(0); // the tick runs 15 ms late: no stall
  assert.equal(stalls.heldSince(mark), 0);
  loop.run(1_000); // on a tick
  loop.hold(TICK_MS + 200); // a hold of 200 ms, after the mark
  assert.equal(stalls.heldSince(mark), 200, 'before the tick runs');
  loop.run(0);
  // As a number (stalledMs() and the 15 ms under way) it was 185 (until 2026-12-07).
  assert.equal(stalls.heldSince(mark), 200, 'after it');
  assert.equal(stalls.heldSince(second), 200, 'every mark of that lateness');
  // A lateness that ends under MIN_STALL_MS with a stop settles the marks taken during it too.
  loop.run(1_000);
  loop.hold(TICK_MS + 15);
  const atStop = stalls.mark();
  stalls.stop();
  assert.equal(atStop.ms, stalls.stalledMs());
  stalls.stop();
});

test('a stop counts the hold going on at it, stops the tick, and the count stays there', () => {
  const loop = drivenClock();
  const stalls = createLoopStalls(loop.clock);
  loop.run(200);
  loop.hold(350);
  stalls.stop();
  assert.equal(loop.ticking(), false, 'the tick is stopped');
  assert.equal(stalls.stalledMs(), 250);
  loop.hold(10_000); // no tick runs now: before a1c04ff, all of this was counted at each read
  assert.equal(stalls.stalledMs(), 250);
  stalls.stop();
  assert.equal(stalls.stalledMs(), 250);
});

test('on the real clock: a 1 s hold is counted, less at most a tick, and the count never runs ahead of the wall clock', async () => {
  // Bounds that hold under any load: the count may take in any time the loop could not run (a
  // starved CPU is a hold), never more than the time that passed, plus a tick that came due just
  // under MIN_STALL_MS late before the first read (counted whole when it turns into a stall).
  const t0 = performance.now();
  const stalls = createLoopStalls();
  try {
    await sleep(350);
    const t1 = performance.now();
    const free = stalls.stalledMs();
    assert.ok(free <= t1 - t0 + MIN_STALL_MS, `${free} ms counted in ${t1 - t0} ms`);
    holdThread(1_000);
    const during = stalls.stalledMs(); // before the tick has run: the hold going on is counted
    const t2 = performance.now();
    assert.ok(during - free >= 1_000 - TICK_MS, `counted ${during - free} ms of a 1,000 ms hold`);
    assert.ok(during - free <= t2 - t1 + MIN_STALL_MS, `counted ${during - free} ms in ${t2 - t1} ms`);
    await sleep(250);
    const later = stalls.stalledMs();
    const t3 = performance.now();
    assert.ok(later >= during, `${later} < ${during}`);
    assert.ok(later - during <= t3 - t2 + MIN_STALL_MS, `counted ${later - during} ms more in ${t3 - t2} ms`);
  } finally {
    stalls.stop();
  }
});

test('on the real clock, a stopped count counts nothing more: the time since its last tick is not a hold', async () => {
  const stalls = createLoopStalls();
  await sleep(150);
  stalls.stop();
  const stopped = stalls.stalledMs();
  await sleep(400); // no tick runs now: before, all of this was counted at each read
  assert.equal(stalls.stalledMs(), stopped);
});
