/**
 * The dispatcher's record of its attempts out (in-flight-deliveries.ts): a claim of a delivery whose
 * attempt is out is skipped, and so is one that read the count from before a record written after
 * its lease ran out (it may have moved that claim's lease: sent, it was a duplicate), for a lease.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createInFlightDeliveries } from '../../src/delivery/in-flight-deliveries.ts';

const LEASE = 60_000;

test('a claim is skipped while an attempt of it is out, and not once it settled within its lease', () => {
  const inFlight = createInFlightDeliveries(LEASE);
  inFlight.add({ id: 'd', attempts: 2, leasedUntil: 1_000 });
  assert.ok(inFlight.has({ id: 'd', attempts: 2 }));
  assert.ok(!inFlight.has({ id: 'd', attempts: 3 }), 'a claim after the record: a retry');
  inFlight.recorded('d', 2, 999);
  inFlight.settle('d', 2);
  assert.ok(!inFlight.has({ id: 'd', attempts: 2 }));
  assert.equal(inFlight.size, 0);
});

test('a record written after its lease ran out skips the claims that read the count before it, for a lease', () => {
  const inFlight = createInFlightDeliveries(LEASE);
  inFlight.add({ id: 'd', attempts: 2, leasedUntil: 1_000 });
  inFlight.recorded('d', 2, 1_500);
  inFlight.settle('d', 2);
  assert.equal(inFlight.size, 0);
  assert.ok(inFlight.has({ id: 'd', attempts: 2 }), 'claimed again before the record came back');
  assert.ok(!inFlight.has({ id: 'd', attempts: 3 }), 'claimed after it: a retry');
  // Another such record a lease later drops it.
  inFlight.add({ id: 'e', attempts: 0, leasedUntil: 1_000 });
  inFlight.recorded('e', 0, 1_500 + LEASE);
  assert.ok(!inFlight.has({ id: 'd', attempts: 2 }));
  assert.ok(inFlight.has({ id: 'e', attempts: 0 }));
});

test('a record of another attempt than the one out (another count) is not remembered', () => {
  const inFlight = createInFlightDeliveries(LEASE);
  inFlight.add({ id: 'd', attempts: 3, leasedUntil: 1_000 });
  inFlight.recorded('d', 2, 1_500);
  inFlight.settle('d', 3);
  assert.ok(!inFlight.has({ id: 'd', attempts: 2 }));
  assert.ok(!inFlight.has({ id: 'd', attempts: 3 }));
});
