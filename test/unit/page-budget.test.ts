import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPage } from '../../src/store/cursor.ts';
import { takeWithinBudget } from '../../src/store/page-budget.ts';

/** An iterable that counts how many rows were pulled from it. */
function counted(sizes: number[]) {
  const seen = { pulled: 0 };
  const rows = {
    *[Symbol.iterator]() {
      for (const size of sizes) {
        seen.pulled++;
        yield size;
      }
    },
  };
  return { rows, seen };
}

test('takeWithinBudget stops before the first row that starts past the budget', () => {
  const { rows, seen } = counted([40, 40, 40, 40]);
  const taken = takeWithinBudget(rows, 10, (n) => n, 100);
  assert.deepEqual(taken, { rows: [40, 40, 40], cut: true }, 'the third starts at 80, under 100');
  assert.equal(seen.pulled, 4, 'the fourth was looked at, and no row after it');
});

test('takeWithinBudget always takes one row, however large', () => {
  assert.deepEqual(
    takeWithinBudget([500, 1], 10, (n) => n, 100),
    { rows: [500], cut: true },
  );
  assert.deepEqual(
    takeWithinBudget([500], 10, (n) => n, 100),
    { rows: [500], cut: false },
  );
});

test('takeWithinBudget stops at max without pulling further, and max 0 takes nothing', () => {
  const { rows, seen } = counted([1, 1, 1, 1]);
  assert.deepEqual(
    takeWithinBudget(rows, 2, (n) => n, 100),
    { rows: [1, 1], cut: false },
  );
  assert.equal(seen.pulled, 2);
  assert.deepEqual(
    takeWithinBudget([1], 0, (n) => n, 100),
    { rows: [], cut: false },
  );
});

test('toPage: a page cut short continues after its last row; an uncut one by the extra row', () => {
  const key = (n: number) => String(n);
  assert.equal(toPage([1, 2], 5, key, true).nextCursor, Buffer.from('2').toString('base64url'));
  assert.equal(toPage([1, 2], 5, key, false).nextCursor, null);
  assert.equal(toPage([1, 2, 3], 2, key).nextCursor, Buffer.from('2').toString('base64url'));
  assert.deepEqual(toPage([], 5, key, true), { data: [], nextCursor: null });
});
