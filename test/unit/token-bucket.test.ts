import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTokenBucket } from '../../src/domain/token-bucket.ts';

test('a full bucket lets `burst` through, then one per 1/perSecond', () => {
  const b = createTokenBucket({ perSecond: 5, burst: 3 });
  assert.deepEqual([b.take(0), b.take(0), b.take(0)], [0, 0, 0]);
  assert.equal(b.take(0), 200);
  assert.equal(b.take(100), 100, 'half a token refilled: 100 ms to go');
  assert.equal(b.take(200), 0);
  assert.equal(b.take(200), 200);
});

test('burst defaults to perSecond; refill never exceeds the burst', () => {
  const b = createTokenBucket({ perSecond: 2 });
  assert.equal(b.take(0), 0);
  assert.equal(b.take(0), 0);
  assert.equal(b.take(0), 500);
  // an hour idle refills two tokens, not 7200
  assert.equal(b.take(3_600_000), 0);
  assert.equal(b.take(3_600_000), 0);
  assert.ok(b.take(3_600_000) > 0);
});

test('rates below one per second still hold one token', () => {
  const b = createTokenBucket({ perSecond: 0.5 });
  assert.equal(b.take(0), 0);
  assert.equal(b.take(0), 2_000);
  assert.equal(b.take(2_000), 0);
});

test('a clock stepping back neither refills nor drains', () => {
  const b = createTokenBucket({ perSecond: 1, burst: 1 });
  assert.equal(b.take(10_000), 0);
  assert.equal(b.take(5_000), 1_000);
  assert.equal(b.take(11_000), 0);
});

test('a non-positive rate yields a finite wait', () => {
  const b = createTokenBucket({ perSecond: 0 });
  assert.equal(b.take(0), 0);
  const wait = b.take(0);
  assert.ok(Number.isFinite(wait) && wait > 0, String(wait));
});

test('a non-finite burst falls back to the rate', () => {
  const b = createTokenBucket({ perSecond: 1, burst: Number.NaN });
  assert.equal(b.take(0), 0);
  assert.equal(b.take(0), 1_000);
});
