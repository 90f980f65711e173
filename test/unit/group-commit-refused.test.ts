/**
 * The PostgreSQL group commit and a job refused on its own input (JobsRefused: an accept over
 * HERALD_MAX_DELIVERIES_PER_REQUEST): its caller gets its error, and the other jobs of the batch
 * are written again together in one transaction, not one by one; a job the runner defers (DEFERRED)
 * is written by the next one; a job submitted with a wait that no transaction has taken within it
 * rejects with StoreQueueWaitError. A pool that answers every query.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { DEFERRED, GroupCommit, JobsRefused } from '../../src/store/postgres/group-commit.ts';
import { BEGIN } from '../../src/store/postgres/pool.ts';
import { isStoreBusy, StoreQueueWaitError } from '../../src/store/store-unavailable.ts';

function answeringPool(): { pool: Pool; statements: string[] } {
  const statements: string[] = [];
  const client = {
    query: async (sql: string) => {
      statements.push(sql);
      return { rows: [], rowCount: 0 };
    },
    release: () => {},
  };
  return { pool: { connect: async () => client } as unknown as Pool, statements };
}

test('a refused job rejects alone; the rest of its batch commits together in one more transaction', async () => {
  const { pool, statements } = answeringPool();
  const runs: number[][] = [];
  const refusal = new Error('job 2: too many deliveries');
  const writes = new GroupCommit<number, string>(
    pool,
    async (_client, jobs) => {
      runs.push([...jobs]);
      if (jobs.includes(2) || jobs.includes(4)) {
        throw new JobsRefused(
          new Map(
            jobs.filter((j) => j === 2 || j === 4).map((j) => [j, new Error(`${refusal.message} ${j}`)]),
          ),
        );
      }
      return jobs.map((j) => `wrote ${j}`);
    },
    () => {},
  );
  const settled = await Promise.allSettled([1, 2, 3, 4, 5].map((j) => writes.submit(j)));
  assert.deepEqual(
    settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
    ['wrote 1', 'job 2: too many deliveries 2', 'wrote 3', 'job 2: too many deliveries 4', 'wrote 5'],
  );
  assert.deepEqual(runs, [
    [1, 2, 3, 4, 5],
    [1, 3, 5],
  ]);
  assert.equal(writes.commits, 1);
  assert.deepEqual(statements, [BEGIN, 'ROLLBACK', BEGIN, 'COMMIT']);
});

test('a refused job alone, or in a batch that fails for another reason, gets its own error', async () => {
  const { pool } = answeringPool();
  const other = new Error('another failure');
  const writes = new GroupCommit<number, string>(
    pool,
    async (_client, jobs) => {
      if (jobs.includes(9) && jobs.length > 1) throw other;
      if (jobs.includes(2)) throw new JobsRefused(new Map([[2, new Error('refused 2')]]));
      return jobs.map((j) => `wrote ${j}`);
    },
    () => {},
  );
  await assert.rejects(writes.submit(2), /refused 2/);
  // Job 9 fails the shared batch (not a refusal): each job is written alone, 2 refused on its own.
  const settled = await Promise.allSettled([writes.submit(9), writes.submit(2), writes.submit(3)]);
  assert.deepEqual(
    settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
    ['wrote 9', 'refused 2', 'wrote 3'],
  );
});

/** A group commit writing `perTransaction` jobs a transaction (the rest DEFERRED). */
function deferringWrites(perTransaction: number) {
  const { pool } = answeringPool();
  const runs: number[][] = [];
  const writes = new GroupCommit<number, string>(
    pool,
    async (_client, jobs) => {
      runs.push([...jobs]);
      return jobs.map((j, i) => (i < perTransaction ? `wrote ${j}` : DEFERRED));
    },
    () => {},
  );
  return { writes, runs };
}

test('a job the runner defers goes to the next transaction, ahead of later ones, and drain waits for it', async () => {
  // At most two jobs a transaction, as accept-batch.ts defers accepts past its deliveries.
  const { writes, runs } = deferringWrites(2);
  const first = [1, 2, 3, 4, 5].map((j) => writes.submit(j));
  await writes.drain();
  const later = writes.submit(6);
  assert.deepEqual(await Promise.all(first), ['wrote 1', 'wrote 2', 'wrote 3', 'wrote 4', 'wrote 5']);
  assert.equal(await later, 'wrote 6');
  assert.deepEqual(runs, [[1, 2, 3, 4, 5], [3, 4, 5], [5], [6]]);
  assert.equal(writes.commits, 4);
});

test('a job with a wait that no transaction takes within it rejects busy, unwritten; one taken is written however long its transaction takes; one without a wait waits', async () => {
  // One job a transaction, the others back to the queue (DEFERRED), their waits going on. No
  // window of wall time: the first transaction lasts until the 100 ms waits of jobs 1 and 3 have
  // run out (a condition on the clock, however late it comes), and job 2's wait (60 s) is one no
  // transaction here comes near. Submitted from a timer, so the flush (setImmediate, this loop
  // turn) takes all four before any of their timers can run.
  const { pool } = answeringPool();
  const runs: number[][] = [];
  let waitsOver = 0;
  const writes = new GroupCommit<number, string>(
    pool,
    async (_client, jobs) => {
      runs.push([...jobs]);
      while (Date.now() <= waitsOver) await sleep(10);
      return jobs.map((j, i) => (i === 0 ? `wrote ${j}` : DEFERRED));
    },
    () => {},
  );
  await sleep(0);
  const pending = [writes.submit(1, 100), writes.submit(2, 60_000), writes.submit(3, 100), writes.submit(4)];
  waitsOver = Date.now() + 100;
  const settled = await Promise.all(
    pending.map((p) =>
      p.then(
        (value) => ({ value, error: null as unknown }),
        (error: unknown) => ({ value: null, error }),
      ),
    ),
  );
  assert.deepEqual(
    settled.map((s) => s.value),
    ['wrote 1', 'wrote 2', null, 'wrote 4'],
  );
  // 1 was taken within its wait and written after it; 3 came back to the queue past it.
  assert.ok(settled[2]!.error instanceof StoreQueueWaitError && isStoreBusy(settled[2]!.error));
  assert.deepEqual(runs, [[1, 2, 3, 4], [2, 4], [4]]);
  assert.equal(writes.commits, 3);
});
