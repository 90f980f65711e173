/**
 * Bounded database calls on PostgreSQL (pool.ts): a session paused inside a transaction is ended
 * and frees its locks; a call on a backend that stopped answering rejects as the database
 * unreachable (503 in the API) within the bound instead of hanging; migrations are not bounded.
 * Bounds are shortened here; POOL_BOUNDS keeps their order.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { MIGRATION_LOCK_KEY } from '../../src/store/postgres/migrate.ts';
import {
  APPLICATION_NAME,
  createPool,
  POOL_BOUNDS,
  type PoolBounds,
  QueryTimeoutError,
} from '../../src/store/postgres/pool.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { isStoreBusy, isStoreUnreachable } from '../../src/store/store-unavailable.ts';
import { withPostgres } from '../support/postgres.ts';
import { attemptRecord, eventInput, projectWithEndpoints, T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

/** As POOL_BOUNDS, in the same order, shorter. */
const SHORT: PoolBounds = { idleInTransactionMs: 1_000, lockMs: 1_200, queryMs: 1_500, statementMs: 2_000 };

/** Rejects when `p` has not settled within `ms` (a hang fails the test instead of stalling it). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function observer(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'test-observer' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The pids of Herald's connections to this database. */
async function heraldBackends(obs: pg.Client): Promise<number[]> {
  const { rows } = await obs.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
    [APPLICATION_NAME],
  );
  return rows.map((r) => r.pid);
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('bounded PostgreSQL calls', () => {
  test("POOL_BOUNDS: a paused session is ended before a lock wait fails, which fails before the client gives up, before the server's statement_timeout", () => {
    const b = POOL_BOUNDS;
    assert.ok(b.idleInTransactionMs < b.lockMs && b.lockMs < b.queryMs && b.queryMs < b.statementMs);
    assert.ok(b.idleInTransactionMs >= 10_000, 'well above any gap inside a Herald transaction');
  });

  test('a session paused inside a transaction holding an endpoint row lock is ended; the attempt record behind it goes through', async () => {
    const url = await server.createDatabase();
    const store = new PostgresStore(url, {
      bounds: { ...SHORT, lockMs: 3_000, queryMs: 6_000, statementMs: 8_000 },
    });
    await store.migrate();
    // A worker paused mid-transaction: a connection configured as Herald's that locks the
    // endpoint row as attempt records do (attempt-records.ts), then never commits.
    const paused = createPool(url, 1, SHORT);
    const holder = await paused.connect();
    try {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      await store.acceptEvents(project.id, [eventInput('a')], T0);
      const [claimed] = await store.claimDueDeliveries({
        limit: 1,
        leaseMs: 60_000,
        now: T0,
        workerId: 'w1',
      });
      assert.ok(claimed);
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 FOR NO KEY UPDATE', [
        project.id,
        endpoints[0]!.id,
      ]);
      const started = Date.now();
      // A failure: it changes the endpoint's count, so it locks the row for writing (a success on a
      // count of 0 writes nothing there and does not wait: attempt-records.ts).
      const result = await within(
        store.recordAttempts([attemptRecord(claimed.delivery, claimed.event, { outcome: 'failed' })], {
          now: T0,
          failureThreshold: 5,
        }),
        5_000,
        'the attempt record behind the paused session',
      );
      const waited = Date.now() - started;
      assert.deepEqual(result.disabledEndpoints, []);
      assert.ok(waited >= SHORT.idleInTransactionMs - 200, `it waited for the lock (${waited} ms)`);
      assert.equal((await store.getDelivery(project.id, claimed.delivery.id))?.status, 'pending');
      assert.equal((await store.getEndpoint(project.id, endpoints[0]!.id))?.consecutiveFailures, 1);
      // The paused session was ended by the server: its transaction is gone, its connection too.
      await assert.rejects(holder.query('SELECT 1'));
    } finally {
      holder.release(true);
      await paused.end();
      await store.close();
    }
  });

  test('a call on a stopped backend rejects within the bound as the database unreachable (pool, transaction, group commit); the pool recovers', async () => {
    const url = await server.createDatabase();
    const store = new PostgresStore(url, { max: 1, bounds: SHORT });
    await store.migrate();
    const obs = await observer(url);
    const { project, endpoints } = await projectWithEndpoints(store, 1);
    const calls: [string, () => Promise<unknown>][] = [
      ['a read (pool.query)', () => store.getProject(project.id)],
      [
        'an endpoint update (transaction)',
        () => store.updateEndpoint(project.id, endpoints[0]!.id, { name: 'renamed' }, T0),
      ],
      ['an accept (group commit)', () => store.acceptEvents(project.id, [eventInput('a')], T0)],
    ];
    try {
      for (const [what, call] of calls) {
        await store.ping(); // the pool's one connection is open and idle
        await waitFor(async () => (await heraldBackends(obs)).length === 1, 5_000, 'one herald backend');
        const [pid] = await heraldBackends(obs);
        process.kill(pid!, 'SIGSTOP');
        let error: unknown;
        const started = Date.now();
        try {
          await within(call(), 6_000, what).then(
            () => assert.fail(`${what} succeeded on a stopped backend`),
            (e: unknown) => {
              error = e;
            },
          );
        } finally {
          process.kill(pid!, 'SIGCONT');
        }
        const took = Date.now() - started;
        assert.ok(error instanceof QueryTimeoutError, `${what}: ${String(error)}`);
        assert.ok(isStoreUnreachable(error), `${what}: answered 503 HERALD_ERR_DATABASE_UNAVAILABLE`);
        assert.ok(took >= SHORT.queryMs - 100, `${what}: ${took} ms`);
        // One bound, not one for the call and another for a ROLLBACK queued behind it.
        assert.ok(took < SHORT.queryMs * 2 - 200, `${what}: ${took} ms`);
        // The connection was closed, not handed back: the backend, running again, finds its
        // client gone and exits (a transaction it had open rolls back).
        await waitFor(
          async () => !(await heraldBackends(obs)).includes(pid!),
          5_000,
          `${what}: backend ${pid} gone`,
        );
        // The next call opens a new connection.
        assert.equal((await within(store.getProject(project.id), 5_000, 'after'))?.id, project.id);
      }
      const event = await store.listEvents(project.id, { limit: 10 });
      assert.equal(event.data.length, 0, 'the accept whose connection stopped was not committed');
    } finally {
      await obs.end();
      await store.close();
    }
  });

  test('a group transaction that fails on a lock timeout fails all its accepts at once, not each again alone after another lock wait', async () => {
    const url = await server.createDatabase();
    const lockMs = 1_000;
    const store = new PostgresStore(url, {
      bounds: { ...SHORT, idleInTransactionMs: 60_000, lockMs, queryMs: 6_000, statementMs: 8_000 },
    });
    await store.migrate();
    const holder = new pg.Client({ connectionString: url, application_name: 'test-holder' });
    await holder.connect();
    try {
      const { project } = await projectWithEndpoints(store, 1);
      // A session keeps the project row locked past the lock timeout (an admin's long transaction).
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [project.id]);
      const started = Date.now();
      // Submitted in one tick: one group transaction, which waits for the lock and fails.
      const settled = await within(
        Promise.all(
          ['a', 'b', 'c', 'd'].map((type) =>
            store.acceptEvents(project.id, [eventInput(type)], T0).then(
              () => ({ error: null, at: Date.now() }),
              (error: unknown) => ({ error, at: Date.now() }),
            ),
          ),
        ),
        15_000,
        'the accepts behind the lock',
      );
      for (const s of settled) {
        assert.ok(isStoreBusy(s.error), `busy: ${String(s.error)}`);
        const took = s.at - started;
        assert.ok(took < 2 * lockMs, `answered after ${took} ms (one lock wait is ${lockMs} ms)`);
      }
      await holder.query('ROLLBACK');
      assert.equal((await store.listEvents(project.id, { limit: 10 })).data.length, 0);
      await store.acceptEvents(project.id, [eventInput('a')], T0);
    } finally {
      await holder.end();
      await store.close();
    }
  });

  test("migrations are not bounded: migrate waits out another process's migration lock held past every bound", async () => {
    const url = await server.createDatabase();
    const store = new PostgresStore(url, { bounds: SHORT });
    const obs = await observer(url);
    try {
      await obs.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      const holdMs = SHORT.statementMs + 500;
      const release = setTimeout(() => {
        void obs.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
      }, holdMs);
      const started = Date.now();
      try {
        const result = await within(store.migrate(), holdMs + 10_000, 'migrate');
        assert.ok(result.applied.length > 0);
      } finally {
        clearTimeout(release);
      }
      assert.ok(Date.now() - started >= holdMs - 100);
      // The store's own calls are bounded, and work.
      assert.equal(await store.getProject('prj_none'), null);
    } finally {
      await obs.end();
      await store.close();
    }
  });
});
