/** The dispatcher's byte budget (src/delivery/byte-budget.ts): room, order, project shares, oversized attempts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptBytes, createByteBudget } from '../../src/delivery/byte-budget.ts';
import type { Endpoint } from '../../src/domain/types.ts';
import type { ClaimedDelivery } from '../../src/store/store.ts';

/** 100 bytes; a project holds at most 75, the last 25 go to projects holding less than 10. */
const budget = () => createByteBudget({ limitBytes: 100, projectShare: 0.75, smallShare: 0.1 });

test('takes while the bytes fit, and a key that does not fit waits until bytes come back', () => {
  const b = budget();
  assert.equal(b.take('ep-a', 'p1', 40), true);
  assert.equal(b.take('ep-b', 'p2', 50), true);
  assert.equal(b.used, 90);
  assert.equal(b.take('ep-c', 'p3', 20), false);
  assert.equal(b.waiting, 1);
  assert.equal(b.full, true, 'p3 holds nothing: only the budget holds it back');
  assert.equal(b.next(), null, 'nothing would let it in yet');
  b.give('p1', 40);
  assert.equal(b.used, 50);
  assert.equal(b.next(), 'ep-c');
  assert.equal(b.take('ep-c', 'p3', 20), true);
  assert.equal(b.waiting, 0);
  assert.equal(b.full, false);
  assert.equal(b.used, 70);
});

test('a waiter held back by the budget is not overtaken by smaller attempts arriving after it', () => {
  const b = budget();
  assert.equal(b.take('ep-a', 'p1', 60), true);
  assert.equal(b.take('big', 'p2', 50), false);
  // 40 bytes are free, and 10 would fit: it waits behind the large one instead.
  assert.equal(b.take('small', 'p3', 10), false);
  assert.equal(b.next(), null);
  b.give('p1', 60);
  assert.equal(b.next(), 'big');
  assert.equal(b.take('small', 'p3', 10), false, 'still behind the large one');
  assert.equal(b.take('big', 'p2', 50), true);
  assert.equal(b.next(), 'small');
  assert.equal(b.take('small', 'p3', 10), true);
});

test('a waiter held back only by its own project share is passed over: other projects go on', () => {
  const b = budget();
  assert.equal(b.take('a1', 'p1', 70), true);
  // p1 holds 70 of its 75: 10 more do not fit its share, though 30 are free.
  assert.equal(b.take('a2', 'p1', 10), false);
  assert.equal(b.full, false, 'only its own share holds it back: claims for others go on');
  assert.equal(b.next(), null);
  assert.equal(b.take('b1', 'p2', 10), true, 'p2 is not behind p1');
  assert.equal(b.used, 80);
  b.give('p1', 70);
  assert.equal(b.next(), 'a2');
  assert.equal(b.take('a2', 'p1', 10), true);
});

test("a waiter held back by its own project's share is passed by that project's later attempts until it is owed the room", () => {
  const b = budget();
  assert.equal(b.take('small-1', 'p1', 30), true);
  // 50 more do not fit p1's share of 75.
  assert.equal(b.take('big', 'p1', 50), false);
  // small-1 holds it back: p1's later ones pass it.
  const passer = b.take('small-2', 'p1', 40);
  assert.ok(passer !== true && passer !== false, 'taken past big');
  assert.equal(b.next(), null);
  // small-1 ends: but for small-2, which passed it, it would fit: p1's later ones (an endpoint's, a
  // callback) now wait behind it. Before, they kept passing it, and it waited as long as they came.
  b.give('p1', 30);
  assert.equal(b.take('small-3', 'p1', 5), false);
  assert.equal(b.take(null, 'p1', 5), false);
  assert.equal(b.full, false, 'held back by its own project only: claims for others go on');
  assert.equal(b.next(), null);
  // Another project is not behind p1's waiters.
  assert.equal(b.take('other', 'p2', 5), true);
  b.give('p2', 5);
  b.give('p1', 40, passer);
  assert.equal(b.next(), 'big');
  assert.equal(b.take('big', 'p1', 50), true);
  assert.equal(b.next(), 'small-3');
});

test('a waiter is owed the room only by the attempts that passed it, not by those that passed one before it', () => {
  const b = budget();
  assert.equal(b.take('slow', 'p1', 20), true);
  assert.equal(b.take('x', 'p1', 30), true);
  // 30 more do not fit p1's share of 75: big-1 waits, and p1's next attempt passes it.
  assert.equal(b.take('big-1', 'p1', 30), false);
  const passer = b.take('hung', 'p1', 10);
  assert.ok(passer !== true && passer !== false, 'taken past big-1');
  // x ends: big-1 fits and goes, while the attempt that passed it is still out (a hung receiver).
  b.give('p1', 30);
  assert.equal(b.next(), 'big-1');
  assert.equal(b.take('big-1', 'p1', 30), true);
  // big-2 begins to wait behind attempts that were all out before it: none passed it, so p1's
  // other endpoints still pass it. Before, the bytes that passed big-1 counted as passing big-2 too:
  // it was owed the room at once, and p1's small events waited for the hung attempt to end.
  assert.equal(b.take('big-2', 'p1', 20), false);
  assert.ok(b.take('small', 'p1', 5), "p1's small attempt passes big-2");
  // Once only what passed it holds it back, it is owed the room as before.
  b.give('p1', 20);
  b.give('p1', 30);
  assert.equal(b.next(), 'big-2');
  b.give('p1', 10, passer);
});

test('the last quarter of the budget goes to projects holding little, as slots do', () => {
  const b = budget();
  assert.equal(b.take('a1', 'p1', 75), true);
  assert.equal(b.take('a2', 'p1', 1), false, 'p1 is at its share');
  // p2 takes 10 of the reserve (its small share); past that it is large and the reserve is not its.
  assert.equal(b.take('b1', 'p2', 10), true);
  assert.equal(b.take('b2', 'p2', 5), false);
  // p3 holds nothing: the rest of the reserve is there for it.
  assert.equal(b.take('c1', 'p3', 10), true);
  assert.equal(b.used, 95);
});

test('an attempt larger than the whole budget goes out alone: nothing starts behind it meanwhile', () => {
  const b = budget();
  assert.equal(b.take('small-1', 'p1', 10), true);
  assert.equal(b.take('huge', 'p2', 500), false);
  assert.equal(b.full, true);
  // Nothing is let in while it waits for the others to end, not even what would fit.
  assert.equal(b.take('small-2', 'p1', 10), false);
  assert.equal(b.take('small-3', 'p3', 1), false);
  assert.equal(b.next(), null);
  b.give('p1', 10);
  assert.equal(b.next(), 'huge');
  assert.equal(b.take('huge', 'p2', 500), true);
  assert.equal(b.used, 500);
  assert.equal(b.next(), null, 'the others wait for it to end');
  b.give('p2', 500);
  assert.equal(b.next(), 'small-2');
});

test('a project holding nothing fits any share: an attempt larger than the share is not refused for good', () => {
  const b = budget();
  assert.equal(b.take('big', 'p1', 90), true, '90 > the share of 75, but p1 held nothing');
  b.give('p1', 90);
  assert.equal(b.used, 0);
  assert.equal(b.take('x', 'p1', 1), true);
});

test('a forgotten key no longer holds the others back; a callback (no key) never waits', () => {
  const b = budget();
  assert.equal(b.take('a', 'p1', 60), true);
  assert.equal(b.take('big', 'p2', 50), false);
  assert.equal(b.take(null, 'p3', 10), false, 'behind the large one');
  assert.equal(b.waiting, 1, 'the callback did not wait');
  b.forget('big');
  assert.equal(b.take(null, 'p3', 10), true);
  assert.equal(b.take('c', 'p4', 50), false);
  b.forgetAll();
  assert.equal(b.waiting, 0);
  assert.equal(b.full, false);
});

test('a key waits once, in its first place, with the bytes it last asked for', () => {
  const b = budget();
  assert.equal(b.take('a', 'p1', 70), true);
  assert.equal(b.take('x', 'p2', 40), false);
  assert.equal(b.take('y', 'p3', 20), false);
  // Its queue's head changed: 35 bytes, which do not fit the 30 free either; it keeps its place.
  assert.equal(b.take('x', 'p2', 35), false);
  assert.equal(b.waiting, 2);
  assert.equal(b.take('y', 'p3', 20), false, 'behind x, which the budget holds back');
  b.give('p1', 70);
  assert.equal(b.next(), 'x');
  assert.equal(b.take('x', 'p2', 35), true);
  assert.equal(b.next(), 'y');
});

test("an attempt counts its payload's UTF-8 bytes and its envelope", () => {
  const claimed = (payloadJson: string | undefined, payload: unknown = null) =>
    ({
      delivery: {},
      event: { type: 'order.paid', payload },
      ...(payloadJson === undefined ? {} : { payloadJson }),
    }) as unknown as ClaimedDelivery;
  const small = attemptBytes(claimed('{"a":1}'), null);
  assert.equal(
    attemptBytes(claimed(`{"a":"${'x'.repeat(1_000_000)}"}`), null) - attemptBytes(claimed('{"a":""}'), null),
    1_000_000,
  );
  // é is two bytes of UTF-8, € three.
  assert.equal(attemptBytes(claimed('"é€"'), null) - attemptBytes(claimed('"ab"'), null), 3);
  // Without the stored text (not from a claim): the payload as it would be serialized.
  assert.equal(attemptBytes(claimed(undefined, { a: 1 }), null), small);
  // The body the endpoint is sent: a form body or a GET query percent-encodes (up to 3 times),
  // sha256-body base64-encodes (4/3); the JSON schemes send the envelope as it is.
  const ep = (scheme: string, method = 'POST') => ({ method, signature: { scheme } }) as unknown as Endpoint;
  assert.equal(attemptBytes(claimed('{"a":1}'), ep('standard')), small);
  assert.equal(attemptBytes(claimed('{"a":1}'), ep('hmac-sha1-url')), 3 * small);
  assert.equal(attemptBytes(claimed('{"a":1}'), ep('none', 'GET')), 3 * small);
  assert.equal(attemptBytes(claimed('{"a":1}'), ep('sha256-body')), Math.ceil((4 * small) / 3));
  // sha256-body writes non-ASCII as \uXXXX escapes before base64: é (2 bytes) is 6, 🎮 (4) is 12.
  for (const [text, sent] of [
    ['"é"', 8],
    ['"🎮"', 14],
    ['"€"', 8],
  ] as const) {
    const counted = attemptBytes(claimed(text), ep('sha256-body'));
    assert.ok(counted >= Math.ceil(((sent - 7 + small) * 4) / 3), `${text}: ${counted}`);
  }
});

test('fits says whether an attempt would be let in, and when not its key waits as take would have it', () => {
  const b = budget();
  assert.equal(b.take('a', 'p1', 60), true);
  assert.equal(b.fits('x', 'p2', 30), true);
  assert.equal(b.used, 60, 'nothing taken');
  assert.equal(b.waits('x'), false);
  assert.equal(b.fits('x', 'p2', 50), false);
  assert.equal(b.waits('x'), true);
  assert.equal(b.take('y', 'p3', 10), false, 'behind x');
  b.give('p1', 60);
  assert.equal(b.next(), 'x');
});
