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
