import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstArrivals, latencyBetween, latencyOf } from '../../bench/lib/latency.ts';
import type { OpenLoopResult } from '../../bench/lib/load.ts';

/** Events sent at 0, 10, 20, …; each accepted 2 ms after it was sent, arriving `delay[i]` ms after that. */
function run(delays: (number | null)[]): { run: OpenLoopResult; arrivals: { seq: number[]; at: number[] } } {
  const sent = delays.length;
  const r: OpenLoopResult = {
    startedAt: 0,
    endedAt: sent * 10,
    sent,
    sentAt: Float64Array.from(delays, (_, i) => i * 10),
    acceptedAt: Float64Array.from(delays, (_, i) => i * 10 + 2),
    errors: 0,
    firstError: null,
    skippedTicks: 0,
  };
  const arrivals = { seq: [] as number[], at: [] as number[] };
  delays.forEach((d, i) => {
    if (d === null) return;
    arrivals.seq.push(i);
    arrivals.at.push(i * 10 + 2 + d);
  });
  return { run: r, arrivals };
}

test('a window holds the events sent within it, however late they arrived', () => {
  // Sent at 0-30 ms quickly; at 40 and 50 ms slowly (arriving after 60 ms); at 60 ms quickly again.
  const { run: r, arrivals } = run([1, 1, 1, 1, 500, 400, 1]);
  const { first } = firstArrivals(r, arrivals);
  const before = latencyBetween(r, first, 0, 40);
  const during = latencyBetween(r, first, 40, 60);
  const after = latencyBetween(r, first, 60, Number.POSITIVE_INFINITY);
  assert.deepEqual(
    [before.acceptToArrival.count, during.acceptToArrival.count, after.acceptToArrival.count],
    [4, 2, 1],
  );
  assert.equal(before.acceptToArrival.max, 1);
  assert.equal(during.acceptToArrival.p50, 400);
  assert.equal(during.acceptToArrival.max, 500);
  assert.equal(after.acceptToArrival.max, 1);
  assert.equal(during.accept.p50, 2);
});

test('an event without an arrival is missing in its window; a second arrival counts once', () => {
  const { run: r, arrivals } = run([1, null, 3]);
  arrivals.seq.push(0);
  arrivals.at.push(100);
  const { first, duplicates } = firstArrivals(r, arrivals);
  assert.equal(duplicates, 1);
  const w = latencyBetween(r, first, 0, Number.POSITIVE_INFINITY);
  assert.equal(w.missing, 1);
  assert.deepEqual([w.acceptToArrival.count, w.acceptToArrival.max], [2, 3]);
  assert.equal(w.accept.count, 3, 'its 202 was timed all the same');
});

test('latencyOf is the window from the warm-up to the end', () => {
  const { run: r, arrivals } = run([9, 1, 2, 3]);
  const all = latencyOf(r, arrivals, 10);
  assert.deepEqual(
    [all.acceptToArrival.count, all.acceptToArrival.max, all.missing, all.duplicates],
    [3, 3, 0, 0],
  );
});
