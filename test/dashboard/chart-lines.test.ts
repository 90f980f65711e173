import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lineShape } from '../../src/dashboard/app/chart-lines.ts';

// Four buckets of 100 units each across, 100 high: bucket i is centred at x = 50 + 100 i.
const plot = { left: 0, top: 0, width: 400, height: 100 };

describe('latency chart lines', () => {
  test('a value whose neighbours have none is marked as a point, not left as an empty subpath', () => {
    const shape = lineShape([null, 40, null, null], 100, plot);
    assert.equal(shape.path, 'M150.0,60.0');
    assert.deepEqual(shape.isolated, [{ x: 150, y: 60 }]);
  });

  test('isolated values at either end count too', () => {
    const shape = lineShape([100, null, null, 0], 100, plot);
    assert.deepEqual(shape.isolated, [
      { x: 50, y: 0 },
      { x: 350, y: 100 },
    ]);
  });

  test('a single bucket with a value is a point', () => {
    assert.deepEqual(lineShape([25], 100, plot).isolated, [{ x: 200, y: 75 }]);
  });

  test('runs of values are lines, a gap starts a new subpath, and only the lone value is a point', () => {
    const shape = lineShape([10, 20, null, 30, null], 100, { ...plot, width: 500 });
    assert.equal(shape.path, 'M50.0,90.0 L150.0,80.0 M350.0,70.0');
    assert.deepEqual(shape.isolated, [{ x: 350, y: 70 }]);
  });

  test('values above the axis maximum are drawn at the top', () => {
    assert.equal(lineShape([500, 50], 100, { ...plot, width: 200 }).path, 'M50.0,0.0 L150.0,50.0');
  });

  test('no values: no path, no points', () => {
    assert.deepEqual(lineShape([null, null], 100, plot), { path: '', isolated: [] });
  });
});
