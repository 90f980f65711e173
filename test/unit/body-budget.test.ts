/** The body budget (src/api/body-budget.ts): pure, with short waits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBodyBudget } from '../../src/api/body-budget.ts';

test('reserves within the limit at once; more waits, in arrival order, until bytes are given back', async () => {
  const budget = createBodyBudget(100, 5_000);
  const a = await budget.reserve(60);
  assert.ok(a);
  const order: string[] = [];
  const b = budget.reserve(50).then((r) => {
    order.push('b');
    return r;
  });
  const c = budget.reserve(10).then((r) => {
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
  const big = await budget.reserve(1_000);
  assert.ok(big, 'alone, a body larger than the budget still goes');
  let second: (() => void) | null | undefined;
  const waiting = budget.reserve(1).then((r) => {
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
  const held = await budget.reserve(100);
  const started = Date.now();
  assert.equal(await budget.reserve(10), null);
  assert.ok(Date.now() - started >= 45, 'it waited first');
  const abort = new AbortController();
  const abandoned = budget.reserve(10, abort.signal);
  abort.abort();
  assert.equal(await abandoned, null);
  assert.deepEqual(budget.usage(), { bytes: 100, waiting: 0 });
  held!();
  assert.deepEqual(budget.usage(), { bytes: 0, waiting: 0 });
});

test('a large waiting request that leaves lets the smaller ones behind it in', async () => {
  const budget = createBodyBudget(100, 5_000);
  const held = await budget.reserve(60);
  const abort = new AbortController();
  const large = budget.reserve(90, abort.signal);
  const small = budget.reserve(30);
  abort.abort();
  assert.equal(await large, null);
  const r = await small;
  assert.ok(r, 'the small one fits beside the 60 held');
  held!();
  r();
});
