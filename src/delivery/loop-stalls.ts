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
   * What to measure a later stalledMs() from, to count only the holds from now on: stalledMs() and
   * the lateness going on now that is not yet a stall (under MIN_STALL_MS). A hold under way counts
   * from when the tick was due; without this, what it had gone on before now (up to MIN_STALL_MS - 1
   * ms) would be counted in a later rise. A later stalledMs() may be less than it (the lateness
   * ended under MIN_STALL_MS).
   */
  markMs(): number;
  /** Stops the tick; stalledMs() then stays at what it was. */
  stop(): void;
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
  const lateness = (now: number) => {
    const late = now - last - TICK_MS;
    return late >= MIN_STALL_MS ? late : 0;
  };
  const stopTick = clock.repeat(() => {
    const now = clock.now();
    counted += lateness(now);
    last = now;
  }, TICK_MS);
  return {
    stalledMs: () => (stopped ? counted : counted + lateness(clock.now())),
    markMs: () => (stopped ? counted : counted + Math.max(0, clock.now() - last - TICK_MS)),
    stop: () => {
      if (stopped) return;
      // A read after the stop would otherwise count all the time since the last tick as a hold.
      counted += lateness(clock.now());
      stopped = true;
      stopTick();
    },
  };
}
