import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDeferredWakeups } from '../../src/delivery/deferred-wakeups.ts';

describe('deferred wake-ups', () => {
  test('with nothing deferred the loop sleeps the whole interval', () => {
    const w = createDeferredWakeups();
    assert.equal(w.sleepFor(500, 1_000, 5), 500);
    assert.equal(w.takeDue(10_000), false);
  });

  test('the sleep ends at the earliest deferred time, not the first one added', () => {
    const w = createDeferredWakeups();
    for (const at of [1_300, 1_100, 1_200, 1_050, 1_400]) w.add(at);
    assert.equal(w.sleepFor(500, 1_000, 5), 50);
    assert.equal(w.takeDue(1_049), false);
    assert.equal(w.takeDue(1_050), true);
    assert.equal(w.sleepFor(500, 1_050, 5), 50); // then 1,100
    assert.equal(w.takeDue(1_210), true); // 1,100 and 1,200 both due
    assert.equal(w.size, 2);
    assert.equal(w.sleepFor(500, 1_210, 5), 90);
  });

  test('every time of a spread comes back in order (a heap, many adds)', () => {
    const w = createDeferredWakeups();
    const times = Array.from({ length: 1_000 }, (_, i) => 10_000 + ((i * 7_919) % 1_000));
    for (const t of times) w.add(t);
    const seen: number[] = [];
    for (let now = 10_000; now < 11_000; now++) if (w.takeDue(now)) seen.push(now);
    assert.equal(seen.length, 1_000);
    assert.equal(w.size, 0);
  });

  test('a time already past or very close sleeps the minimum, and a far one the interval', () => {
    const w = createDeferredWakeups();
    w.add(900);
    assert.equal(w.sleepFor(500, 1_000, 5), 5);
    w.takeDue(1_000);
    w.add(60_000);
    assert.equal(w.sleepFor(500, 1_000, 5), 500);
  });

  test('past its capacity the latest times are dropped, never a near one (nor an error)', () => {
    const w = createDeferredWakeups(4);
    for (const at of [10, 20, 30, 40]) w.add(at);
    w.add(5); // full: 30 and 40 go, 5 stays
    assert.equal(w.size, 3);
    assert.equal(w.sleepFor(500, 0, 1), 5);
    assert.equal(w.takeDue(25), true);
    assert.equal(w.size, 0, '30 and 40 were the ones dropped');
  });
});
