import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idLowerBound, newId } from '../../src/domain/ids.ts';

test('ids made in the same millisecond sort in creation order', () => {
  const ids = Array.from({ length: 2000 }, () => newId('evt', 1_800_000_000_000));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('a clock that steps back does not break the order', () => {
  const a = newId('evt', 1_900_000_000_500);
  const b = newId('evt', 1_900_000_000_000);
  assert.ok(b > a);
});

test('ids have the prefix and the ULID layout', () => {
  assert.match(newId('dlv'), /^dlv_[0-9a-hjkmnp-tv-z]{26}$/);
});

test('within a millisecond each id is the one before plus one, carries included', () => {
  const value = (id: string) =>
    [...id.slice(-16)].reduce((n, c) => n * 32n + BigInt('0123456789abcdefghjkmnpqrstvwxyz'.indexOf(c)), 0n);
  const ids = Array.from({ length: 5000 }, () => newId('att', 1_950_000_000_000));
  for (let i = 1; i < ids.length; i++) {
    assert.equal(ids[i]!.slice(0, 14), ids[0]!.slice(0, 14), 'same prefix and time');
    assert.equal(value(ids[i]!) - value(ids[i - 1]!), 1n, `${ids[i - 1]} -> ${ids[i]}`);
  }
});

test('idLowerBound: every id made at or after a time sorts at or above it, one of an earlier millisecond below', () => {
  const t = 2_000_000_000_000;
  const bound = idLowerBound('att', t);
  assert.ok(newId('att', t).startsWith(bound), 'the bound is the prefix and the time part');
  for (const at of [t + 1, t + 86_400_000]) assert.ok(newId('att', at) >= bound, `made at ${at}`);
  // A clock that steps back: the id keeps the later time, so it stays at or above the bound.
  assert.ok(newId('att', t - 5_000) >= bound);
  // The largest id one millisecond older is below it.
  assert.ok(`${idLowerBound('att', t - 1)}${'z'.repeat(16)}` < bound);
  assert.equal(idLowerBound('evt', 0), 'evt_0000000000');
});
