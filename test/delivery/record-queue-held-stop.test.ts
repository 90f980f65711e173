/**
 * A stop (giveUpAfter) whose time ends while the dispatcher's thread is held, a write having found
 * the database out of reach before that time and the database back by the hold's end: the record
 * gets its one more try and is written, not given up. Until 2026-12-07 the give-up timer ran first
 * in the event loop's turn after the hold, before the refusal that came in time was read: the
 * refusal then found the queue giving up, and the attempt, already sent, was left unrecorded (its
 * delivery sent again after its lease). Real PostgreSQL, stopped and started again.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { createRecordQueue } from '../../src/delivery/record-queue.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { attemptRecord, eventInput, projectWithEndpoints, SECOND, T0 } from '../store/helpers.ts';
import { startPostgres } from '../support/postgres.ts';

const BIN = process.env.HERALD_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/** Holds this thread until the server on `port` accepts connections (pg_isready), at least `ms`. */
function holdUntilReady(port: number, ms: number): void {
  const start = performance.now();
  for (;;) {
    const ready = spawnSync(`${BIN}/pg_isready`, ['-h', '127.0.0.1', '-p', String(port), '-t', '1']);
    if (ready.status === 0 && performance.now() - start >= ms) return;
    assert.ok(performance.now() - start < 60_000, 'the server starts again');
  }
}

test('a write refused before the stop gives up, read while the thread was held, is tried again once and written', async () => {
  const server = await startPostgres();
  const store = new PostgresStore(await server.createDatabase());
  await store.migrate();
  try {
    const { project } = await projectWithEndpoints(store, 1);
    const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
    const [claim] = await store.claimDueDeliveries({
      limit: 1,
      leaseMs: 60 * SECOND,
      now: T0,
      workerId: 'w1',
    });
    assert.ok(claim);
    await server.down('fast');

    const errors: unknown[] = [];
    let tries = 0;
    const queue = createRecordQueue({
      store: {
        recordAttempts: (batch, options) => {
          const trying = store.recordAttempts(batch, options);
          // The second try (the first found the server down): a stop comes as it is under way, and
          // the thread is held, in a check-phase callback (as the tail of a busy turn), until the
          // server is back and past the stop's 100 ms. Its refusal came in time, read after the hold.
          if (++tries === 2) {
            queue.giveUpAfter(100);
            setImmediate(() => {
              void server.up();
              holdUntilReady(server.port, 300);
            });
          }
          return trying;
        },
      },
      failureThreshold: 10,
      clock: () => T0 + 1,
      onWritten: () => {},
      onEndpointDisabled: () => {},
      onError: (error) => errors.push(error),
    });
    queue.add(attemptRecord(claim.delivery, claim.event));
    await queue.flush();

    assert.deepEqual(errors, [], 'not given up');
    assert.equal(queue.givenUp, 0);
    assert.ok(tries >= 3, `tried ${tries} times`);
    const delivery = await store.getDelivery(project.id, accepted!.deliveries[0]!.id);
    assert.equal(delivery?.attempts, 1, 'its attempt is recorded');
  } finally {
    await store.close();
    await server.stop();
  }
});
