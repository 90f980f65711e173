/**
 * How long this thread's event loop could not run: the time a timer ticking every TICK_MS came
 * late, counted where it was at least MIN_STALL_MS late (a busy loop's small delays are not
 * stalls). Synchronous work (a claim reading large payloads through node:sqlite, a long GC) or a
 * starved CPU holds the loop; meanwhile no socket is read and no request written, so an attempt's
 * deadline must not charge that time to the receiver (sender.ts). herald_dispatcher_held_seconds_total
 * serves the same count: the sender's instance, read through Sender.heldMs (one tick per thread that
 * delivers, not a second one). Per thread: each thread's loop is its own.
 */
import { performance } from 'node:perf_hooks';

export const TICK_MS = 100;
export const MIN_STALL_MS = 20;

export interface LoopStalls {
  /**
   * Milliseconds the loop has been held since this was made, the hold going on right now included
   * (a timer that runs right after a hold sees it before the tick does). Never decreases.
   */
  stalledMs(): number;
  /**
   * Where to count the holds from now on from (heldSince): stalledMs() and the lateness going on
   * now that is not yet a stall (under MIN_STALL_MS), which is counted whole, from when the tick was
   * due, if it becomes one. When it does not (the tick runs under MIN_STALL_MS late), the mark
   * falls back to the count: taken as a number, that lateness (up to MIN_STALL_MS - 1 ms) was taken
   * off the next hold instead (until 2026-12-07).
   */
  mark(): StallMark;
  /** Milliseconds the loop has been held since `mark` was taken (stalledMs() less it, 0 or more). */
  heldSince(mark: StallMark): number;
  /** Stops the tick; stalledMs() then stays at what it was. */
  stop(): void;
}

/** A point the count is measured from (LoopStalls.mark). */
export interface StallMark {
  /** The count it stands at. */
  ms: number;
  /** The lateness under way when it was taken, not yet a stall: out of `ms` if it never becomes one. */
  readonly under: number;
}

/** The clock the count is read on and the timer that ticks it: the real ones unless a test passes its own. */
export interface StallClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Calls `tick` every `ms` (unreffed: it keeps no process alive); the function returned stops it. */
  repeat(tick: () => void, ms: number): () => void;
}

/** performance.now and an unreffed setInterval. */
export const realStallClock: StallClock = {
  now: () => performance.now(),
  repeat: (tick, ms) => {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export function createLoopStalls(clock: StallClock = realStallClock): LoopStalls {
  let counted = 0;
  let last = clock.now();
  let stopped = false;
  /** Marks taken with a lateness under way since the last tick: settled when it ends. */
  const unsettled: StallMark[] = [];
  const lateness = (now: number) => {
    const late = now - last - TICK_MS;
    return late >= MIN_STALL_MS ? late : 0;
  };
  /** Counts the lateness that ends now; a mark taken during it that it did not make a stall falls back. */
  const settle = (now: number) => {
    const late = lateness(now);
    counted += late;
    if (late === 0) for (const m of unsettled) m.ms -= m.under;
    unsettled.length = 0;
  };
  const stopTick = clock.repeat(() => {
    const now = clock.now();
    settle(now);
    last = now;
  }, TICK_MS);
  const stalledMs = () => (stopped ? counted : counted + lateness(clock.now()));
  return {
    stalledMs,
    mark: () => {
      const under = stopped ? 0 : Math.max(0, clock.now() - last - TICK_MS);
      const m = { ms: counted + under, under };
      if (under > 0) unsettled.push(m);
      return m;
    },
    heldSince: (m) => Math.max(0, stalledMs() - m.ms),
    stop: () => {
      if (stopped) return;
      // A read after the stop would otherwise count all the time since the last tick as a hold.
      settle(clock.now());
      stopped = true;
      stopTick();
    },
  };
}
