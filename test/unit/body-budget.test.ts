/** The body budget (src/api/body-budget.ts): pure, with short waits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBodyBudget } from '../../src/api/body-budget.ts';

test('reserves within the limit at once; more waits, in arrival order, until bytes are given back', async () => {
  const budget = createBodyBudget(100, 5_000);
  const a = await budget.reserve(60, 'c1');
  assert.ok(a);
  const order: string[] = [];
  const b = budget.reserve(50, 'c2').then((r) => {
    order.push('b');
    return r;
  });
  const c = budget.reserve(10, 'c3').then((r) => {
    order.push('c');
    return r;
  }); // fits now, but waits behind b: none overtakes the first waiting
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, []);
  assert.deepEqual(budget.usage(), { bytes: 60, waiting: 2 });
  a();
  a(); // twice: given back once
  const [rb, rc] = await Promise.all([b, c]);
  assert.deepEqual(order, ['b', 'c']);
  assert.deepEqual(budget.usage(), { bytes: 60, waiting: 0 });
  rb!();
  rc!();
  assert.deepEqual(budget.usage(), { bytes: 0, waiting: 0 });
});

test('the first request is taken whatever its size; the next waits for it', async () => {
  const budget = createBodyBudget(100, 5_000);
  const big = await budget.reserve(1_000, 'c4');
  assert.ok(big, 'alone, a body larger than the budget still goes');
  let second: (() => void) | null | undefined;
  const waiting = budget.reserve(1, 'c5').then((r) => {
    second = r;
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(second, undefined);
  big();
  await waiting;
  assert.ok(second);
});

test('a wait longer than the limit resolves null, and one the client abandons resolves null at once', async () => {
  const budget = createBodyBudget(100, 50);
  const held = await budget.reserve(100, 'c6');
  const started = Date.now();
  assert.equal(await budget.reserve(10, 'c7'), null);
  assert.ok(Date.now() - started >= 45, 'it waited first');
  const abort = new AbortController();
  const abandoned = budget.reserve(10, 'c8', abort.signal);
  abort.abort();
  assert.equal(await abandoned, null);
  assert.deepEqual(budget.usage(), { bytes: 100, waiting: 0 });
  held!();
  assert.deepEqual(budget.usage(), { bytes: 0, waiting: 0 });
});

test('a large waiting request that leaves lets the smaller ones behind it in', async () => {
  const budget = createBodyBudget(100, 5_000);
  const held = await budget.reserve(60, 'c9');
  const abort = new AbortController();
  const large = budget.reserve(90, 'c10', abort.signal);
  const small = budget.reserve(30, 'c11');
  abort.abort();
  assert.equal(await large, null);
  const r = await small;
  assert.ok(r, 'the small one fits beside the 60 held');
  held!();
  r();
});

test('one caller holds at most a quarter of the budget beyond its first request; its waiting ones let other callers pass', async () => {
  const budget = createBodyBudget(100, 5_000);
  const first = await budget.reserve(20, 'slow-tenant');
  const second = await budget.reserve(5, 'slow-tenant'); // 25: its quarter
  assert.ok(first && second);
  const third: { release?: (() => void) | null } = {};
  const waiting = budget.reserve(10, 'slow-tenant').then((r) => {
    third.release = r;
  });
  // Another caller is not held up behind the one over its share.
  const other = await budget.reserve(60, 'platform');
  assert.ok(other, 'another caller goes past the waiting one');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(third.release, undefined, 'still over its share');
  first();
  await waiting;
  const release = third.release as (() => void) | null | undefined;
  assert.ok(release, 'taken once its own share has room');
  second();
  release();
  other();
  assert.deepEqual(budget.usage(), { bytes: 0, waiting: 0 });
});

test('a caller alone may go over its share with its first request', async () => {
  const budget = createBodyBudget(100, 5_000);
  const big = await budget.reserve(90, 'importer');
  assert.ok(big);
  big();
});
