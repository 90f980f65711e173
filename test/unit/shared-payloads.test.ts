/**
 * The dispatcher keeps one copy of an event for its claimed deliveries (shared-payloads.ts):
 * deliveries of one event read by different claims take the same event object, and so the same
 * payload text, while one of them holds it; small payloads are left as they are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSharedPayloads } from '../../src/delivery/shared-payloads.ts';
import type { ClaimedDelivery } from '../../src/store/store.ts';

const claimed = (eventId: string, payloadJson: string) =>
  ({
    delivery: { id: `dlv_${Math.random()}` },
    event: { id: eventId, projectId: 'prj_1', type: 'big', payload: null },
    payloadJson,
  }) as unknown as ClaimedDelivery;

test('deliveries of one large event from different claims share its event and text; small ones are left alone', () => {
  const share = createSharedPayloads();
  const large = `{"blob":"${'é'.repeat(100_000)}"}`;
  const first = [claimed('evt_1', large), claimed('evt_2', `${large} `)];
  const second = [claimed('evt_1', large.slice(0)), claimed('evt_2', `${large} `), claimed('evt_3', large)];
  for (const c of [...first, ...second]) share(c);
  assert.equal(second[0]!.event, first[0]!.event);
  assert.equal(second[1]!.event, first[1]!.event);
  assert.notEqual(second[2]!.event, first[0]!.event);
  assert.equal(second[1]!.payloadJson, `${large} `);
  const small = [claimed('evt_4', '{"a":1}'), claimed('evt_4', '{"a":1}')];
  for (const c of small) share(c);
  assert.notEqual(small[1]!.event, small[0]!.event);
});
