/**
 * hand-back-retry.ts on its own: a hand-back whose write failed is written again after 250 ms,
 * 500 ms, 1 s, then every 2 s while it fails, until it goes through or a lease has passed since it
 * failed (the claim's lease has ended by then, on this clock; a worker ahead on PostgreSQL, whose
 * claim names the end in the database's time: postgres-lease-clock.test.ts),
 * and once more at a stop. The writes are a real SQLite store's releaseDeliveries, as the
 * dispatcher makes them, its file on a 16 MiB tmpfs the test mounts (tests run as root) and fills,
 * so that they fail with SQLITE_FULL, and frees. The waits are read off node:test's mock timers
 * (setTimeout only; the store's own work goes through setImmediate), not the machine's clock.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { mock, test } from 'node:test';
import { createHandBackRetry } from '../../src/delivery/hand-back-retry.ts';
import { releaseOf } from '../../src/delivery/release-items.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ReleaseItem, Store } from '../../src/store/store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { fillFileSystem } from '../support/fill-file-system.ts';

const WORKER = 'w-hand-back';
const LEASE_MS = 600_000;

interface Disk {
  store: Store;
  /** The claimed delivery's hand-back, due now, and when its claim's lease ends. */
  item: ReleaseItem;
  leaseEnd: number;
  claimedAt: number;
  fill(): void;
  free(): void;
}

/** A store on a small tmpfs holding one delivery claimed by WORKER, and a way to fill its disk and free it. */
async function onSmallDisk(run: (disk: Disk) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-hand-back-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir]);
  const file = join(dir, 'herald.db');
  const filler = join(dir, 'filler');
  const store = await openStore(`sqlite:${file}`);
  try {
    const claimedAt = Date.now();
    const project = await store.createProject({ name: 'hand-back' }, claimedAt);
    await store.createEndpoint(
      endpointInput(project.id),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      claimedAt,
    );
    await store.acceptEvents(project.id, [eventInput()], claimedAt);
    const [claimed] = await store.claimDueDeliveries({
      limit: 10,
      leaseMs: LEASE_MS,
      now: claimedAt,
      workerId: WORKER,
    });
    assert.ok(claimed, 'the delivery is claimed');
    const item = releaseOf(claimed.delivery, claimedAt);
    await run({
      store,
      item,
      leaseEnd: item.leasedUntil ?? claimedAt + LEASE_MS,
      claimedAt,
      // The WAL cut to nothing first, so that the next write needs space.
      fill() {
        const db = new DatabaseSync(file);
        db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        db.close();
        fillFileSystem(filler);
      },
      free() {
        rmSync(filler);
      },
    });
  } finally {
    mock.timers.reset();
    await store.close();
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The retry as the dispatcher makes it, its writes and failures counted, and its clock the test's. */
function retryOn(store: Store, clock: () => number) {
  const writes: number[] = [];
  const errors: unknown[] = [];
  const retry = createHandBackRetry({
    write: (items) => {
      writes.push(items.length);
      return store.releaseDeliveries(items.map((item) => ({ ...item, heldBy: WORKER })));
    },
    clock,
    leaseMs: LEASE_MS,
    onError: (error) => errors.push(error),
  });
  return { retry, writes, errors };
}

/** Lets the event loop run (setImmediate is not mocked) until `done`, or fails saying `what`. */
async function settle(what: string, done: () => boolean) {
  for (let turn = 0; turn < 10_000 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(done(), what);
}

/** A few turns of the event loop, for what should not happen. */
async function turns() {
  for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
}

const isFull = (error: unknown) => /full/i.test(String(error));

test('a failed hand-back is written again after 250 ms, 500 ms, 1 s, then every 2 s, until it goes through', async () => {
  await onSmallDisk(async ({ store, item, claimedAt, fill, free }) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const { retry, writes, errors } = retryOn(store, () => claimedAt);
    fill();
    await assert.rejects(retry.handBack([item]), isFull, 'the first failure goes to the caller');
    assert.equal(retry.pending, 1);
    assert.equal(writes.length, 1);
    for (const [n, waitMs] of [250, 500, 1_000, 2_000, 2_000, 2_000].entries()) {
      mock.timers.tick(waitMs - 1);
      await turns();
      assert.equal(writes.length, n + 1, `no try ${n + 2} before ${waitMs} ms`);
      mock.timers.tick(1);
      await settle(`try ${n + 2} fails at ${waitMs} ms`, () => errors.length === n + 1);
      assert.equal(writes.length, n + 2);
      assert.ok(isFull(errors[n]), String(errors[n]));
      assert.equal(retry.pending, 1, 'kept');
    }
    free();
    mock.timers.tick(2_000);
    await settle('the hand-back goes through once space is freed', () => retry.pending === 0);
    assert.equal(errors.length, 6, 'no failure more');
    // Handed back: another worker claims it now, long before the lease would have ended.
    const again = await store.claimDueDeliveries({
      limit: 10,
      leaseMs: LEASE_MS,
      now: claimedAt + 1,
      workerId: 'w-other',
    });
    assert.equal(again.length, 1);
    mock.timers.tick(60_000);
    await turns();
    assert.equal(writes.length, 8, 'nothing more is written once it went through');
  });
});

test("a failed hand-back is kept only for a lease after it failed (here, as its claim's ends): then it is dropped, not written", async () => {
  await onSmallDisk(async ({ store, item, leaseEnd, claimedAt, fill }) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    let now = claimedAt;
    const { retry, writes, errors } = retryOn(store, () => now);
    fill();
    await assert.rejects(retry.handBack([item]), isFull);
    mock.timers.tick(250);
    await settle('the first try again fails', () => errors.length === 1);
    assert.equal(retry.pending, 1);
    now = leaseEnd; // the lease brings the delivery back now; the hand-back is of no use
    mock.timers.tick(500);
    await settle('dropped', () => retry.pending === 0);
    assert.equal(writes.length, 2, 'not written once its lease has ended');
    mock.timers.tick(60_000);
    await turns();
    assert.equal(writes.length, 2);
    assert.equal(errors.length, 1);
  });
});

test('a stop tries what is kept once more: a failure is reported and nothing follows; after space is freed it goes through', async () => {
  await onSmallDisk(async ({ store, item, claimedAt, fill, free }) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const { retry, writes, errors } = retryOn(store, () => claimedAt);
    fill();
    await assert.rejects(retry.handBack([item]), isFull);
    await retry.stop();
    assert.equal(writes.length, 2, 'one last try at the stop, before its first wait');
    assert.equal(errors.length, 1);
    assert.ok(isFull(errors[0]), String(errors[0]));
    mock.timers.tick(60_000);
    await turns();
    assert.equal(writes.length, 2, 'no timer after a stop');

    free();
    retry.start();
    await retry.stop();
    assert.equal(writes.length, 3);
    assert.equal(retry.pending, 0, 'the stop wrote it');
    assert.equal(errors.length, 1);
    const again = await store.claimDueDeliveries({
      limit: 10,
      leaseMs: LEASE_MS,
      now: claimedAt + 1,
      workerId: 'w-other',
    });
    assert.equal(again.length, 1, 'handed back');
  });
});
