/**
 * A sleep that a wake-up ends early (and, below, one that only its owner ends early). A wake-up that comes while nobody sleeps is kept, so the next
 * sleep returns at once: no signal is lost between "checked for work" and "went to sleep".
 */
export interface WakeSignal {
  /** Resolves after `ms`, or as soon as `wake()` is called (or was called since the last sleep). */
  sleep(ms: number): Promise<void>;
  wake(): void;
  /** Forgets a pending wake-up (the caller is about to look for work anyway). */
  clear(): void;
}

export function createWakeSignal(): WakeSignal {
  let wakeUp: (() => void) | null = null;
  let woken = false;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (woken) {
          woken = false;
          return resolve();
        }
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wakeUp = null;
          woken = false;
          resolve();
        }
        wakeUp = done;
      }),
    wake() {
      woken = true;
      wakeUp?.();
    },
    clear() {
      woken = false;
    },
  };
}

/** A sleep that wake-ups do not end: only `end()` (or its time) does. */
export interface Pause {
  sleep(ms: number): Promise<void>;
  /** Ends the sleep under way, if any. */
  end(): void;
}

export function createPause(): Pause {
  let end: (() => void) | null = null;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          end = null;
          resolve();
        }
        end = done;
      }),
    end: () => end?.(),
  };
}
