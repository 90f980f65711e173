/** The hand-off's bookkeeping (src/delivery/handoff.ts): when it leases, what it posts, what the thread gets. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createHandoff,
  HANDOFF_MAX_LOAD,
  type HandedOff,
  IN_TRANSIT,
  newHandoffCounters,
  STARTED,
  settleHandedOff,
  takeHandedOff,
} from '../../src/delivery/handoff.ts';
import type { AcceptedEvent } from '../../src/store/store.ts';

const accepted = (leased: number, total: number, duplicate = false): AcceptedEvent => ({
  event: {
    id: 'evt_1',
    projectId: 'prj_1',
    type: 'a.b',
    payload: { n: 1 },
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt: 1,
  },
  deliveries: Array.from({ length: total }, (_, i) => ({
    id: `dlv_${i}`,
    projectId: 'prj_1',
    eventId: 'evt_1',
    endpointId: `ep_${i}`,
    url: 'http://127.0.0.1:9/h',
    status: 'pending' as const,
    attempts: 0,
    nextAttemptAt: 1,
    leasedUntil: null,
    lastAttemptAt: null,
    createdAt: 1,
    updatedAt: 1,
  })),
  duplicate,
  payloadJson: '{"n":1}',
  leased,
});

test('leases only while the thread is open and lightly loaded; posts exactly the leased deliveries', () => {
  const sab = newHandoffCounters();
  const counters = new Int32Array(sab);
  let open = false;
  const posted: HandedOff[][] = [];
  const handoff = createHandoff({
    counters: sab,
    workerId: 'w1',
    leaseMs: 60_000,
    open: () => open,
    post: (items) => posted.push(items),
  });
  assert.equal(handoff.lease(), null, 'not open yet');
  open = true;
  assert.deepEqual(handoff.lease(), { workerId: 'w1', leaseMs: 60_000, max: HANDOFF_MAX_LOAD });
  Atomics.store(counters, STARTED, HANDOFF_MAX_LOAD - 5);
  assert.equal(handoff.lease()?.max, 5);
  Atomics.store(counters, STARTED, HANDOFF_MAX_LOAD);
  assert.equal(handoff.lease(), null, 'busy: the dispatcher claims instead');
  Atomics.store(counters, STARTED, 0);

  assert.equal(handoff.send([accepted(2, 3), accepted(0, 4)]), 2);
  assert.equal(handoff.send([accepted(0, 1)]), 0);
  assert.equal(posted.length, 1, 'nothing is posted when nothing was leased');
  assert.deepEqual(
    posted[0]!.map((i) => i.delivery.id),
    ['dlv_0', 'dlv_1'],
  );
  assert.equal(Atomics.load(counters, IN_TRANSIT), 2);
  assert.equal(handoff.lease()?.max, HANDOFF_MAX_LOAD - 2, 'deliveries on their way count as load');
  assert.equal('payload' in posted[0]![0]!.event, false, 'the payload crosses as text only');

  const claimed = takeHandedOff(structuredClone(posted[0]!));
  assert.equal(Atomics.load(counters, IN_TRANSIT), 2, 'in transit until started or handed back');
  settleHandedOff(counters, claimed.length);
  assert.equal(Atomics.load(counters, IN_TRANSIT), 0);
  assert.equal(claimed.length, 2);
  assert.deepEqual(claimed[0]!.event.payload, { n: 1 });
  assert.equal(claimed[0]!.payloadJson, '{"n":1}');
  assert.equal(claimed[1]!.delivery.endpointId, 'ep_1');
});
