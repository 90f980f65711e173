import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { nextAttemptDelayMs, parseRetryAfter, resolveSchedule } from '../../src/domain/retry-schedule.ts';

const DAY = 24 * 3_600_000;
const fixed = (r: number) => () => r;
const base = { schedule: [5, 300], jitter: 0.2, random: fixed(0.5) };

describe('nextAttemptDelayMs', () => {
  test('entry i is the wait after attempt i + 1; the middle of the jitter range is the step', () => {
    assert.equal(nextAttemptDelayMs({ ...base, attemptNumber: 1 }), 5_000);
    assert.equal(nextAttemptDelayMs({ ...base, attemptNumber: 2 }), 300_000);
  });

  test('jitter stays within ±jitter of the step', () => {
    assert.equal(nextAttemptDelayMs({ ...base, attemptNumber: 1, random: fixed(0) }), 4_000);
    const top = nextAttemptDelayMs({ ...base, attemptNumber: 1, random: fixed(0.999999) })!;
    assert.ok(top > 5_990 && top <= 6_000, String(top));
    for (let i = 0; i < 200; i++) {
      const d = nextAttemptDelayMs({ ...base, attemptNumber: 2, random: Math.random })!;
      assert.ok(d >= 240_000 && d <= 360_000, String(d));
    }
  });

  test('fractions of a second are allowed and jitter 0 is exact', () => {
    assert.equal(
      nextAttemptDelayMs({ schedule: [0.05], jitter: 0, random: Math.random, attemptNumber: 1 }),
      50,
    );
  });

  test('the default schedule allows 8 attempts: 7 retries, then exhausted', () => {
    const s = DEFAULT_DELIVERY.retrySchedule;
    for (let n = 1; n <= 7; n++)
      assert.notEqual(
        nextAttemptDelayMs({ schedule: s, jitter: 0.2, random: Math.random, attemptNumber: n }),
        null,
      );
    assert.equal(
      nextAttemptDelayMs({ schedule: s, jitter: 0.2, random: Math.random, attemptNumber: 8 }),
      null,
    );
    assert.equal(
      nextAttemptDelayMs({ schedule: [], jitter: 0, random: Math.random, attemptNumber: 1 }),
      null,
    );
  });

  test('every step of the default schedule stays within ±20 %, at both ends of random()', () => {
    const s = DEFAULT_DELIVERY.retrySchedule;
    assert.deepEqual([...s], [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]);
    s.forEach((step, i) => {
      const at = (r: number) =>
        nextAttemptDelayMs({ schedule: s, jitter: 0.2, random: fixed(r), attemptNumber: i + 1 })!;
      assert.equal(at(0), Math.round(step * 800), `low end of step ${i}`);
      assert.equal(at(0.5), step * 1000, `middle of step ${i}`);
      assert.ok(at(0.9999999) <= step * 1200 && at(0.9999999) > step * 1199, `high end of step ${i}`);
    });
  });

  test('out-of-range jitter and negative steps never give a negative delay', () => {
    assert.equal(nextAttemptDelayMs({ schedule: [10], jitter: 5, random: fixed(0), attemptNumber: 1 }), 0);
    assert.equal(nextAttemptDelayMs({ schedule: [-3], jitter: 0.2, random: fixed(0), attemptNumber: 1 }), 0);
  });

  test('Retry-After is honoured within [step, 24 h]', () => {
    const one = { ...base, attemptNumber: 1, jitter: 0 };
    assert.equal(nextAttemptDelayMs({ ...one, retryAfterMs: 60_000 }), 60_000);
    assert.equal(nextAttemptDelayMs({ ...one, retryAfterMs: 1_000 }), 5_000, 'never sooner than the step');
    assert.equal(nextAttemptDelayMs({ ...one, retryAfterMs: 3 * DAY }), DAY, 'never later than 24 h');
    assert.equal(nextAttemptDelayMs({ ...one, retryAfterMs: null }), 5_000);
    assert.equal(nextAttemptDelayMs({ ...one, retryAfterMs: Number.NaN }), 5_000);
    assert.equal(nextAttemptDelayMs({ ...one, retryAfterMs: Number.POSITIVE_INFINITY }), DAY);
    assert.equal(nextAttemptDelayMs({ ...one, retryAfterMs: 60_000.4 }), 60_000, 'whole milliseconds');
    // a step longer than a day is kept: Retry-After only ever delays
    const long = { schedule: [2 * 86_400], jitter: 0, random: fixed(0.5), attemptNumber: 1 };
    assert.equal(nextAttemptDelayMs({ ...long, retryAfterMs: 3 * DAY }), 2 * DAY);
    assert.equal(
      nextAttemptDelayMs({ ...base, attemptNumber: 3, retryAfterMs: 60_000 }),
      null,
      'an exhausted schedule stays exhausted',
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0);
  test('delta-seconds', () => {
    assert.equal(parseRetryAfter('1', now), 1_000);
    assert.equal(parseRetryAfter(' 120 ', now), 120_000);
    assert.equal(parseRetryAfter('0', now), 0);
    // absurdly long values still parse: the schedule clamps them to 24 h
    assert.equal(parseRetryAfter('9'.repeat(400), now), Number.POSITIVE_INFINITY);
  });
  test('HTTP-date (IMF-fixdate, RFC 850, asctime); past dates are 0', () => {
    assert.equal(parseRetryAfter('Tue, 01 Jan 2030 12:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('Tuesday, 01-Jan-30 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Tue Jan  1 12:00:10 2030', now) !== null, true);
    assert.equal(parseRetryAfter('Mon, 01 Jan 2029 12:00:00 GMT', now), 0);
  });
  test("an HTTP-date is GMT whatever the server's time zone, asctime (which names none) too", () => {
    const zone = process.env.TZ;
    try {
      for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
        process.env.TZ = tz;
        assert.equal(parseRetryAfter('Tue Jan  1 12:00:10 2030', now), 10_000, tz);
        assert.equal(parseRetryAfter('Tue, 01 Jan 2030 12:01:00 GMT', now), 60_000, tz);
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
  test("delta-seconds joined on one line by a proxy ('120, 120'): the first; an HTTP-date's comma is no list", () => {
    // Until 2026-12-08 a list was read as no Retry-After: the retry came on the schedule's 5 s.
    assert.equal(parseRetryAfter('120, 120', now), 120_000);
    assert.equal(parseRetryAfter('120,120', now), 120_000);
    assert.equal(parseRetryAfter(' 30 , 60 ', now), 30_000);
    assert.equal(parseRetryAfter('120, 120\n5', now), 120_000);
    assert.equal(parseRetryAfter('Tue, 01 Jan 2030 12:01:00 GMT', now), 60_000);
    for (const v of ['120,', ', 120', '120, soon', '120, -1', '1.5, 1.5'])
      assert.equal(parseRetryAfter(v, now), null, v);
  });
  test('absent or unparsable → null', () => {
    for (const v of [undefined, '', 'soon', '-1', '1.5', '1e3', 'NaN'])
      assert.equal(parseRetryAfter(v, now), null, v);
  });
});

test('resolveSchedule: endpoint, else project, else default', () => {
  assert.deepEqual(resolveSchedule([1], [2], [3]), [1]);
  assert.deepEqual(resolveSchedule(null, [2], [3]), [2]);
  assert.deepEqual(resolveSchedule(undefined, null, [3]), [3]);
  assert.deepEqual(resolveSchedule([], [2], [3]), [], 'an empty schedule means no retries');
});
