/**
 * Leases in the database's time (PostgreSQL, where workers judge each other's leases). A lease's
 * end is written by the worker that claims and compared by every worker that claims after it, each
 * with the `now` it passes: with each process's own clock, a worker whose clock was behind by more
 * than its lease's unused part had its deliveries claimed by the others while its attempts were out
 * (sent twice), and a worker ahead took the others' as early. A claim reads the database's clock in
 * its own transaction (clock-check.ts measureClockOffset, provenOffset: 0 while the reading cannot
 * tell the clocks apart) and moves its times by the offset it proves:
 *
 * - ahead (positive) or behind (negative): its `now` is moved by the offset for the whole claim
 *   (back when ahead, on when behind), so it takes a lease only once it has ended by the
 *   database's clock and what is due by the database's clock at once; the due times it writes are
 *   moved as much (databaseDueTime), so due work, its own too, is taken when meant.
 *
 * Until 2026-12-07 a claim moved its now only when ahead: a worker behind kept its own clock, wrote
 * its leases that much longer and its due times on its own clock. A worker S behind took what
 * others made due S late, and its retries and hand-back holds came due S early for the others (a
 * first retry of 5 s due at once for S over 5 s).
 *
 * "As much" is what the reading proves: its midpoint less half its round trip, toward 0, while the
 * true offset may lie half a round trip beyond the midpoint. So a claim's now is never past the
 * database's, and a lease may end by the database's clock up to one round trip (at most 2 *
 * MAX_READING_UNCERTAINTY_MS) before its claimer counts it over: inside the LEASE_MARGIN_MS an
 * attempt leaves its lease for its record. A due time comes due up to as much late (ahead) or early
 * (behind). Moved by the far bound instead, every claim in step would move by a millisecond or so,
 * and the leases written would no longer be `now + leaseMs` as passed.
 *
 * The claiming process itself counts its lease from the `now` it passed, on its own clock
 * (ClaimedDelivery.leaseEndsAt): what the move adds is the other workers' time, not its own.
 * Deliveries leased at accept (the hand-off, src/delivery/handoff.ts) are leased the same way: the
 * accept's group reads the clock too, when one of its accepts leases.
 * Tests pass times of their own (years ahead) with clocks in step: the offset is measured with the
 * process's clock, not with `now`, so they see no move.
 */
import type { ClockOffset } from '../clock-check.ts';
import { measureClockOffset, provenOffset } from '../clock-check.ts';

/**
 * A reading whose round trip took longer than twice this (the thread held while it was under way)
 * proves too little: the last offset is kept, as long as the reading allows it.
 */
export const MAX_READING_UNCERTAINTY_MS = 250;

/**
 * Pure: the offset to use after `reading`, `last` the one used before it (0 before the first). A
 * reading too uncertain keeps the last while the offset may still be it (within the reading's
 * midpoint and uncertainty); one that rules it out gives what it proves (provenOffset). Until
 * 2026-12-07 it kept the last whatever it said: a process whose first readings were slow (at start,
 * under load) kept 0 however far off its clock was, until a reading came back within 0.5 s (an API
 * process 60 s ahead, on a machine at load 17, judged leases on its own clock).
 */
export function nextLeaseOffset(reading: ClockOffset, last: number): number {
  if (reading.uncertaintyMs <= MAX_READING_UNCERTAINTY_MS) return provenOffset(reading);
  return Math.abs(last - reading.offsetMs) <= reading.uncertaintyMs ? last : provenOffset(reading);
}

/** The clock a store measures with, and the offset its last reading proved (its claims and accepts share it). */
export interface LeaseClock {
  clock: () => number;
  offsetMs: number;
}

/** Reads the database's clock with `read` (in the caller's transaction) and keeps what it proves. */
export async function measureLeaseOffset(lease: LeaseClock, read: () => Promise<number>): Promise<number> {
  lease.offsetMs = nextLeaseOffset(await measureClockOffset(read, lease.clock), lease.offsetMs);
  return lease.offsetMs;
}

/**
 * Pure: this process's `now` as the database's time, by the offset proved (this clock minus the
 * database's), whichever way this clock is off: for judging whether a lease written in the
 * database's time still runs (a retry's "in flight?", the API's `inFlight`, a claim's now:
 * databaseLeaseTimes). The offset proved is never beyond the true one, so a lease is never judged
 * over early by more than the reading's round trip.
 */
export const leaseJudgedAt = (now: number, offsetMs: number): number => now - offsetMs;

/**
 * Pure: a time in the database's time (a due time read back) on this process's clock, by the
 * offset proved: the inverse of leaseJudgedAt, for a process that compares it with its own clock
 * (the backlog's oldest, which metrics.ts ages at each scrape).
 */
export const ownClockTime = (at: number, offsetMs: number): number => at + offsetMs;

/**
 * Pure: a due time this process writes (`at`, on its own clock: a new event's, a retry's, a
 * hand-back's hold) as claims compare it, by the offset proved, whichever way this clock is off:
 * claims move their now as much (databaseLeaseTimes), so it comes due when it would by the
 * database's clock for every worker, this one too. Until 2026-12-07 written on the writer's clock:
 * an API process 60 s ahead made every event it accepted (but those it handed off) wait a minute
 * for the workers, a worker ahead its own retries; and (until moved both ways) a worker behind
 * made its retries and hand-back holds due that much early for the others.
 */
export const databaseDueTime = (at: number, offsetMs: number): number => at - offsetMs;

/**
 * Pure: a claim's `now` and lease length as passed to the store's statements, for an offset in ms
 * (this clock minus the database's): the now in the database's time (leaseJudgedAt), the lease as
 * long. The claiming process counts its lease from the now it passed (ClaimedDelivery.leaseEndsAt).
 */
export function databaseLeaseTimes(
  now: number,
  leaseMs: number,
  offsetMs: number,
): { now: number; leaseMs: number } {
  return { now: leaseJudgedAt(now, offsetMs), leaseMs };
}
