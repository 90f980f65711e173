/** The payloads queued deliveries hold (src/delivery/queued-bytes.ts): copies counted once, project shares. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { payloadPerClaimed } from '../../src/delivery/claim-loop.ts';
import { createQueuedBytes } from '../../src/delivery/queued-bytes.ts';
import type { HeraldEvent } from '../../src/domain/types.ts';
import type { ClaimedDelivery } from '../../src/store/store.ts';

/** 100 bytes; a project holds at most 75, the last 25 go to projects holding less than 10. */
const bound = () => createQueuedBytes({ limitBytes: 100, projectShare: 0.75, smallShare: 0.1 });
let ids = 0;
const event = (projectId: string) => ({ id: `ev${ids++}`, projectId, type: 't' }) as unknown as HeraldEvent;
const delivery = (ev: HeraldEvent, payloadBytes: number): ClaimedDelivery =>
  ({
    delivery: { id: `d${ids++}`, projectId: ev.projectId },
    event: ev,
    payloadJson: 'x'.repeat(payloadBytes),
  }) as unknown as ClaimedDelivery;

test('an event held by several queued deliveries counts once, until the last of them goes', () => {
  const q = bound();
  const ev = event('p1');
  const a = delivery(ev, 40);
  const b = delivery(ev, 40);
  q.add(a);
  q.add(b);
  assert.equal(q.used, 40);
  assert.equal(q.count, 2, 'each delivery counted (herald_deliveries_queued)');
  q.remove(a);
  assert.equal(q.used, 40, 'b still holds the copy');
  assert.equal(q.count, 1);
  q.remove(b);
  assert.equal(q.used, 0);
  assert.equal(q.count, 0);
  q.remove(b);
  assert.equal(q.used, 0, 'a second remove changes nothing');
  assert.equal(q.count, 0);
});

test('a project stops at its share; another project still fits, and one holding nothing fits its share', () => {
  const q = bound();
  for (let i = 0; i < 7; i++) {
    const d = delivery(event('p1'), 10);
    assert.equal(q.fits(d), true);
    q.add(d);
  }
  const eighth = delivery(event('p1'), 10);
  assert.equal(q.fits(eighth), false, '80 would pass the project share of 75');
  const other = delivery(event('p2'), 20);
  assert.equal(q.fits(other), true);
  q.add(other);
  assert.equal(q.used, 90);
  assert.equal(q.fits(delivery(event('p3'), 20)), false, 'past the whole bound');
  assert.equal(q.fits(delivery(event('p3'), 10)), true);
  // A delivery of an event already held adds nothing: it always fits.
  assert.equal(q.fits(delivery(other.event, 20)), true);
});

test('with nothing queued, an event larger than the whole bound fits (it waits alone)', () => {
  const q = bound();
  const huge = delivery(event('p1'), 500);
  assert.equal(q.fits(huge), true);
  q.add(huge);
  assert.equal(q.fits(delivery(event('p2'), 1)), false);
});

test('a claim counts a payload once per event it read', () => {
  const ev = event('p1');
  const shared = [delivery(ev, 1000), delivery(ev, 1000)];
  assert.equal(payloadPerClaimed([...shared, delivery(event('p1'), 10)]), (1000 + 10) / 3);
  assert.equal(payloadPerClaimed([]), 0);
});

/** A delivery of `payloadBytes` to endpoint `endpointId`. */
const toEndpoint = (ev: HeraldEvent, payloadBytes: number, endpointId: string): ClaimedDelivery =>
  ({
    delivery: { id: `d${ids++}`, projectId: ev.projectId, endpointId },
    event: ev,
    payloadJson: 'x'.repeat(payloadBytes),
  }) as unknown as ClaimedDelivery;

test('the reserve is the part of the bound no one project may hold', () => {
  assert.equal(bound().reserve, 25);
});

test('while a payload larger than the bound has the turn, nothing else is queued; it fits once the rest is gone', () => {
  const q = bound();
  const small = toEndpoint(event('p1'), 10, 'busy');
  q.add(small);
  const huge = toEndpoint(event('p2'), 500, 'large');
  assert.equal(q.fits(huge), false, 'larger than the bound, with something queued');
  q.takeTurn('large', 'p2', 500);
  assert.equal(q.fits(toEndpoint(event('p1'), 1, 'busy')), false, 'no room is left to the others');
  assert.equal(q.fits(toEndpoint(event('p3'), 1, 'other')), false, 'not even to a project holding nothing');
  assert.equal(q.fits(toEndpoint(small.event, 10, 'busy')), true, 'an event already held adds nothing');
  q.remove(small);
  assert.equal(q.fits(toEndpoint(event('p3'), 1, 'other')), false, 'nothing queued: still its turn');
  assert.equal(q.fits(huge), true);
  q.add(huge);
  q.endTurn();
  assert.equal(q.turn, null);
  assert.equal(q.fits(toEndpoint(event('p3'), 1, 'other')), false, 'past the bound while it waits');
});

test('a turn within the bound keeps its bytes: the others queue in what they leave', () => {
  const q = bound();
  const a = toEndpoint(event('p1'), 40, 'busy');
  q.add(a);
  const big = toEndpoint(event('p2'), 70, 'large');
  assert.equal(q.fits(big), false, '40 + 70 is past 100');
  q.takeTurn('large', 'p2', 70);
  assert.equal(q.fits(toEndpoint(event('p1'), 10, 'busy')), false, '40 + 10 + 70 is past 100');
  assert.equal(q.fitsBytes('p3', 10), false, 'nor for a project holding nothing');
  q.remove(a);
  assert.equal(q.fits(toEndpoint(event('p3'), 30, 'other')), true, '30 + 70 holds');
  q.add(toEndpoint(event('p3'), 30, 'other'));
  assert.equal(q.fits(big), true, 'the turn fits in the room kept for it');
});
