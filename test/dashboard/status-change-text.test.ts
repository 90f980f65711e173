/** The endpoint overview's "Disabled and enabled" lines (src/dashboard/app/status-change-text.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OperationalEvent } from '../../src/dashboard/app/api/types.ts';
import { statusChangeText } from '../../src/dashboard/app/status-change-text.ts';

const op = (type: OperationalEvent['type'], data: Record<string, unknown>): OperationalEvent =>
  ({ id: 'op_1', projectId: 'prj_1', type, data, createdAt: '2026-12-06T00:00:00.000Z' }) as OperationalEvent;

test("a disable's parked count says it is the disable's: those in flight then are parked after it", () => {
  assert.equal(
    statusChangeText(
      op('endpoint.disabled', { reason: 'consecutive_failures', consecutiveFailures: 10, parked: 296 }),
    ),
    'Disabled after 10 failed attempts in a row; parked 296 deliveries at the disable',
  );
  assert.equal(
    statusChangeText(op('endpoint.disabled', { reason: 'gone', consecutiveFailures: 1, parked: 0 })),
    'Disabled because the receiver answered 410 Gone; parked nothing at the disable',
  );
  assert.equal(
    statusChangeText(op('endpoint.recovered', { resumed: 1234 })),
    'Enabled; resumed 1,234 deliveries parked',
  );
});
