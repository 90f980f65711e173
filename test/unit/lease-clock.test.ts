/**
 * The lease arithmetic: a claim's times moved into the database's (store/lease-clock.ts), and what
 * an attempt may run past its timeout, counted on this process's clock (delivery/lease-left.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LEASE_MARGIN_MS } from '../../src/config/config-types.ts';
import { leaseEndOf, stallAllowanceMs } from '../../src/delivery/lease-left.ts';
import {
  databaseDueTime,
  databaseLeaseTimes,
  leaseJudgedAt,
  MAX_READING_UNCERTAINTY_MS,
  nextLeaseOffset,
  ownClockTime,
} from '../../src/store/lease-clock.ts';
import type { ClaimedDelivery } from '../../src/store/store.ts';

const NOW = 1_800_000_000_000;
const LEASE = 60_000;

test('in step (offset 0), the claim keeps the now and lease it was given', () => {
  assert.deepEqual(databaseLeaseTimes(NOW, LEASE, 0), { now: NOW, leaseMs: LEASE });
});

test("behind the database: the whole claim's now is moved on, the lease as long", () => {
  const { now, leaseMs } = databaseLeaseTimes(NOW, LEASE, -20_000);
  // Until 2026-12-07 the now stayed (the lease 20 s longer): the due times the others wrote in the
  // database's time came 20 s late for it, and its own, on its clock, 20 s early for them.
  assert.equal(now, NOW + 20_000);
  assert.equal(leaseMs, LEASE);
});

test('a due time is written moved by the whole offset, as a claim moves its now, whichever way the clock is off', () => {
  assert.equal(databaseDueTime(NOW, 20_000), NOW - 20_000, 'ahead');
  assert.equal(databaseDueTime(NOW, -20_000), NOW + 20_000, 'behind');
  assert.equal(databaseDueTime(NOW, 0), NOW);
  for (const offset of [20_000, -20_000, 0]) {
    assert.equal(
      databaseDueTime(NOW + 5_000, offset) - databaseLeaseTimes(NOW, LEASE, offset).now,
      5_000,
      `a time 5 s on is 5 s on for the claims of the process that wrote it (offset ${offset})`,
    );
  }
});

test("ahead of the database: the whole claim's now is moved back, the lease as long", () => {
  const { now, leaseMs } = databaseLeaseTimes(NOW, LEASE, 20_000);
  assert.equal(now, NOW - 20_000);
  assert.equal(leaseMs, LEASE);
});

test('the offset used is the proven one; a reading too uncertain keeps the last', () => {
  assert.equal(nextLeaseOffset({ offsetMs: -20_005, uncertaintyMs: 5 }, 0), -20_000);
  assert.equal(
    nextLeaseOffset({ offsetMs: 3, uncertaintyMs: 5 }, -20_000),
    0,
    'in step as far as it can tell',
  );
  assert.equal(
    nextLeaseOffset({ offsetMs: -19_900, uncertaintyMs: MAX_READING_UNCERTAINTY_MS + 1 }, -20_000),
    -20_000,
    'a held round trip that allows the last proves nothing new',
  );
  assert.equal(
    nextLeaseOffset({ offsetMs: 60_000, uncertaintyMs: 400 }, 0),
    59_600,
    'one that rules the last out gives what it proves (a first reading at a slow start)',
  );
  assert.equal(nextLeaseOffset({ offsetMs: 0, uncertaintyMs: 2_000 }, -20_000), 0, 'back in step');
  assert.equal(nextLeaseOffset({ offsetMs: 300, uncertaintyMs: 2_000 }, 0), 0, 'in step, a held round trip');
  assert.equal(nextLeaseOffset({ offsetMs: 900, uncertaintyMs: MAX_READING_UNCERTAINTY_MS }, 0), 650);
});

test("a lease is judged at this clock's now moved by the whole offset, whichever way it is off", () => {
  assert.equal(leaseJudgedAt(NOW, 20_000), NOW - 20_000, 'ahead: the database is earlier');
  assert.equal(leaseJudgedAt(NOW, -20_000), NOW + 20_000, 'behind: the database is later');
  assert.equal(leaseJudgedAt(NOW, 0), NOW);
});

test("a time read back from the database is on this clock moved by the whole offset, leaseJudgedAt's inverse", () => {
  for (const offset of [20_000, -20_000, 0]) {
    assert.equal(ownClockTime(leaseJudgedAt(NOW, offset), offset), NOW, `${offset}`);
    assert.equal(NOW - ownClockTime(NOW - 2_000 - offset, offset), 2_000, `${offset}: aged on this clock`);
  }
});

const claimed = (leasedUntil: number | null, leaseEndsAt?: number) =>
  ({ delivery: { leasedUntil }, ...(leaseEndsAt === undefined ? {} : { leaseEndsAt }) }) as ClaimedDelivery;

test("the lease is counted from the process's own end when the store gives one, else the stored end", () => {
  assert.equal(leaseEndOf(claimed(NOW + 80_000, NOW + LEASE)), NOW + LEASE);
  assert.equal(leaseEndOf(claimed(NOW + LEASE)), NOW + LEASE);
  assert.equal(leaseEndOf(claimed(null)), null);
});

test('the stall allowance is what the lease leaves past the timeout and the margin, never below 0', () => {
  const timeout = 10_000;
  assert.equal(stallAllowanceMs(NOW + LEASE, NOW, timeout), LEASE - timeout - LEASE_MARGIN_MS);
  assert.equal(stallAllowanceMs(NOW + LEASE, NOW + 50_000, timeout), 0);
  assert.equal(stallAllowanceMs(null, NOW, timeout), 0);
});
