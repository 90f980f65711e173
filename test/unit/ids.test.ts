import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ID_TIME_SLACK_MS, idLowerBound, idUpperBound, newId } from '../../src/domain/ids.ts';

test('ids made in the same millisecond sort in creation order', () => {
  const ids = Array.from({ length: 2000 }, () => newId('evt', 1_800_000_000_000));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('a clock that steps back up to ID_TIME_SLACK_MS does not break the order', () => {
  const a = newId('evt', 1_900_000_000_500);
  const b = newId('evt', 1_900_000_000_500 - ID_TIME_SLACK_MS);
  assert.ok(b > a);
});

test('after a larger step back ids follow the clock, so an id never runs more than the slack ahead', () => {
  const a = newId('evt', 1_910_000_005_000);
  const b = newId('evt', 1_910_000_005_000 - ID_TIME_SLACK_MS - 1);
  assert.ok(b < a, 'b takes its own time');
  assert.ok(b.startsWith(idLowerBound('evt', 1_910_000_005_000 - ID_TIME_SLACK_MS - 1)));
  // Attempts are recorded out of the order they started in, each id made for its start.
  const starts = [5_000, 5_010, 4_200, 5_020, 3_000, 4_999, 5_021, 2_500];
  for (const start of starts) {
    const t = 1_920_000_000_000 + start;
    const id = newId('att', t);
    assert.ok(id >= idLowerBound('att', t), `${id} is not older than ${t}`);
    assert.ok(id < idUpperBound('att', t), `${id} runs at most the slack ahead of ${t}`);
  }
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
  // A clock that steps back: the id keeps the later time, so it stays at or above the bound.
  assert.ok(newId('att', t - 500) >= bound);
  for (const at of [t + 1, t + 86_400_000]) assert.ok(newId('att', at) >= bound, `made at ${at}`);
  // The largest id one millisecond older is below it.
  assert.ok(`${idLowerBound('att', t - 1)}${'z'.repeat(16)}` < bound);
  assert.equal(idLowerBound('evt', 0), 'evt_0000000000');
});

test('idUpperBound: every id made at or before a time sorts below it, one made later than the slack above it', () => {
  const t = 2_100_000_000_000;
  const bound = idUpperBound('evt', t);
  assert.ok(newId('evt', t) < bound);
  // Runs ahead of its time by the slack (a clock that stepped back): still below.
  newId('evt', t + ID_TIME_SLACK_MS);
  assert.ok(newId('evt', t) < bound, 'an id that ran ahead by the slack');
  assert.ok(newId('evt', t + ID_TIME_SLACK_MS + 2) >= bound);
});
