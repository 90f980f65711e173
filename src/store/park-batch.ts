/**
 * A disable parks its endpoint's pending deliveries in batches of at most `rows`: the write that
 * disables it parks up to one batch (one batch in all for the endpoints it disables) and counts the
 * rest, which later writes of a batch each park, other writers getting their turn between two. One
 * commit disabling 58 endpoints parked 220,400 deliveries and held SQLite's write lock ~6.3 s,
 * stalling every accept meanwhile. An enable resumes its endpoint's parked deliveries in the same
 * batches (ResumeRest). An object, so a test can make batches small.
 */
export const parkBatch = { rows: 1_000 };

/**
 * A later write that fails (a full disk, the database out of reach a moment, a lock timeout) is
 * tried again after `firstMs`, the wait doubling up to `maxMs`, until it goes through, the loop's
 * own stop applies, or the store closes. The loop used to end at the first failure: an enable's
 * rest stayed parked on an active endpoint, which nothing claims, until a process started (the
 * sweep below) or the endpoint was enabled again, though endpoint.recovered counted it resumed.
 * `sweepers`: how many endpoints the start's sweep resumes side by side (sweepStranded).
 */
export const laterRetry = { firstMs: 1_000, maxMs: 30_000, sweepers: 4 };

/**
 * Pending deliveries a disable counted but left to later writes: parked a batch at a time while the
 * endpoint is still disabled by that disable (`disabledAt`, the disable's `now`, which is also the
 * time every batch treats as now, so they park exactly what the disable counted).
 */
export interface ParkRest {
  projectId: string;
  endpointId: string;
  disabledAt: number;
  /**
   * The time leases are judged at, when not `disabledAt`: on PostgreSQL the disable's now in the
   * database's time (lease-clock.ts leaseJudgedAt), as the disable judged them.
   */
  inFlightAt?: number;
}

/**
 * Parked deliveries an enable counted but left to later writes: resumed (pending, due at
 * `enabledAt`, the enable's `now`) a batch at a time while the endpoint is still active, so
 * `endpoint.recovered`'s `resumed` counts them all. A disable meanwhile stops it (what it parks stays
 * parked), as do a delete and, in this process, an enable anew (which resumes them itself). Parked
 * deliveries of an active endpoint the batches never reach (the process stopped) are resumed by the
 * sweep a dispatcher runs as it starts (Store.resumeStrandedParked, the same batches, due at its
 * start), or by the next enable of the endpoint (enabling an active endpoint resumes them).
 */
export interface ResumeRest {
  projectId: string;
  endpointId: string;
  enabledAt: number;
}

/** What a write left to later writes of a batch each, parking or resuming. */
export type LaterBatches = ParkRest | ResumeRest;

/** One loop of later writes: a disable's parking or an enable's resuming, of one endpoint. */
export interface LaterLoop {
  step: 'park' | 'resume';
  projectId: string;
  endpointId: string;
}

/**
 * Told of the later writes' failures (the store's `laterWrites` option; src/later-write-log.ts logs
 * them): a loop's first failed write, then, if one goes through after, that one with the number of
 * failed tries. Retried silently before 2026-12-06: a backlog stayed parked meanwhile with no line.
 */
export interface LaterWriteReport {
  failed(loop: LaterLoop, error: unknown): void;
  through(loop: LaterLoop, failures: number): void;
}

/**
 * The start's sweep (Store.resumeStrandedParked) over the endpoints found active with deliveries
 * still parked: `resume` for each, `laterRetry.sweepers` side by side, each sweeper taking the next
 * endpoint as its last resume ends, until `closed`. One after another, a resume whose writes kept
 * failing (tried again until they go through) held up every endpoint after it.
 */
export async function sweepStranded(
  stranded: readonly { projectId: string; endpointId: string }[],
  resume: (endpoint: { projectId: string; endpointId: string }) => Promise<void>,
  closed: () => boolean,
): Promise<void> {
  const left = [...stranded];
  const sweeper = async () => {
    for (let next = left.shift(); next !== undefined && !closed(); next = left.shift()) await resume(next);
  };
  await Promise.all(Array.from({ length: Math.min(laterRetry.sweepers, left.length) }, sweeper));
}

/**
 * A loop of later writes with its retry (laterRetry), for both stores: `run` until it resolves, or
 * the store closes. It calls `through` after each write that goes through (or a read that finds
 * nothing left). A failure is reported if it is the loop's first since the last write that went
 * through (`report.failed`), then `run` goes again after `pause`: `laterRetry.firstMs`, doubling up
 * to `maxMs` while failures follow each other, back to `firstMs` once a write goes through (and
 * reported so, `report.through`). PostgreSQL's loop kept the doubled wait after writes went through
 * again: a backlog whose writes failed a while, then went through, then failed once more waited up
 * to 30 s where SQLite's waited 1 s.
 */
export async function retryLaterWrites(
  loop: LaterLoop,
  run: (through: () => void) => Promise<void>,
  options: {
    closed: () => boolean;
    pause: (ms: number) => Promise<void>;
    report?: LaterWriteReport | undefined;
  },
): Promise<void> {
  let wait = laterRetry.firstMs;
  let failures = 0;
  const through = () => {
    if (failures > 0) options.report?.through(loop, failures);
    failures = 0;
    wait = laterRetry.firstMs;
  };
  for (;;) {
    if (options.closed()) return;
    try {
      return await run(through);
    } catch (error) {
      if (options.closed()) return;
      if (failures++ === 0) options.report?.failed(loop, error);
      await options.pause(wait);
      wait = Math.min(wait * 2, laterRetry.maxMs);
    }
  }
}

/**
 * The enables resuming their endpoint's parked deliveries in this process, by endpoint (both
 * stores): an enable anew of the endpoint takes over (the older loop stops at its next batch), and
 * the start's sweep leaves an endpoint being resumed to its enable.
 */
export class ResumeLoops {
  readonly #by = new Map<string, ResumeRest>();

  /** Runs `loop` as `rest`'s resume; `current()`: whether it is still its endpoint's. */
  run(rest: ResumeRest, loop: (current: () => boolean) => Promise<void>): Promise<void> {
    const key = `${rest.projectId}/${rest.endpointId}`;
    this.#by.set(key, rest);
    return loop(() => this.#by.get(key) === rest).finally(() => {
      if (this.#by.get(key) === rest) this.#by.delete(key);
    });
  }

  /**
   * Store.resumeStrandedParked's sweep (sweepStranded) over `stranded`: `resume` for each endpoint
   * not being resumed by an enable in this process, due at `now`.
   */
  sweep(
    stranded: readonly { projectId: string; endpointId: string }[],
    now: number,
    resume: (rest: ResumeRest) => Promise<void>,
    closed: () => boolean,
  ): Promise<void> {
    return sweepStranded(
      stranded,
      async (next) => {
        if (!this.#by.has(`${next.projectId}/${next.endpointId}`)) await resume({ ...next, enabledAt: now });
      },
      closed,
    );
  }
}
