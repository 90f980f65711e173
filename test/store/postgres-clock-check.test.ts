/**
 * The clock check against a real PostgreSQL (src/clock-check.ts) when this process's thread is held
 * during a reading (synchronous work, a starved CPU; or the query waiting for a free connection of
 * a busy pool): the reading's round trip takes the held time, and the database read its clock
 * somewhere in it. Until 2026-12-07 herald_clock_offset_seconds was the round trip's midpoint
 * against the database's time: a process on the database's own machine, its thread held 2.5 s
 * while the reading was under way, exported an offset of about 1.25 s, past the documented alert's
 * 1 s (operations.md "Clock out of step"), though its clock was in step. The warning line already
 * allowed for the round trip; the offset exported now does too.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOCK_OFFSET_WARN_MS, startClockCheck } from '../../src/clock-check.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { holdThread } from '../support/hold-thread.ts';
import { withPostgres } from '../support/postgres.ts';

const server = await withPostgres();
after(() => server.stop());

/** Holds this thread's event loop for `ms`, as synchronous work would. */
test('a reading taken while this thread was held exports no offset the clocks do not have, and logs nothing', async () => {
  const store = new PostgresStore(await server.createDatabase());
  await store.migrate();
  try {
    await store.databaseNow(); // a connection open and idle: the reading waits for nothing else
    const lines: string[] = [];
    const log = {
      warn: (_: object, m: string) => lines.push(m),
      info: (_: object, m: string) => lines.push(m),
    };
    const check = startClockCheck({ databaseNow: () => store.databaseNow(), log, intervalMs: 3_600_000 });
    try {
      holdThread(2_500); // the first reading is under way: its query goes out, or its answer is read, after this
      while (check.offsetMs() === null) await sleep(10);
      const offset = check.offsetMs()!;
      assert.ok(Math.abs(offset) < CLOCK_OFFSET_WARN_MS, `an offset of ${offset} ms exported`);
      assert.deepEqual(lines, []);
    } finally {
      check.stop();
    }
  } finally {
    await store.close();
  }
});
