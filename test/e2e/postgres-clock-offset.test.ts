/**
 * Processes on one PostgreSQL compare times each wrote with its own clock (leases, due times, rate
 * limits), so a host whose clock is off (broken NTP) makes duplicates and early or late retries.
 * Herald cannot fix the clock; it must say so: a process whose clock is out of step with the
 * database's logs one warning naming the offset, and exports it as herald_clock_offset_seconds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { usePostgresProcesses } from './postgres-processes.ts';

const TOKEN = 'e2e-clock-offset-token-0123456789abcdef';
const cluster = usePostgresProcesses(TOKEN);
const PRELOAD = fileURLToPath(new URL('../support/shifted-clock.ts', import.meta.url));

const offsetMetric = async (url: string): Promise<number | undefined> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('herald_clock_offset_seconds '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

test('a process whose clock is 90 s ahead of the database says so; one in step does not', async () => {
  const database = await cluster.pg.createDatabase();
  const inStep = await cluster.start(database, 'api');
  const ahead = await cluster.start(database, 'worker', {
    NODE_OPTIONS: `--import=${PRELOAD}`,
    HERALD_TEST_CLOCK_SHIFT_MS: '90000',
  });
  let warned: Record<string, unknown>[] = [];
  for (let i = 0; i < 50 && warned.length === 0; i++) {
    warned = ahead.logLines().filter((l) => Number(l.level) === 40 && String(l.msg).startsWith('clock:'));
    if (warned.length === 0) await sleep(100);
  }
  assert.equal(warned.length, 1, JSON.stringify(ahead.logLines()).slice(0, 3000));
  assert.match(String(warned[0]!.msg), /ahead of the database's/);
  // The reading's midpoint is off by at most its uncertainty (half its round trip), which a start
  // under load stretches past a second or two (87,916 ms once seen at load ~20, against a fixed
  // ±2,000 here until 2026-12-07): each bound allows the reading's own uncertainty, and no more.
  const { offsetMs, uncertaintyMs } = warned[0]! as { offsetMs: number; uncertaintyMs: number };
  assert.ok(
    Number.isFinite(uncertaintyMs) && uncertaintyMs >= 0 && uncertaintyMs < 10_000,
    String(uncertaintyMs),
  );
  assert.ok(Math.abs(offsetMs - 90_000) <= uncertaintyMs + 50, `${offsetMs} ± ${uncertaintyMs}`);
  // The metric exports what that reading proves (clock-check.ts provenOffset): its midpoint moved
  // towards 0 by its uncertainty, so between 90 s less twice the uncertainty and 90 s.
  const aheadOffset = await offsetMetric(ahead.url);
  assert.ok(
    aheadOffset !== undefined &&
      aheadOffset * 1000 <= 90_000 + 50 &&
      aheadOffset * 1000 >= 90_000 - 2 * uncertaintyMs - 50,
    `${aheadOffset} s, the reading ±${uncertaintyMs} ms`,
  );

  const inStepOffset = await offsetMetric(inStep.url);
  assert.ok(inStepOffset !== undefined && Math.abs(inStepOffset) < 1, String(inStepOffset));
  assert.deepEqual(
    inStep.logLines().filter((l) => String(l.msg).startsWith('clock:')),
    [],
    'a process in step logs nothing about its clock',
  );
});
