/**
 * Hand-backs whose write failed (the database's disk full, the database busy or out of reach): kept
 * and written again, after RETRY_MS, until one goes through or a lease has passed since the write
 * failed (the claim's lease, counted from before it, has run out by then: the delivery is due again
 * anyway). Not until the end the claim names (ReleaseItem.leasedUntil): on PostgreSQL that is the
 * database's time (store/lease-clock.ts), not this process's, and a worker ahead by more than a
 * lease dropped what failed at its first try again (it waited out its lease, as before the retry). A
 * hand-back is a write: one that failed on a full disk left its delivery leased to this worker,
 * neither sent nor queued, and nothing tried it again, so it waited out its whole lease (60 s by
 * default) once space was freed. Writing it again cannot send anything twice: the store frees a
 * delivery only while still under the claim handed back (ReleaseItem.leasedUntil, attempts), and
 * the callers keep nothing of what they hand back.
 */
import type { ReleaseItem } from '../store/store.ts';

/** Waits before writing failed hand-backs again, the last one repeating while they fail. */
const RETRY_MS = [250, 500, 1_000, 2_000];

export interface HandBackRetry {
  /** Writes `items`; if that fails, rejects as it did and keeps them to write again. */
  handBack(items: ReleaseItem[]): Promise<void>;
  /** Hand-backs kept to write again. */
  readonly pending: number;
  /** A stop: one last try of what is kept (a failure is reported), and no more timers. */
  stop(): Promise<void>;
  /** A start after a stop: what fails is kept and written again, as before the stop. */
  start(): void;
}

export function createHandBackRetry(options: {
  write: (items: ReleaseItem[]) => Promise<unknown>;
  clock: () => number;
  /** How long a hand-back is kept after its write failed (the lease). */
  leaseMs: number;
  /** A try again failed (the first failure goes to the caller). */
  onError: (error: unknown) => void;
}): HandBackRetry {
  const { write, clock } = options;
  /** Each kept hand-back with when its lease has ended for certain: then the lease brings it back anyway. */
  let kept: { item: ReleaseItem; until: number }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let tries = 0;
  let writing: Promise<void> | null = null;
  let stopped = false;

  const schedule = () => {
    if (stopped || timer || writing || kept.length === 0) return;
    timer = setTimeout(
      () => {
        timer = null;
        writing = tryAgain().finally(() => {
          writing = null;
          schedule();
        });
      },
      RETRY_MS[Math.min(tries, RETRY_MS.length - 1)],
    );
    timer.unref();
  };

  const tryAgain = async () => {
    const now = clock();
    const batch = kept.filter((k) => k.until > now);
    kept = [];
    if (batch.length === 0) {
      tries = 0;
      return;
    }
    try {
      await write(batch.map((k) => k.item));
      tries = 0;
    } catch (error) {
      tries++;
      kept = batch.concat(kept);
      options.onError(error);
    }
  };

  return {
    async handBack(items) {
      try {
        await write(items);
      } catch (error) {
        const failedAt = clock();
        for (const item of items) kept.push({ item, until: failedAt + options.leaseMs });
        schedule();
        throw error;
      }
    },
    get pending() {
      return kept.length;
    },
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (writing) await writing;
      await tryAgain();
    },
  };
}
