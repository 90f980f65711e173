import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliveryState } from '@herald/client';
import { countsLine, deliveriesTable } from '../../src/cli/commands/endpoint-deliveries.ts';

test('countsLine: a count that reached atMost is at least that many', () => {
  assert.equal(countsLine({ pending: 214, parked: 0, atMost: 10_000 }), '214 pending, 0 parked');
  assert.equal(countsLine({ pending: 10_000, parked: 9_999, atMost: 10_000 }), '10000+ pending, 9999 parked');
  assert.equal(countsLine({ pending: 0, parked: 10_000, atMost: 10_000 }), '0 pending, 10000+ parked');
});

const delivery = (id: string, attempts: number, nextAttemptAt: string | null, inFlight: boolean) =>
  ({
    id,
    eventId: `evt_${id}`,
    endpointId: 'ep_1',
    url: 'https://hooks.example/',
    status: 'pending',
    attempts,
    nextAttemptAt,
    inFlight,
    lastAttemptAt: null,
    createdAt: '2026-12-02T08:50:22.960Z',
  }) satisfies DeliveryState;

test('deliveriesTable: a header, one line per delivery, columns as wide as their widest cell', () => {
  assert.deepEqual(
    deliveriesTable([
      delivery('dlv_1', 12, '2026-12-02T08:50:22.960Z', true),
      delivery('dlv_long', 0, null, false),
    ]),
    [
      'DELIVERY  EVENT         STATUS   ATTEMPTS  NEXT ATTEMPT              IN FLIGHT',
      'dlv_1     evt_dlv_1     pending  12        2026-12-02T08:50:22.960Z  yes',
      'dlv_long  evt_dlv_long  pending  0         -                         no',
    ],
  );
});
