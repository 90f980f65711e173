import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { measureClockOffset, outOfStep, provenOffset, startClockCheck } from '../../src/clock-check.ts';
import { until } from '../support/wait-until.ts';

test('the offset is this clock minus the database one, read around the query', async () => {
  let t = 1_000_000;
  const clock = () => (t += 10);
  const reading = await measureClockOffset(async () => 1_000_010 - 5_000, clock);
  assert.deepEqual(reading, { offsetMs: 5_005, uncertaintyMs: 5 });
});

test('a reading that is no time is a failed reading, not an offset of NaN', async () => {
  for (const database of [Number.NaN, Number.POSITIVE_INFINITY]) {
    await assert.rejects(
      measureClockOffset(
        async () => database,
        () => 1_000_000,
      ),
      /read as no time/,
    );
  }
  await assert.rejects(
    measureClockOffset(
      async () => 1_000_000,
      () => Number.NaN,
    ),
    /read as no time/,
  );
});

test('the offset a reading proves is its midpoint less its uncertainty, towards 0', () => {
  assert.equal(provenOffset({ offsetMs: 1_500, uncertaintyMs: 600 }), 900);
  assert.equal(provenOffset({ offsetMs: -1_250, uncertaintyMs: 1_250 }), 0, 'a held reading proves nothing');
  assert.equal(provenOffset({ offsetMs: -90_000, uncertaintyMs: 3 }), -89_997);
  assert.ok(Object.is(provenOffset({ offsetMs: -5, uncertaintyMs: 10 }), 0), 'never -0');
});

test('out of step only beyond 1 s once the round trip is allowed for', () => {
  assert.equal(outOfStep({ offsetMs: 1_500, uncertaintyMs: 100 }), true);
  assert.equal(outOfStep({ offsetMs: -1_500, uncertaintyMs: 100 }), true);
  assert.equal(outOfStep({ offsetMs: 1_500, uncertaintyMs: 600 }), false, 'a slow query proves nothing');
  assert.equal(outOfStep({ offsetMs: 900, uncertaintyMs: 0 }), false);
});

test('one warning when the clock goes out of step, one line when it is back, failed readings skipped', async () => {
  const offsets: (number | Error)[] = [-90_000, -90_000, new Error('unreachable'), -90_000, 0, 0, 5_000];
  const lines: [string, object, string][] = [];
  const log = {
    warn: (f: object, m: string) => lines.push(['warn', f, m]),
    info: (f: object, m: string) => lines.push(['info', f, m]),
  };
  let i = 0;
  // The offset as each reading begins, i.e. what the reading before left: sampled on a timer
  // instead, a loaded machine (one run at load average 10) could miss the 20 ms the failed reading
  // leaves it unknown.
  const seen: (number | null)[] = [];
  let check: ReturnType<typeof startClockCheck> | undefined;
  check = startClockCheck({
    databaseNow: async () => {
      if (check) seen.push(check.offsetMs());
      // No reading past the script: a loaded machine that ran the timer again before the test
      // stopped it read offsets[7], undefined (a database time of NaN).
      if (i === offsets.length - 1) check?.stop();
      const o = offsets[i++]!;
      if (o instanceof Error) throw o;
      return 1_000_000 - o;
    },
    clock: () => 1_000_000,
    log,
    intervalMs: 20,
  });
  while (i < offsets.length) await sleep(5);
  await sleep(5);
  check.stop();
  assert.deepEqual(
    lines.map(([level, f]) => [level, (f as { offsetMs: number }).offsetMs]),
    [
      ['warn', -90_000],
      ['info', 0],
      ['warn', 5_000],
    ],
  );
  assert.match(lines[0]![2], /90000 ms behind the database's/);
  assert.ok(seen.includes(null), 'no offset while the database cannot be read');
  assert.equal(check.offsetMs(), 5_000);
});

test('a reading that is no time after a warning is no "in step again" line, and leaves the offset unknown', async () => {
  // Until 2026-12-07 its offset was NaN, which outOfStep takes for in step: an info line with
  // offsetMs NaN, and herald_clock_offset_seconds NaN.
  const lines: [string, object][] = [];
  const log = {
    warn: (f: object) => lines.push(['warn', f]),
    info: (f: object) => lines.push(['info', f]),
  };
  const times = [1_000_000 + 90_000, Number.NaN];
  let check: ReturnType<typeof startClockCheck> | undefined;
  let read = 0;
  const done = new Promise<void>((resolve) => {
    check = startClockCheck({
      databaseNow: async () => {
        const time = times[read++] as number;
        if (read === times.length) {
          check?.stop();
          setImmediate(resolve); // once this reading is taken in
        }
        return time;
      },
      clock: () => 1_000_000,
      log,
      intervalMs: 1,
    });
  });
  await done;
  assert.deepEqual(lines, [['warn', { offsetMs: -90_000, uncertaintyMs: 0 }]]);
  assert.equal(check?.offsetMs(), null);
});

test('a first reading that fails is tried again soon, not a whole interval later', async () => {
  // Until 2026-12-07 the next reading came a minute later: an API process on PostgreSQL whose first
  // reading failed wrote its due times and judged leases on its own clock meanwhile (offset 0,
  // store/lease-clock.ts), however far off it was. Once a reading has succeeded, a failed one
  // keeps the interval (the store keeps the last offset it proved).
  let reads = 0;
  const check = startClockCheck({
    databaseNow: async () => {
      reads++;
      if (reads === 1 || reads === 3) throw new Error('unreachable');
      return 1_000_000 - 60_000;
    },
    clock: () => 1_000_000,
    log: { warn: () => {}, info: () => {} },
    intervalMs: 3_600_000,
    firstRetryMs: 10,
  });
  try {
    await until('a second reading', () => check.offsetMs() !== null, 5_000);
    assert.equal(check.offsetMs(), 60_000);
    await sleep(50);
    assert.equal(reads, 2, 'no more readings until the interval once one has succeeded');
  } finally {
    check.stop();
  }
});
