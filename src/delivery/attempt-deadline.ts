/**
 * Pure: when an attempt's overall deadline fires (sender.ts keeps the timers). It starts at the
 * timeout; time this thread's event loop was held during the attempt (loop-stalls.ts) moves it on
 * by as much, up to the request's allowance, and a timeout then says how much it left out. A move
 * that would leave less than MIN_DEADLINE_MOVE_MS from now is not made (a timer's own lateness):
 * the deadline fires instead.
 */

/** A deadline moved by held time to less than this from now is not moved (a timer's own lateness). */
export const MIN_DEADLINE_MOVE_MS = 20;

/** An attempt's deadline as it began. */
export interface AttemptDeadline {
  /** When the attempt began, on the clock `now` is read on (ms). */
  readonly startedAt: number;
  readonly timeoutMs: number;
  /** Held time that may be left out (the request's stallAllowanceMs); 0: the timeout is wall time. */
  readonly allowanceMs: number;
  /**
   * The loop's held count when the attempt began: a later count less this is what was held during
   * the attempt (0: the counts passed are counted from the start, as sender.ts passes them,
   * LoopStalls.heldSince).
   */
  readonly heldAtStart: number;
}

/** What to do when the deadline's timer runs. */
export type DeadlineCheck =
  /** Time the attempt out; `heldMs` was left out of its timeout (for DeadlineError's message). */
  | { fire: true; heldMs: number }
  /** Not yet: run the timer again at `at` (the deadline moved on by `movedMs` in all). */
  | { fire: false; at: number; movedMs: number };

/**
 * The deadline of an attempt begun at `startedAt`. Refused (RangeError, naming the field): a
 * start, timeout or held count that is not a finite number, a timeout not above 0, an allowance
 * below 0 or not finite (Infinity would let a held loop keep an attempt forever).
 */
export function attemptDeadline(
  startedAt: number,
  timeoutMs: number,
  allowanceMs: number,
  heldAtStart: number,
): AttemptDeadline {
  if (!Number.isFinite(startedAt))
    throw new RangeError(`startedAt must be a finite number, not ${startedAt}`);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new RangeError(`timeoutMs must be a finite number above 0, not ${timeoutMs}`);
  if (!Number.isFinite(allowanceMs) || allowanceMs < 0)
    throw new RangeError(`stallAllowanceMs must be a finite number, 0 or more, not ${allowanceMs}`);
  if (!Number.isFinite(heldAtStart))
    throw new RangeError(`heldAtStart must be a finite number, not ${heldAtStart}`);
  return { startedAt, timeoutMs, allowanceMs, heldAtStart };
}

/**
 * Checks the deadline `d` at `now`, its loop's held count being `heldNow`, after it was moved on by
 * `movedMs` so far. Held time is what the count rose by since the start, up to the allowance (none
 * without one; a count that did not rise, or is not a number, is none). The deadline moves on when
 * more was held than it moved by, to the start plus the timeout plus all that was held, if that is
 * at least MIN_DEADLINE_MOVE_MS away; otherwise it fires, saying all that was held: a hold that
 * ended at (or past) the moved deadline was left out too, though the deadline was not moved for it.
 */
export function checkDeadline(
  d: AttemptDeadline,
  movedMs: number,
  heldNow: number,
  now: number,
): DeadlineCheck {
  const counted = heldNow - d.heldAtStart;
  const held = d.allowanceMs > 0 && counted > 0 ? Math.min(d.allowanceMs, counted) : 0;
  if (held > movedMs) {
    const at = d.startedAt + d.timeoutMs + held;
    if (at - now >= MIN_DEADLINE_MOVE_MS) return { fire: false, at, movedMs: held };
  }
  return { fire: true, heldMs: held };
}
