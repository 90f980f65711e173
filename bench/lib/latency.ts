/** Acceptance-to-arrival and send-to-arrival latencies of one open-loop run. */
import type { OpenLoopResult } from './load.ts';
import { type Percentiles, percentiles, roundRate } from './stats.ts';

/** The latencies of the events sent within one stretch of a run. */
export interface WindowLatency {
  /** Arrival at the receiver minus the moment the generator got the 202 (or addBulk resolved). */
  acceptToArrival: Percentiles;
  /** Arrival minus the moment the generator started the request that carried the event. */
  sendToArrival: Percentiles;
  /** Submission round trip: the 202 minus the start of its request. */
  accept: Percentiles;
  /** Events sent within the stretch that never arrived (within the wait), or got no 202. */
  missing: number;
  /** Events that arrived before their 202 reached the generator (counted as negative latencies). */
  arrivedBeforeAccept: number;
}

export interface LatencyResult extends WindowLatency {
  /** Arrivals per second within the measured part of the run. */
  deliveredPerSec: number;
  duplicates: number;
}

export function latencyOf(
  run: OpenLoopResult,
  arrivals: { seq: number[]; at: number[] },
  warmupMs: number,
): LatencyResult {
  const { first, duplicates } = firstArrivals(run, arrivals);
  const from = run.startedAt + warmupMs;
  let inWindow = 0;
  for (let i = 0; i < arrivals.seq.length; i++) {
    const at = arrivals.at[i]!;
    if (arrivals.seq[i]! < run.sent && at >= from && at <= run.endedAt) inWindow++;
  }
  return {
    ...latencyBetween(run, first, from, Number.POSITIVE_INFINITY),
    deliveredPerSec: roundRate(inWindow / ((run.endedAt - from) / 1000)),
    duplicates,
  };
}

/** Each event's first arrival (NaN: none), by sequence number, and how many arrived again. */
export function firstArrivals(
  run: OpenLoopResult,
  arrivals: { seq: number[]; at: number[] },
): { first: Float64Array; duplicates: number } {
  const first = new Float64Array(run.sent).fill(Number.NaN);
  let duplicates = 0;
  for (let i = 0; i < arrivals.seq.length; i++) {
    const s = arrivals.seq[i]!;
    const at = arrivals.at[i]!;
    if (s >= run.sent) continue;
    if (!Number.isNaN(first[s]!)) duplicates++;
    if (Number.isNaN(first[s]!) || at < first[s]!) first[s] = at;
  }
  return { first, duplicates };
}

/**
 * The latencies of the events handed over in [from, to) (by when each was sent, so that an event
 * belongs to the stretch whose conditions it met when it went in), given their first arrivals.
 */
export function latencyBetween(
  run: OpenLoopResult,
  first: Float64Array,
  from: number,
  to: number,
): WindowLatency {
  const acceptToArrival: number[] = [];
  const sendToArrival: number[] = [];
  const accept: number[] = [];
  let missing = 0;
  let arrivedBeforeAccept = 0;
  for (let s = 0; s < run.sent; s++) {
    const sentAt = run.sentAt[s]!;
    if (sentAt < from || sentAt >= to) continue;
    const acceptedAt = run.acceptedAt[s]!;
    if (!Number.isNaN(acceptedAt)) accept.push(acceptedAt - sentAt);
    if (Number.isNaN(first[s]!) || Number.isNaN(acceptedAt)) {
      missing++;
      continue;
    }
    const fromAccept = first[s]! - acceptedAt;
    if (fromAccept < 0) arrivedBeforeAccept++;
    acceptToArrival.push(fromAccept);
    sendToArrival.push(first[s]! - sentAt);
  }
  return {
    acceptToArrival: percentiles(acceptToArrival),
    sendToArrival: percentiles(sendToArrival),
    accept: percentiles(accept),
    missing,
    arrivedBeforeAccept,
  };
}
