import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ratio, roundRate } from '../../bench/lib/stats.ts';
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
