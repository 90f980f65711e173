/** De-duplication by webhook-id: memory store TTL and bound, once() semantics. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDeduplicator, MemoryIdempotencyStore } from '../src/index.ts';

test('an id is claimed once until its TTL passes', () => {
  let now = 0;
  const store = new MemoryIdempotencyStore({ now: () => now });
  assert.equal(store.claim('evt_1', 1000), true);
  assert.equal(store.claim('evt_1', 1000), false);
  now = 999;
  assert.equal(store.claim('evt_1', 1000), false);
  now = 1000;
  assert.equal(store.claim('evt_1', 1000), true);
});

test('the store is bounded: the least recently seen id goes first', () => {
  const store = new MemoryIdempotencyStore({ maxEntries: 2 });
  store.claim('a', 60_000);
  store.claim('b', 60_000);
  store.claim('a', 60_000); // seen again: most recent
  store.claim('c', 60_000); // evicts b
  assert.equal(store.size, 2);
  assert.equal(store.claim('a', 60_000), false);
  assert.equal(store.claim('b', 60_000), true);
});

test('expired entries are dropped as new ones arrive', () => {
  let now = 0;
  const store = new MemoryIdempotencyStore({ now: () => now });
  for (let i = 0; i < 100; i++) store.claim(`old_${i}`, 10);
  now = 20;
  store.claim('fresh', 10);
  assert.equal(store.size, 1);
});

test('once() runs the handler once; a repeat while it runs is in progress, one after it succeeded a duplicate', async () => {
  const dedupe = createDeduplicator();
  let runs = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const first = dedupe.once('evt_1', async () => {
    runs++;
    await gate;
    return 'done';
  });
  assert.deepEqual(await dedupe.once('evt_1', () => runs++), { duplicate: true, inProgress: true });
  release();
  assert.deepEqual(await first, { duplicate: false, result: 'done' });
  assert.deepEqual(await dedupe.once('evt_1', () => runs++), { duplicate: true, inProgress: false });
  assert.equal(runs, 1);

  await assert.rejects(
    dedupe.once('evt_2', () => {
      throw new Error('handler failed');
    }),
    /handler failed/,
  );
  assert.deepEqual(await dedupe.once('evt_2', () => 'retried'), { duplicate: false, result: 'retried' });
});

/**
 * Herald's retry of an attempt it gave up on (its timeout) can come while that attempt's handler is
 * still at work. Taken as a duplicate (answered 200), it was the end of the event when that handler
 * then failed: the id was released, but Herald had no retry left to send.
 */
test('a repeat while the handler runs is not a processed duplicate: if that handler fails, the next repeat runs', async () => {
  const dedupe = createDeduplicator();
  let fail: (error: Error) => void = () => {};
  const first = dedupe.once(
    'evt_slow',
    () =>
      new Promise<never>((_resolve, reject) => {
        fail = reject;
      }),
  );
  const during = await dedupe.once('evt_slow', () => 'ran');
  assert.deepEqual(during, { duplicate: true, inProgress: true }, 'answer it non-2xx: Herald tries again');
  fail(new Error('database timeout'));
  await assert.rejects(first, /database timeout/);
  assert.deepEqual(await dedupe.once('evt_slow', () => 'ran'), { duplicate: false, result: 'ran' });
});

test('a pluggable async store is awaited', async () => {
  const seen = new Set<string>();
  const dedupe = createDeduplicator({
    store: {
      claim: async (id) => !seen.has(id) && Boolean(seen.add(id)),
      release: async (id) => {
        seen.delete(id);
      },
    },
    ttlSeconds: 60,
  });
  assert.equal(await dedupe.claim('x'), true);
  assert.equal(await dedupe.claim('x'), false);
  await dedupe.release('x');
  assert.equal(await dedupe.claim('x'), true);
});

test("once() runs the handler of every webhook without an id (VerifiedWebhook's id null) and records nothing", async () => {
  // A webhook verified without a webhook-id header (a scheme that does not sign it) has nothing to
  // recognise a repeat by: two such webhooks are two webhooks, never one the duplicate of the other.
  const claimed: string[] = [];
  const dedupe = createDeduplicator({
    store: {
      claim: (id) => {
        claimed.push(String(id));
        return true;
      },
      release: () => {},
    },
  });
  const first = await dedupe.once(null, () => 'first');
  const second = await createDeduplicator().once(null, () => 'second');
  const memory = createDeduplicator();
  await memory.once(null, () => 'a');
  const repeat = await memory.once(null, () => 'b');
  assert.deepEqual(first, { duplicate: false, result: 'first' });
  assert.deepEqual(second, { duplicate: false, result: 'second' });
  assert.deepEqual(repeat, { duplicate: false, result: 'b' });
  assert.deepEqual(claimed, [], 'the store is not asked about a missing id');
});

test('a release the store fails is tried again at the next claim, which fails while the store does', async () => {
  const seen = new Set<string>();
  let down = 2;
  const dedupe = createDeduplicator({
    store: {
      claim: (id) => !seen.has(id) && Boolean(seen.add(id)),
      release: (id) => {
        if (down-- > 0) throw new Error('store unreachable');
        seen.delete(id);
      },
    },
  });
  await assert.rejects(
    dedupe.once('evt_1', () => {
      throw new Error('handler failed');
    }),
    /handler failed/,
    "the handler's error, not the store's",
  );
  assert.equal(dedupe.inProgress('evt_1'), false);
  await assert.rejects(
    dedupe.claim('evt_1'),
    /store unreachable/,
    'not a duplicate while it cannot be released',
  );
  assert.equal(await dedupe.claim('evt_1'), true, 'released, then claimed');
});
