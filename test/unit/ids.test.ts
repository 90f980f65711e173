import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../src/domain/ids.ts';

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
