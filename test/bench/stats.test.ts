import assert from 'node:assert/strict';
import { test } from 'node:test';
import { geometricMean, median, percentiles, ratio, roundRate } from '../../bench/lib/stats.ts';
import { sharePercent, withPhases } from '../../bench/lib/table.ts';

test('a slow window keeps its rate: one arrival in 30 s is not 0/s', () => {
  assert.equal(roundRate(1 / 30), 0.03);
  assert.equal(roundRate(2.345), 2.35);
  assert.ok(roundRate(0.004) === 0, 'below a hundredth is 0, as the tables print it');
});

test('rates from 100/s up are whole, as the tables print them', () => {
  assert.equal(roundRate(100.4), 100);
  assert.equal(roundRate(10_402.6), 10_403);
  assert.equal(roundRate(99.996), 100);
});

test('a share of two slow rates is not lost to rounding', () => {
  // Before: 0/s against 1/s read as a share of 0 (or null for 0/0).
  assert.equal(ratio(roundRate(0.4), roundRate(0.8)), 0.5);
});

test('isolation cells: a mean with its phases, a share with each turn when there were several', () => {
  assert.equal(withPhases(5482, [5000, 5963]), '5,482 (5,000, 5,963)');
  assert.equal(withPhases(4779, undefined), '4,779', 'results from before the phases were kept');
  assert.equal(sharePercent(0.9, [0.88, 0.91, 0.92]), '90 % (88, 91, 92)');
  assert.equal(sharePercent(0.87, [0.87]), '87 %');
  assert.equal(sharePercent(0.87, undefined), '87 %');
  assert.equal(sharePercent(null, [0.9, null]), null);
});

test('percentiles are nearest-rank over the values in numeric order', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
  assert.deepEqual(percentiles(hundred), { count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  // Numeric, not lexicographic, order (9 < 10 < 100), negatives (arrived before the 202) included.
  assert.deepEqual(percentiles([100, 9, 10, -1.5]), { count: 4, p50: 9, p95: 100, p99: 100, max: 100 });
  // The rank rounds up: of 10 values p95 and p99 are the largest, p50 the 5th.
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.deepEqual(percentiles(ten), { count: 10, p50: 5, p95: 10, p99: 10, max: 10 });
  assert.deepEqual(percentiles([1.23456]), { count: 1, p50: 1.23, p95: 1.23, p99: 1.23, max: 1.23 });
  const none = percentiles([]);
  assert.equal(none.count, 0);
  assert.ok(Number.isNaN(none.p50) && Number.isNaN(none.max), 'no values: no percentile, not 0');
});

test('a median of an even count is the mean of the middle two; ratios are of the rates given', () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([10, 2, 33]), 10);
  assert.ok(Number.isNaN(median([])));
  assert.equal(ratio(8_432, 40_002), 0.21);
  assert.equal(ratio(8_432, 7_853), 1.07);
  assert.equal(ratio(1, 0), null);
  assert.equal(ratio(null, 5), null);
  assert.equal(ratio(Number.NaN, 5), null);
});

test('a geometric mean of ratios says how many runs it is of when some had none or 0', () => {
  assert.deepEqual(geometricMean([0.2, 0.8]), { mean: 0.4, of: 2 });
  assert.deepEqual(geometricMean([1.07, 1.07, 1.07]), { mean: 1.07, of: 3 });
  // A run in which Herald delivered nothing (ratio 0) or had no raw ceiling (null) cannot enter it:
  // before, the mean of 0.2, 0.8 and 0 read 0.4 as if of all three runs.
  assert.deepEqual(geometricMean([0.2, 0.8, 0, null]), { mean: 0.4, of: 2 });
  assert.deepEqual(geometricMean([null, 0]), { mean: null, of: 0 });
});
