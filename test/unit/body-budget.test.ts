/** The body budget (src/api/body-budget.ts): pure, with short waits. A caller's share is a quarter. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BodyBudget, createBodyBudget } from '../../src/api/body-budget.ts';

/** Reserves `bytes` for each caller named, each taken at once; returns their releases. */
async function hold(budget: BodyBudget, ...held: [number, string][]): Promise<(() => void)[]> {
  const releases: (() => void)[] = [];
  for (const [bytes, caller] of held) {
    const release = await budget.reserve(bytes, caller);
    assert.ok(release, `${caller} takes ${bytes}`);
    releases.push(release);
  }
  return releases;
}

test('reserves within the limit at once; more waits, in arrival order, until bytes are given back', async () => {
  const budget = createBodyBudget(100, 5_000);
  const [c1, c2] = await hold(budget, [25, 'c1'], [25, 'c2'], [25, 'c3'], [25, 'c4']);
  const order: string[] = [];
  const b = budget.reserve(25, 'c5').then((r) => {
    order.push('b');
    return r;
  });
  const c = budget.reserve(5, 'c6').then((r) => {
    order.push('c');
    return r;
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, []);
  assert.deepEqual(budget.usage(), { bytes: 100, waiting: 2 });
  c1!();
  c1!(); // twice: given back once
  await b;
  assert.deepEqual(order, ['b'], 'c does not fit yet, and waits behind b');
  c2!();
  await c;
  assert.deepEqual(order, ['b', 'c']);
  assert.deepEqual(budget.usage(), { bytes: 80, waiting: 0 });
});

test('a wait longer than the limit resolves null, and one the client abandons resolves null at once', async () => {
  const budget = createBodyBudget(100, 50);
  const held = await hold(budget, [25, 'c1'], [25, 'c2'], [25, 'c3'], [25, 'c4']);
  const started = Date.now();
  assert.equal(await budget.reserve(10, 'c5'), null);
  assert.ok(Date.now() - started >= 45, 'it waited first');
  const abort = new AbortController();
  const abandoned = budget.reserve(10, 'c5', abort.signal);
  abort.abort();
  assert.equal(await abandoned, null);
  assert.deepEqual(budget.usage(), { bytes: 100, waiting: 0 });
  for (const release of held) release();
  assert.deepEqual(budget.usage(), { bytes: 0, waiting: 0 });
});

test('a large waiting request that leaves lets the smaller ones behind it in', async () => {
  const budget = createBodyBudget(100, 5_000);
  await hold(budget, [25, 'c1'], [25, 'c2'], [25, 'c3'], [5, 'c4']);
  const abort = new AbortController();
  const large = budget.reserve(25, 'large', abort.signal);
  const small = budget.reserve(20, 'small');
  abort.abort();
  assert.equal(await large, null);
  assert.ok(await small, 'the small one fits beside the 80 held');
});

test('one caller holds at most a quarter of the budget; its waiting ones let other callers pass', async () => {
  const budget = createBodyBudget(100, 5_000);
  const [first, second] = await hold(budget, [20, 'slow-tenant'], [5, 'slow-tenant']); // 25: its quarter
  const third: { release?: (() => void) | null } = {};
  const waiting = budget.reserve(10, 'slow-tenant').then((r) => {
    third.release = r;
  });
  // Other callers are not held up behind the one over its share.
  const others = await hold(budget, [25, 'platform'], [25, 'admin'], [25, 'another-tenant']);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(third.release, undefined, 'still over its share');
  first!();
  await waiting;
  const release = third.release as (() => void) | null | undefined;
  assert.ok(release, 'taken once its own share has room');
  second!();
  release();
  for (const r of others) r();
  assert.deepEqual(budget.usage(), { bytes: 0, waiting: 0 });
});
