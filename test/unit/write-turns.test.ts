/**
 * write-turns.ts: a connection refused the write lock goes first, and the others' transactions wait
 * for it a bounded time, after which a name left down (a thread gone) is taken off. The clock is
 * passed in: no time is waited for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteTurns } from '../../src/store/sqlite/write-turns.ts';

const pair = () => {
  const buffer = new SharedArrayBuffer(16);
  return [new WriteTurns(buffer, 50), new WriteTurns(buffer, 50)] as const;
};

test("a connection refused the lock goes first: the other's transactions wait until it has had it", () => {
  const [api, claim] = pair();
  assert.equal(api.yields(0), false, 'no one waiting');
  claim.waitFor();
  assert.equal(claim.yields(0), false, 'its own name holds up nothing');
  assert.equal(api.yields(0), true);
  assert.equal(api.yields(49), true);
  api.waitFor(); // refused in turn: the first name stays
  assert.equal(api.yields(49), true);
  claim.done(); // it has the lock
  assert.equal(api.yields(49), false);
});

test('the wait is bounded: past it one transaction goes and a name left down is taken off', () => {
  const [api, claim] = pair();
  claim.waitFor();
  assert.equal(api.yields(100), true);
  assert.equal(api.yields(150), false, '50 ms after it began holding back');
  assert.equal(api.yields(151), false, 'the name was taken off (its thread may be gone)');
  claim.waitFor(); // still there, refused anew
  assert.equal(api.yields(152), true);
});

test('an end of a transaction is counted, and wakes a connection waiting for it', () => {
  const [api, claim] = pair();
  const seen = claim.ends;
  api.ended();
  assert.equal(claim.ends, seen + 1);
  claim.waitForEnd(seen, 60_000); // returns at once: the count moved on
});
