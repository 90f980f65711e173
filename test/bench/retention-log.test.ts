import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retentionFailure, retentionRoundEnd } from '../../bench/lib/retention-log.ts';

const purging = {
  level: 30,
  time: 1_000,
  msg: 'retention: purging history older than 2026-01-01T00:00:00.000Z',
};
const progress = {
  level: 30,
  time: 11_000,
  events: 900,
  ms: 10_000,
  msg: 'retention: 900 events, 1800 deliveries, 1800 attempts and 0 operational events purged so far (10 s)',
};
const end = {
  level: 30,
  time: 12_500,
  events: 1_000,
  deliveries: 2_000,
  attempts: 2_000,
  operationalEvents: 0,
  batches: 20,
  ms: 11_600,
  msg: 'retention: purged 1000 events, 2000 deliveries, 2000 attempts and 0 operational events older than …',
};

test("a round's end is its end line, not its first or progress lines", () => {
  assert.equal(retentionRoundEnd([purging, progress]), null);
  assert.deepEqual(retentionRoundEnd([purging, progress, end]), {
    at: 12_500,
    ms: 11_600,
    events: 1_000,
    deliveries: 2_000,
    attempts: 2_000,
    batches: 20,
  });
});

test('a failed round is a retention line at warn or above', () => {
  assert.equal(retentionFailure([purging, progress, end, { level: 40, msg: 'dispatcher: slow' }]), null);
  const failed = { level: 50, msg: 'retention: a purge batch failed; trying again next round' };
  assert.match(retentionFailure([purging, failed]) ?? '', /a purge batch failed/);
});
