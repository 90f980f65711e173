/**
 * Checks this process's clock against the database server's (PostgreSQL), at start and then every
 * CLOCK_CHECK_INTERVAL_MS. Processes that share a database compare times each wrote: due times,
 * rate-limit buckets, and the leases of deliveries handed off at accept. Claims judge leases in the database's time,
 * measuring the offset in their own transaction, and a process writes its due times moved by
 * the offset its last reading proved (store/lease-clock.ts). Signatures carry this clock's time
 * too, and receivers refuse one more than 5 minutes off. Nothing here corrects the clock (NTP must,
 * docs/deployment.md): it says so in the log and in herald_clock_offset_seconds.
 */

/** Beyond this (after the measurement's own uncertainty), a process's clock is out of step. */
export const CLOCK_OFFSET_WARN_MS = 1_000;
export const CLOCK_CHECK_INTERVAL_MS = 60_000;
/**
 * Until a reading has succeeded, a failed one is tried again this soon: before the first, a store
 * knows no offset (0: its due times and lease judgements on this clock, store/lease-clock.ts).
 */
export const FIRST_READING_RETRY_MS = 1_000;

export interface ClockOffset {
  /** This process's clock minus the database's: positive when this one is ahead. */
  offsetMs: number;
  /** Half the query's round trip: the database read its clock somewhere in it. */
  uncertaintyMs: number;
}

export interface ClockCheckLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/**
 * One reading of the database's clock, against this process's read around it. A reading that is no
 * time (NaN, Infinity) fails like one the database could not answer: its offset would be NaN, which
 * outOfStep takes for in step, so after a warning the check logged "in step again" with offsetMs NaN
 * (once seen, under load, from a reading past a test's script) and herald_clock_offset_seconds was NaN.
 */
export async function measureClockOffset(
  databaseNow: () => Promise<number>,
  clock: () => number = Date.now,
): Promise<ClockOffset> {
  const before = clock();
  const database = await databaseNow();
  const after = clock();
  if (!Number.isFinite(database) || !Number.isFinite(before) || !Number.isFinite(after)) {
    throw new Error(`a clock read as no time (database ${database}, this process ${before} to ${after})`);
  }
  return {
    offsetMs: Math.round((before + after) / 2 - database),
    uncertaintyMs: Math.ceil((after - before) / 2),
  };
}

/**
 * Pure: the offset a reading proves, in ms: its midpoint moved towards 0 by its uncertainty (0 when
 * that covers it). What herald_clock_offset_seconds exports: a reading whose round trip took
 * seconds (this thread held while it was under way, or its query waiting for a free connection of
 * a busy pool) proves only that much, and its midpoint alone, half the held time off, passed the
 * documented alert's 1 s with the clocks in step (until 2026-12-07; the warning allowed for it).
 */
export function provenOffset(reading: ClockOffset): number {
  const beyond = Math.abs(reading.offsetMs) - reading.uncertaintyMs;
  if (beyond <= 0) return 0;
  return reading.offsetMs < 0 ? -beyond : beyond;
}

/** Pure: whether a reading shows the clocks apart by more than CLOCK_OFFSET_WARN_MS for certain. */
export function outOfStep(reading: ClockOffset): boolean {
  return Math.abs(provenOffset(reading)) > CLOCK_OFFSET_WARN_MS;
}

export interface ClockCheck {
  /**
   * What the last reading proves of the offset, in ms (provenOffset; null before the first, or while
   * the database cannot be read).
   */
  offsetMs(): number | null;
  stop(): void;
}

/**
 * Reads the offset now and every `intervalMs`; logs a warning when the clocks are found out of
 * step (at start, or after being in step) and one line when they are back, not one per reading.
 * A reading that fails (the database cannot be reached, or its answer is no time) is skipped: the
 * offset is unknown until the next one (an outage is logged elsewhere), which comes after
 * `firstRetryMs` (FIRST_READING_RETRY_MS) while no reading has succeeded yet: until 2026-12-07 a
 * minute later, for which a process whose first reading failed used its own clock as the
 * database's (its store's offset 0: an API process 60 s ahead made its accepted events wait a
 * minute). After one has, the store keeps the offset it proved and the interval stands.
 */
export function startClockCheck(options: {
  databaseNow: () => Promise<number>;
  log: ClockCheckLog;
  intervalMs?: number;
  firstRetryMs?: number;
  clock?: () => number;
}): ClockCheck {
  const { databaseNow, log } = options;
  let last: number | null = null;
  let warned = false;
  let proved = false;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const check = async () => {
    let reading: ClockOffset;
    try {
      reading = await measureClockOffset(databaseNow, options.clock);
    } catch {
      last = null;
      if (!proved && !stopped && retry === undefined) {
        retry = setTimeout(() => {
          retry = undefined;
          void check();
        }, options.firstRetryMs ?? FIRST_READING_RETRY_MS);
        retry.unref();
      }
      return;
    }
    proved = true;
    last = provenOffset(reading);
    const fields = { offsetMs: reading.offsetMs, uncertaintyMs: reading.uncertaintyMs };
    if (outOfStep(reading) && !warned) {
      warned = true;
      log.warn(
        fields,
        `clock: this process's clock is ${Math.abs(reading.offsetMs)} ms ${reading.offsetMs > 0 ? 'ahead of' : 'behind'} the database's; processes sharing a database must keep their clocks in step (NTP), or leases, retries and signature timestamps go wrong (docs/deployment.md)`,
      );
    } else if (warned && !outOfStep(reading)) {
      warned = false;
      log.info(fields, "clock: this process's clock is in step with the database's again");
    }
  };
  void check();
  const timer = setInterval(() => void check(), options.intervalMs ?? CLOCK_CHECK_INTERVAL_MS);
  timer.unref();
  return {
    offsetMs: () => last,
    stop: () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry);
    },
  };
}
