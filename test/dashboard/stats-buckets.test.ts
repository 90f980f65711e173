import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatsBucket } from '../../src/dashboard/app/api/types.ts';
import { axisTicks, fillBuckets, niceMax } from '../../src/dashboard/app/stats-buckets.ts';

const HOUR = 3_600_000;
const t0 = Date.UTC(2030, 0, 1);
const bucket = (start: number, succeeded: number, failed: number): StatsBucket => ({
  start: new Date(start).toISOString(),
  succeeded,
  failed,
  avgDurationMs: 10,
  p95DurationMs: 20,
});

describe('stats buckets for the charts', () => {
  test('the gaps the server leaves out become empty buckets, in time order', () => {
    const filled = fillBuckets([bucket(t0 + 2 * HOUR, 3, 1)], t0, t0 + 4 * HOUR, HOUR);
    assert.deepEqual(
      filled.map((b) => [b.start, b.succeeded, b.failed, b.avgDurationMs]),
      [
        [new Date(t0).toISOString(), 0, 0, null],
        [new Date(t0 + HOUR).toISOString(), 0, 0, null],
        [new Date(t0 + 2 * HOUR).toISOString(), 3, 1, 10],
        [new Date(t0 + 3 * HOUR).toISOString(), 0, 0, null],
      ],
    );
  });

  test('buckets outside the window are dropped; an unaligned start snaps to its bucket', () => {
    const filled = fillBuckets([bucket(t0 - HOUR, 9, 9), bucket(t0, 1, 0)], t0 + 60_000, t0 + HOUR, HOUR);
    assert.equal(filled.length, 1);
    assert.equal(filled[0]?.succeeded, 1);
  });

  test('attempts started exactly at until (inclusive on the server) keep their bucket; no empty one is added', () => {
    const atUntil = fillBuckets([bucket(t0, 1, 0), bucket(t0 + 2 * HOUR, 0, 2)], t0, t0 + 2 * HOUR, HOUR);
    assert.deepEqual(
      atUntil.map((b) => [b.start, b.failed]),
      [
        [new Date(t0).toISOString(), 0],
        [new Date(t0 + HOUR).toISOString(), 0],
        [new Date(t0 + 2 * HOUR).toISOString(), 2],
      ],
    );
    assert.equal(fillBuckets([bucket(t0, 1, 0)], t0, t0 + 2 * HOUR, HOUR).length, 2);
  });

  test('axis maxima are 1, 2 or 5 times a power of ten, at least the value', () => {
    assert.deepEqual([0, 1, 3, 7, 10, 11, 240, 999].map(niceMax), [1, 1, 5, 10, 10, 20, 500, 1000]);
  });

  test('axis labels are distinct whole numbers: 1 attempt at most reads 0 and 1, not 0, 1, 1', () => {
    assert.deepEqual(axisTicks(niceMax(1)), [0, 1]);
    assert.deepEqual(axisTicks(niceMax(2)), [0, 1, 2]);
    assert.deepEqual(axisTicks(niceMax(4)), [0, 5]);
    for (let most = 0; most <= 5000; most++) {
      const labels = axisTicks(niceMax(most)).map((v) => String(Math.round(v)));
      assert.equal(new Set(labels).size, labels.length, `${most}: ${labels.join(', ')}`);
      assert.ok(labels.length >= 2);
    }
  });
});
