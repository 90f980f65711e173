/**
 * Retention on PostgreSQL takes its cutoff from the database's clock, not the process's: a worker
 * whose clock is far ahead (a host booted with a wrong clock, before NTP put it right; the first
 * round runs 30 s after start) must not delete history that is not yet old.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createPurger } from '../../src/retention/purger.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';
import { attemptRecord, eventInput, projectWithEndpoints } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

const DAY = 24 * 3_600_000;

test("a worker whose clock is a year ahead purges nothing younger than the retention by the database's clock", async () => {
  const store = new PostgresStore(await server.createDatabase());
  await store.migrate();
  try {
    const now = Date.now();
    const { project } = await projectWithEndpoints(store, 1, now);
    const accepted = await store.acceptEvents(project.id, [eventInput(), eventInput()], now);
    const claimed = await store.claimDueDeliveries({ limit: 10, leaseMs: 60_000, now, workerId: 'w' });
    assert.equal(claimed.length, 2);
    await store.recordAttempts(
      claimed.map((c) => attemptRecord(c.delivery, c.event, { startedAt: now, workerId: 'w' })),
      { now, failureThreshold: 10 },
    );
    assert.equal(accepted.length, 2);

    const purger = createPurger({ store, retentionMs: 30 * DAY, clock: () => Date.now() + 400 * DAY });
    const purged = await purger.runOnce();
    assert.equal(purged.events, 0, 'a day-old history is kept');
    assert.equal((await store.listEvents(project.id, { limit: 10 })).data.length, 2);

    // The database's clock decides both ways: with a retention shorter than the events' age, they go.
    const later = createPurger({ store, retentionMs: 1, clock: () => Date.now() - 400 * DAY });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await later.runOnce()).events, 2);
  } finally {
    await store.close();
  }
});
