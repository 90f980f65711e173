import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statsChart, statsRangeWords } from '../../src/cli/commands/endpoint-history.ts';

const bucket = (start: string, succeeded: number, failed: number) => ({
  start,
  succeeded,
  failed,
  avgDurationMs: succeeded + failed ? 12.4 : null,
  p95DurationMs: succeeded + failed ? 40 : null,
});

test('statsChart: one line per bucket with attempts, bars against the busiest bucket', () => {
  const lines = statsChart([
    bucket('2026-12-02T08:00:00.000Z', 30, 10),
    bucket('2026-12-02T09:00:00.000Z', 0, 0),
    bucket('2026-12-02T10:00:00.000Z', 10, 0),
    bucket('2026-12-02T11:00:00.000Z', 0, 1),
  ])
    .trimEnd()
    .split('\n');
  assert.equal(lines.length, 3, 'the empty bucket is left out');
  assert.match(
    lines[0]!,
    /^2026-12-02T08:00:00.000Z +30 ok +10 failed {2}avg +12 ms {2}p95 +40 ms {2}█{30}░{10}$/,
  );
  assert.match(lines[1]!, / █{10}$/);
  assert.match(lines[2]!, / +0 ok +1 failed .* ░$/, 'a failure always shows, however small');
});

test('statsChart: a range without attempts has no lines (the command says so on stderr)', () => {
  assert.equal(statsChart([]), '');
  assert.equal(statsChart([bucket('2026-12-02T08:00:00.000Z', 0, 0)]), '');
});

test('statsRangeWords: the range the API read, as the flags given set it', () => {
  assert.equal(statsRangeWords({}), 'in the last 24 hours');
  assert.equal(statsRangeWords({ since: '2026-12-01' }), 'since 2026-12-01');
  // The API's since defaults to 24 h before until, not to a --since that was not given.
  assert.equal(statsRangeWords({ until: '2026-12-02' }), 'in the 24 hours before 2026-12-02');
  assert.equal(
    statsRangeWords({ since: '2026-12-01', until: '2026-12-02' }),
    'between 2026-12-01 and 2026-12-02',
  );
});
