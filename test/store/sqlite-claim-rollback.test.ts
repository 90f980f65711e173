/**
 * A claim that fails inside its group commit on a real SQLite (a full disk, an I/O error: the
 * claim's writes are rolled back and nothing of it is leased): the dispatcher claims again a second
 * later, and the turns the failed claim would have given (claim-turns.ts) must come in the claims
 * after it, not be skipped; and the leases that ran out which it put back in their place
 * (claims.ts returnEndedLeases) must be put back by the claims after it. The failure is a trigger
 * another connection adds, raising on the lease of a row (in the first test, of a row not of the
 * backlog's project: the claim fails after its part in turn has been picked), as a write of it that
 * found the disk full would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { eventInput, projectWithEndpoints, SECOND, T0 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-claim-rollback-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a claim that fails in its group commit does not take a project's turn: the claims after it give the turns it would have given", async () => {
  const file = join(dir, 'herald.db');
  const store = await openStore(`sqlite:${file}`);
  const other = new DatabaseSync(file);
  try {
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
    // The next claim fails when it leases its part in turn, as a write that found the disk full would.
    other.exec(`CREATE TRIGGER fail_claim BEFORE UPDATE OF leased_by ON deliveries
      WHEN OLD.project_id <> '${backlog}' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    await assert.rejects(claim(), /database or disk is full/);
    other.exec('DROP TRIGGER fail_claim');
    // The three projects' turns, each once: the failed claim's turn was not given, so it comes now.
    const turns = [first, await claim(), await claim()];
    assert.deepEqual(
      [...turns].sort(),
      projects.map((p) => p.id).sort(),
      `every project's turn once in three claims that committed: ${turns}`,
    );
  } finally {
    other.close();
    await store.close();
  }
});

test('a claim that fails in its group commit leaves the leases that ran out for the claims after it to put back in their place', async () => {
  const file = join(dir, 'herald-leases.db');
  const store = await openStore(`sqlite:${file}`);
  const other = new DatabaseSync(file);
  try {
    const { project } = await projectWithEndpoints(store, 1);
    await store.acceptEvents(project.id, [eventInput('a')], T0);
    // Its worker stalls past the lease (1 s); another delivery comes due meanwhile.
    const [stalled] = await store.claimDueDeliveries({ limit: 1, leaseMs: SECOND, now: T0, workerId: 'w1' });
    assert.ok(stalled);
    await store.acceptEvents(project.id, [eventInput('b')], T0 + 500);
    // The next claim puts the ended lease back, then fails as it leases, as a write that found the
    // disk full would: its writes, that one included, are rolled back.
    other.exec(`CREATE TRIGGER fail_claim BEFORE UPDATE OF leased_by ON deliveries
      WHEN NEW.leased_by IS NOT NULL BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    await assert.rejects(
      store.claimDueDeliveries({ limit: 1, leaseMs: 60 * SECOND, now: T0 + 2 * SECOND, workerId: 'w1' }),
      /database or disk is full/,
    );
    other.exec('DROP TRIGGER fail_claim');
    // The claim after it: the delivery due first, in its place, not behind what came due while its
    // lease ran.
    const [next] = await store.claimDueDeliveries({
      limit: 1,
      leaseMs: 60 * SECOND,
      now: T0 + 2 * SECOND + 100,
      workerId: 'w1',
    });
    assert.equal(next?.delivery.id, stalled.delivery.id, 'the delivery that became due first');
  } finally {
    other.close();
    await store.close();
  }
});
