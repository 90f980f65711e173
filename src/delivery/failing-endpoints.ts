/**
 * Endpoints whose attempts are failing, remembered for a short pause (FAILING_ENDPOINT_PAUSE_MS after
 * the last failure). While one is failing, claims take of its due deliveries only as many as its
 * free connections can start now (ClaimOptions.first) and leave the rest in the store, and its
 * queued work goes back to the store at each failure (dispatcher.ts).
 *
 * Without it, a failing endpoint's queued work was handed back at its next failure (endpoint-queues
 * drop), and the claim after that took a claim's worth of it again from the head of the due order:
 * with an endpoint that hangs until its timeout, ~180 of its deliveries a second were leased, read,
 * queued and handed back to start ~13, and the healthy endpoints' deliveries paid for it (the
 * dispatcher's database time per healthy delivery 67 → 86 µs; bench, isolation scenario).
 *
 * Failing means `inARow` failed attempts with no success between them (FAILURES_IN_A_ROW, or the
 * endpoint's disable threshold when that is lower): not one failure. An endpoint that fails one
 * attempt in 25 or 50 (a load balancer's occasional 502) had its queue handed back, due a second
 * later, at each: every queued delivery was claimed again and again, and a backlog of 4,000 drained
 * in ~12 s instead of ~1 s (test/delivery/intermittent-failures.test.ts). The run is not cut by
 * time: the failures of an endpoint that is down come a pause apart (its queue handed back at each),
 * and a run cut by the pause started again at every one of them. It is forgotten STREAK_MEMORY_MS
 * after its last failure.
 *
 * A failure that may disable the endpoint (a 410, or the failures in a row this process saw reach
 * the disable threshold, however far apart) makes it failing at once and holds it until that
 * attempt's record is written (`recorded`): a claim leaves it out whole, with no free connections
 * taken, so nothing more goes to it before the store has decided. The run this counts is not
 * forgotten after STREAK_MEMORY_MS: an endpoint failing once a minute reached the threshold with a
 * run of 1, was not failing, and its queued deliveries went out while its disable was being
 * recorded (1 to 16 requests past the threshold in test runs, as timing fell). It counts only this process's attempts:
 * failures another process recorded, or before a restart, are not known here.
 *
 * Pure: the dispatcher passes the clock's time in.
 */

/** Failed attempts in a row (no success between) that make an endpoint failing. */
export const FAILURES_IN_A_ROW = 3;
/** How long a run of failures is remembered after its last failure. */
const STREAK_MEMORY_MS = 60_000;
/** Endpoints whose run towards the disable threshold is kept (the oldest failure forgotten first). */
const RUNS_KEPT = 10_000;

/** An endpoint in its failure pause. */
export interface FailingEndpoint {
  endpointId: string;
  projectId: string;
}

export interface FailingEndpoints {
  /**
   * An attempt's outcome for its endpoint: a failure counts towards its run (and starts its pause
   * again), a success ends both. Whether the endpoint is failing now: `'disabling'` when this
   * failure may disable it (a `gone` failure, a 410, or a run at the disable threshold), which makes
   * it failing at once, whatever its run, and holds it until `recorded` is called for this attempt.
   * `counted` false: a failure the store does not count towards the threshold (a 429), which
   * leaves the run towards it as it is.
   */
  note(
    endpoint: FailingEndpoint,
    failed: boolean,
    now: number,
    gone?: boolean,
    counted?: boolean,
  ): boolean | 'disabling';
  /** The failing endpoints still in their pause at `now` (the others are forgotten). */
  at(now: number): FailingEndpoint[];
  /** The endpoints held (a `'disabling'` failure whose record is not written yet). */
  held(): string[];
  /** Whether `endpointId` is held. */
  isHeld(endpointId: string): boolean;
  /**
   * The record of a `'disabling'` failure was written (or given up): one hold less, and its run
   * starts again (the store has counted it: disabled, or not when another process's success or a
   * re-enable reset its count).
   */
  recorded(endpointId: string): void;
}

export function createFailingEndpoints(
  pauseMs: number,
  inARow = FAILURES_IN_A_ROW,
  /** The failures in a row that disable an endpoint (HERALD_FAILURE_THRESHOLD). */
  disableAt = Number.POSITIVE_INFINITY,
): FailingEndpoints {
  /** By endpoint id, in the order of their last failure: the oldest are at the front. */
  const lastFailure = new Map<string, { endpoint: FailingEndpoint; at: number; count: number }>();
  /** Failures in a row by endpoint id, not cut by time, in the order of their last failure (RUNS_KEPT). */
  const runs = new Map<string, number>();
  /** Held endpoints: the records of their `'disabling'` failures not written yet. */
  const holds = new Map<string, number>();
  return {
    note(endpoint, failed, now, gone = false, counted = true) {
      const id = endpoint.endpointId;
      const before = lastFailure.get(id);
      const total = (runs.get(id) ?? 0) + (counted ? 1 : 0);
      lastFailure.delete(id);
      runs.delete(id);
      if (!failed) return false;
      if (total > 0) runs.set(id, total);
      if (runs.size > RUNS_KEPT) runs.delete(runs.keys().next().value!);
      const run = before && now - before.at < STREAK_MEMORY_MS ? before.count + 1 : 1;
      const disabling = gone || (counted && total >= disableAt);
      const count = disabling ? Math.max(run, inARow) : run;
      lastFailure.set(id, { endpoint, at: now, count });
      if (!disabling) return count >= inARow;
      holds.set(id, (holds.get(id) ?? 0) + 1);
      return 'disabling';
    },
    held: () => [...holds.keys()],
    isHeld: (endpointId) => holds.has(endpointId),
    recorded(endpointId) {
      runs.delete(endpointId);
      const n = (holds.get(endpointId) ?? 0) - 1;
      if (n > 0) holds.set(endpointId, n);
      else holds.delete(endpointId);
    },
    at(now) {
      const out: FailingEndpoint[] = [];
      for (const [id, entry] of lastFailure) {
        if (now - entry.at >= STREAK_MEMORY_MS) lastFailure.delete(id);
        else if (entry.count >= inARow && now - entry.at < pauseMs) out.push(entry.endpoint);
      }
      return out;
    },
  };
}
