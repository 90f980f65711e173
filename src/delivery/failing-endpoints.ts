/**
 * Endpoints whose last attempt failed, remembered for a short pause (FAILING_ENDPOINT_PAUSE_MS after
 * the last failure). While one is failing, claims take of its due deliveries only as many as its
 * free connections can start now (ClaimOptions.first) and leave the rest in the store.
 *
 * Without it, a failing endpoint's queued work was handed back at its next failure (endpoint-queues
 * drop), and the claim after that took a claim's worth of it again from the head of the due order:
 * with an endpoint that hangs until its timeout, ~180 of its deliveries a second were leased, read,
 * queued and handed back to start ~13, and the healthy endpoints' deliveries paid for it (the
 * dispatcher's database time per healthy delivery 67 → 86 µs; bench, isolation scenario).
 *
 * Pure: the dispatcher passes the clock's time in.
 */

/** An endpoint in its failure pause. */
export interface FailingEndpoint {
  endpointId: string;
  projectId: string;
}

export interface FailingEndpoints {
  /** An attempt's outcome for its endpoint: a failure starts (or extends) its pause, a success ends it. */
  note(endpoint: FailingEndpoint, failed: boolean, now: number): void;
  /** The endpoints still in their pause at `now` (the others are forgotten). */
  at(now: number): FailingEndpoint[];
}

export function createFailingEndpoints(pauseMs: number): FailingEndpoints {
  /** By endpoint id, in the order of their last failure: the oldest are at the front. */
  const lastFailure = new Map<string, { endpoint: FailingEndpoint; at: number }>();
  return {
    note(endpoint, failed, now) {
      lastFailure.delete(endpoint.endpointId);
      if (failed) lastFailure.set(endpoint.endpointId, { endpoint, at: now });
    },
    at(now) {
      const out: FailingEndpoint[] = [];
      for (const [id, entry] of lastFailure) {
        if (now - entry.at >= pauseMs) lastFailure.delete(id);
        else out.push(entry.endpoint);
      }
      return out;
    },
  };
}
