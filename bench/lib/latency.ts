/** Acceptance-to-arrival and send-to-arrival latencies of one open-loop run. */
import type { OpenLoopResult } from './load.ts';
import { type Percentiles, percentiles, roundRate } from './stats.ts';

export interface LatencyResult {
  /** Arrival at the receiver minus the moment the generator got the 202 (or addBulk resolved). */
  acceptToArrival: Percentiles;
  /** Arrival minus the moment the generator started the request that carried the event. */
  sendToArrival: Percentiles;
  /** Submission round trip: the 202 minus the start of its request. */
  accept: Percentiles;
  /** Arrivals per second within the measured part of the run. */
  deliveredPerSec: number;
  /** Events sent within the measured part that never arrived (within the wait). */
  missing: number;
  duplicates: number;
  /** Events that arrived before their 202 reached the generator (counted as negative latencies). */
  arrivedBeforeAccept: number;
}

export function latencyOf(
  run: OpenLoopResult,
  arrivals: { seq: number[]; at: number[] },
  warmupMs: number,
): LatencyResult {
  const first = new Float64Array(run.sent).fill(Number.NaN);
  let duplicates = 0;
  const from = run.startedAt + warmupMs;
  let inWindow = 0;
  for (let i = 0; i < arrivals.seq.length; i++) {
    const s = arrivals.seq[i]!;
    const at = arrivals.at[i]!;
    if (s >= run.sent) continue;
    if (!Number.isNaN(first[s]!)) duplicates++;
    if (Number.isNaN(first[s]!) || at < first[s]!) first[s] = at;
    if (at >= from && at <= run.endedAt) inWindow++;
  }
  const acceptToArrival: number[] = [];
  const sendToArrival: number[] = [];
  const accept: number[] = [];
  let missing = 0;
  let arrivedBeforeAccept = 0;
  for (let s = 0; s < run.sent; s++) {
    if (run.sentAt[s]! < from) continue;
    if (!Number.isNaN(run.acceptedAt[s]!)) accept.push(run.acceptedAt[s]! - run.sentAt[s]!);
    if (Number.isNaN(first[s]!) || Number.isNaN(run.acceptedAt[s]!)) {
      missing++;
      continue;
    }
    const fromAccept = first[s]! - run.acceptedAt[s]!;
    if (fromAccept < 0) arrivedBeforeAccept++;
    acceptToArrival.push(fromAccept);
    sendToArrival.push(first[s]! - run.sentAt[s]!);
  }
  return {
    acceptToArrival: percentiles(acceptToArrival),
    sendToArrival: percentiles(sendToArrival),
    accept: percentiles(accept),
    deliveredPerSec: roundRate(inWindow / ((run.endedAt - from) / 1000)),
    missing,
    duplicates,
    arrivedBeforeAccept,
  };
}
