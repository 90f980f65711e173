/**
 * An attempt's deadline (src/delivery/attempt-deadline.ts), on a clock the test drives: the
 * deadline's timer runs when the test says (on time, or late as a held loop makes it), and the
 * loop's held count is what the test says. Exact: when it fires, and what it says was left out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AttemptDeadline,
  attemptDeadline,
  checkDeadline,
  MIN_DEADLINE_MOVE_MS,
} from '../../src/delivery/attempt-deadline.ts';

const START = 50_000;
const TIMEOUT = 300;

/** A hold of the loop: `from` ms after the attempt's start, for `ms` (its count as loop-stalls.ts gives it). */
interface Hold {
  from: number;
  ms: number;
}

/**
 * Runs the deadline as sender.ts does: its timer runs at the deadline (or, while a hold goes on,
 * when the hold ends), and is checked with the held count of every hold ended by then (a hold going
 * on is counted up to now). Returns when (ms after the start) it fired, and what it said was held.
 */
function run(d: AttemptDeadline, holds: Hold[], countAtStart = 0) {
  const countAt = (t: number) =>
    countAtStart + holds.reduce((sum, h) => sum + Math.max(0, Math.min(h.ms, t - (START + h.from))), 0);
  const heldThrough = (t: number) => {
    // a timer due during a hold runs when it ends
    for (const h of holds) if (t > START + h.from && t < START + h.from + h.ms) return START + h.from + h.ms;
    return t;
  };
  let moved = 0;
  let at = d.startedAt + d.timeoutMs;
  for (let checks = 0; checks < 100; checks++) {
    const now = heldThrough(at);
    const check = checkDeadline(d, moved, countAt(now), now);
    if (check.fire) return { firedAt: now - START, heldMs: check.heldMs, checks: checks + 1 };
    assert.ok(check.at - now >= MIN_DEADLINE_MOVE_MS, `re-armed ${check.at - now} ms from now`);
    assert.ok(check.movedMs > moved, 'a move is never back');
    moved = check.movedMs;
    at = check.at;
  }
  throw new Error('never fired');
}

test('nothing held: it fires at exactly the timeout, saying nothing was left out', () => {
  const d = attemptDeadline(START, TIMEOUT, 10_000, 1_234);
  assert.deepEqual(checkDeadline(d, 0, 1_234, START + TIMEOUT), { fire: true, heldMs: 0 });
  assert.deepEqual(run(d, [], 1_234), { firedAt: TIMEOUT, heldMs: 0, checks: 1 });
  // a timer that ran late with nothing counted still fires, not moved by its lateness
  assert.deepEqual(checkDeadline(d, 0, 1_234, START + TIMEOUT + 500), { fire: true, heldMs: 0 });
});

test('held time before the attempt began is not left out', () => {
  const d = attemptDeadline(START, TIMEOUT, 10_000, 5_000);
  assert.deepEqual(checkDeadline(d, 0, 5_000, START + TIMEOUT), { fire: true, heldMs: 0 });
});

test('a hold during the attempt moves the deadline on by exactly the time held, and it fires there', () => {
  const d = attemptDeadline(START, TIMEOUT, 10_000, 0);
  // held 150 ms before the deadline: re-armed at the timeout plus 150 ms
  assert.deepEqual(checkDeadline(d, 0, 150, START + TIMEOUT), { fire: false, at: START + 450, movedMs: 150 });
  // at the moved deadline, nothing more held: it fires, saying the 150 ms
  assert.deepEqual(checkDeadline(d, 150, 150, START + 450), { fire: true, heldMs: 150 });
  assert.deepEqual(run(d, [{ from: 100, ms: 150 }]), { firedAt: 450, heldMs: 150, checks: 2 });
});

test(`held less than ${MIN_DEADLINE_MOVE_MS} ms past the deadline: not moved, and what was held is said`, () => {
  const d = attemptDeadline(START, TIMEOUT, 10_000, 0);
  assert.deepEqual(checkDeadline(d, 0, MIN_DEADLINE_MOVE_MS - 1, START + TIMEOUT), {
    fire: true,
    heldMs: MIN_DEADLINE_MOVE_MS - 1,
  });
  assert.deepEqual(checkDeadline(d, 0, MIN_DEADLINE_MOVE_MS, START + TIMEOUT), {
    fire: false,
    at: START + TIMEOUT + MIN_DEADLINE_MOVE_MS,
    movedMs: MIN_DEADLINE_MOVE_MS,
  });
  // the timer itself 10 ms late: a 25 ms hold leaves 15 ms, too little to move for
  assert.deepEqual(checkDeadline(d, 0, 25, START + TIMEOUT + 10), { fire: true, heldMs: 25 });
});

test('held more than the allowance: the deadline moves on by the allowance only', () => {
  const d = attemptDeadline(START, TIMEOUT, 200, 0);
  // 250 ms held before the deadline; 200 of it left out
  assert.deepEqual(checkDeadline(d, 0, 250, START + TIMEOUT), { fire: false, at: START + 500, movedMs: 200 });
  assert.deepEqual(checkDeadline(d, 200, 250, START + 500), { fire: true, heldMs: 200 });
  assert.deepEqual(run(d, [{ from: 10, ms: 250 }]), { firedAt: 500, heldMs: 200, checks: 2 });
  // a hold of 1,450 ms over the deadline: the timer runs when it ends, past the timeout and the
  // allowance, and fires at once, saying the allowance
  assert.deepEqual(run(d, [{ from: 50, ms: 1_450 }]), { firedAt: 1_500, heldMs: 200, checks: 1 });
  // more held after a move up to the allowance moves nothing
  assert.deepEqual(checkDeadline(d, 200, 900, START + 500), { fire: true, heldMs: 200 });
});

test('a hold that ends past the moved deadline: moved on by it while the receiver still had time, else it fires saying all of it', () => {
  const d = attemptDeadline(START, TIMEOUT, 10_000, 0);
  // 100 ms held early (deadline at 400), then a hold from 350 to 600: the receiver had 50 ms left
  assert.deepEqual(
    run(d, [
      { from: 50, ms: 100 },
      { from: 350, ms: 250 },
    ]),
    { firedAt: 650, heldMs: 350, checks: 3 },
  );
  // the second hold begun 10 ms before the moved deadline (at 390) and ending at 700: 10 ms left,
  // less than the smallest move, so it fires when the hold ends, the 310 ms left out too
  assert.deepEqual(
    run(d, [
      { from: 50, ms: 100 },
      { from: 390, ms: 310 },
    ]),
    { firedAt: 700, heldMs: 410, checks: 2 },
  );
});

test('several holds add up: the deadline is the timeout plus all of them', () => {
  const d = attemptDeadline(START, TIMEOUT, 10_000, 0);
  const holds = [
    { from: 20, ms: 100 },
    { from: 200, ms: 60 },
    { from: 380, ms: 150 },
    { from: 560, ms: 40 },
  ];
  // 300 + 100 + 60 + 150 + 40: each found at the deadline it moved
  assert.deepEqual(run(d, holds), { firedAt: 650, heldMs: 350, checks: 4 });
});

test('allowance 0: the timeout is wall time, whatever was held', () => {
  const d = attemptDeadline(START, TIMEOUT, 0, 0);
  assert.deepEqual(checkDeadline(d, 0, 5_000, START + TIMEOUT), { fire: true, heldMs: 0 });
  assert.deepEqual(run(d, [{ from: 100, ms: 150 }]), { firedAt: TIMEOUT, heldMs: 0, checks: 1 });
});

test('a deadline that cannot be kept is refused, naming what is wrong', () => {
  for (const timeout of [Number.NaN, 0, -1, Number.POSITIVE_INFINITY])
    assert.throws(() => attemptDeadline(START, timeout, 0, 0), {
      name: 'RangeError',
      message: /^timeoutMs /,
    });
  for (const allowance of [Number.NaN, -1, Number.POSITIVE_INFINITY])
    assert.throws(() => attemptDeadline(START, TIMEOUT, allowance, 0), {
      name: 'RangeError',
      message: /^stallAllowanceMs /,
    });
  assert.throws(() => attemptDeadline(Number.NaN, TIMEOUT, 0, 0), { message: /^startedAt / });
  assert.throws(() => attemptDeadline(START, TIMEOUT, 0, Number.NaN), { message: /^heldAtStart / });
});

test('a held count that did not rise, or is not a number, or a clock that is not one, moves nothing: it fires', () => {
  const d = attemptDeadline(START, TIMEOUT, 10_000, 1_000);
  assert.deepEqual(checkDeadline(d, 0, 400, START + TIMEOUT), { fire: true, heldMs: 0 });
  assert.deepEqual(checkDeadline(d, 0, Number.NaN, START + TIMEOUT), { fire: true, heldMs: 0 });
  assert.deepEqual(checkDeadline(d, 0, 1_500, Number.NaN), { fire: true, heldMs: 500 });
});
