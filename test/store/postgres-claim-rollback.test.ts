/**
 * A claim whose transaction fails (a deadlock, a serialization failure, a statement timeout, a
 * connection cut) on a real PostgreSQL: nothing of it is leased, and the dispatcher claims again a
 * second later. The turns it would have given (claim-turns.ts) must come in the claims after it,
 * not be skipped: the store moved its cursor past them before the commit, and kept it there when
 * the transaction rolled back.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { withPostgres } from '../support/postgres.ts';
import { withLockSessions } from '../support/postgres-lock-wait.ts';
import { eventInput, projectWithEndpoints, SECOND, T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

test("a claim that rolls back does not take a project's turn: the claims after it give the turns it would have given", () =>
  withLockSessions(server, async (store, other) => {
    // Three projects with one endpoint each, a backlog of the first at the head of the due order.
    // A claim of 4 gives 1 in turn (fairPart) and takes 3 of the oldest: the backlog's.
    const projects = [];
    for (let p = 0; p < 3; p++) projects.push((await projectWithEndpoints(store, 1)).project);
    await store.acceptEvents(
      projects[0]!.id,
      Array.from({ length: 40 }, () => eventInput('a')),
      T0,
    );
    for (const project of projects.slice(1)) {
      await store.acceptEvents(
        project.id,
        Array.from({ length: 10 }, () => eventInput('a')),
        T0 + 1_000,
      );
    }
    const backlog = projects[0]!.id;
    /** The project a claim's part in turn went to (the backlog's own when all four are of it). */
    const claim = async () => {
      const claimed = await store.claimDueDeliveries({
        limit: 4,
        leaseMs: 60 * SECOND,
        now: T0 + 2_000,
        workerId: 'w1',
      });
      assert.equal(claimed.length, 4, 'a full claim');
      const others = claimed.filter((c) => c.delivery.projectId !== backlog);
      assert.ok(others.length <= 1, 'one in turn');
      return others[0]?.delivery.projectId ?? backlog;
    };
    const first = await claim();
    // The next claim's transaction fails at its commit, as a deadlock found then would end it.
    await other.query(`CREATE FUNCTION fail_claim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$`);
    await other.query(`CREATE CONSTRAINT TRIGGER fail_claim AFTER UPDATE ON deliveries
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_claim()`);
    await assert.rejects(claim(), /deadlock detected/);
    await other.query('DROP TRIGGER fail_claim ON deliveries');
    // The three projects' turns, each once: the failed claim's turn was not given, so it comes now.
    const turns = [first, await claim(), await claim()];
    assert.deepEqual(
      [...turns].sort(),
      projects.map((p) => p.id).sort(),
      `every project's turn once in three claims that committed: ${turns}`,
    );
  }));
