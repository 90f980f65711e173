/** The events list's "+N more": counted when the event says how many it has, never a wrong number. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliverySummary } from '../../src/dashboard/app/api/types.ts';
import { firstOfCarried, firstOfPage } from '../../src/dashboard/app/first-deliveries.ts';

const delivery = (i: number): DeliverySummary => ({
  id: `dlv_${i}`,
  eventId: 'evt_1',
  endpointId: `ep_${i}`,
  url: `https://hooks.example/${i}`,
  status: 'pending',
  attempts: 0,
  nextAttemptAt: null,
  inFlight: false,
  lastAttemptAt: null,
  createdAt: '2026-12-04T00:00:00.000Z',
});
const four = [0, 1, 2, 3].map(delivery);

test('a last page has no more, whatever the count says', () => {
  assert.deepEqual(firstOfPage({ data: four, nextCursor: null }, 4), { first: four, more: 0 });
  assert.deepEqual(firstOfPage({ data: four.slice(0, 2), nextCursor: null }, null), {
    first: four.slice(0, 2),
    more: 0,
  });
});

test('a page with more: the count less those shown, or only that there are more without a count', () => {
  assert.deepEqual(firstOfPage({ data: four, nextCursor: 'c' }, 10_000), { first: four, more: 9_996 });
  assert.equal(firstOfPage({ data: four, nextCursor: 'c' }, null).more, 'some');
  assert.equal(firstOfPage({ data: four, nextCursor: 'c' }, undefined).more, 'some');
  // A count no larger than the page cannot be right: no number rather than a wrong one.
  assert.equal(firstOfPage({ data: four, nextCursor: 'c' }, 4).more, 'some');
});

test('deliveries carried whole are counted', () => {
  const six = [0, 1, 2, 3, 4, 5].map(delivery);
  assert.deepEqual(firstOfCarried(six, 4), { first: four, more: 2 });
  assert.deepEqual(firstOfCarried(four, 4), { first: four, more: 0 });
});
