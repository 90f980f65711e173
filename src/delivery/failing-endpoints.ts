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
 * Pure: the dispatcher passes the clock's time in.
 */

/** Failed attempts in a row (no success between) that make an endpoint failing. */
export const FAILURES_IN_A_ROW = 3;
/** How long a run of failures is remembered after its last failure. */
const STREAK_MEMORY_MS = 60_000;

/** An endpoint in its failure pause. */
export interface FailingEndpoint {
  endpointId: string;
  projectId: string;
}

export interface FailingEndpoints {
  /**
   * An attempt's outcome for its endpoint: a failure counts towards its run (and starts its pause
   * again), a success ends both. Whether the endpoint is failing now. A `gone` failure (a 410,
   * which disables the endpoint at once) makes it failing at once, whatever its run.
   */
  note(endpoint: FailingEndpoint, failed: boolean, now: number, gone?: boolean): boolean;
  /** The failing endpoints still in their pause at `now` (the others are forgotten). */
  at(now: number): FailingEndpoint[];
}

export function createFailingEndpoints(pauseMs: number, inARow = FAILURES_IN_A_ROW): FailingEndpoints {
  /** By endpoint id, in the order of their last failure: the oldest are at the front. */
  const lastFailure = new Map<string, { endpoint: FailingEndpoint; at: number; count: number }>();
  return {
    note(endpoint, failed, now, gone = false) {
      const before = lastFailure.get(endpoint.endpointId);
      lastFailure.delete(endpoint.endpointId);
      if (!failed) return false;
      const run = before && now - before.at < STREAK_MEMORY_MS ? before.count + 1 : 1;
      const count = gone ? Math.max(run, inARow) : run;
      lastFailure.set(endpoint.endpointId, { endpoint, at: now, count });
      return count >= inARow;
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
