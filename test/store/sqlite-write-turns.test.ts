/**
 * SQLite's write lock has no queue: a connection refused it sleeps and tries again, and one that
 * commits again and again (the API thread's accepts) takes it back within a millisecond of letting
 * it go. The dispatcher thread's claims landed in a gap between two commits by chance: 4 claims in
 * 8 s while the accepts went on (bench/claim-write-lock.ts), some refused as busy past the 5 s busy
 * timeout. Now a connection refused the lock says so (write-turns.ts), and the other one's next
 * transaction waits until it has had the lock. Counted, not timed: the API thread's commits while
 * each claim waits. Two connections to one real file on two threads, as `herald serve` runs them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { openStore } from '../../src/store/open-store.ts';
import { SECOND, T0 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-write-turns-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Claims made while the other thread commits without a pause. */
const CLAIMS = 20;
/**
 * The other thread's commits the claims may see while they wait, all together: for each, the one
 * under way when it asks (1-2 seen), and one more each time the other thread's wait for it runs out
 * (write-turns.ts MAX_YIELD_MS: a claim's thread slow to come back, as on a loaded machine; up to 6
 * seen at a load of 14; 20-27 together in three runs). Before the turns, in five runs: 812 to
 * 10,779 together, one claim waiting through up to 6,314.
 */
const MOST_COMMITS = 3 * CLAIMS;

test("a claim gets the write lock within a few of the other thread's commits, however fast that one commits", async () => {
  const file = join(dir, 'herald.db');
  // The dispatcher's store, opened first as serve opens the API's (the threads share its turns).
  const store = await openStore(`sqlite:${file}`);
  const project = await store.createProject({ name: 'p' }, T0);
  const commits = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('./accept-loop-thread.ts', import.meta.url), {
    workerData: { file, projectId: project.id, commits: commits.buffer },
  });
  const said = (what: string) =>
    new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (m) => (m === what ? resolve() : reject(new Error(`the thread said ${m}`))));
    });
  try {
    await said('ready');
    /** Until the other thread has committed `n` more times: its loop is going, not waiting for the lock. */
    const going = async (n: number) => {
      const from = Atomics.load(commits, 0);
      while (Atomics.load(commits, 0) < from + n) await new Promise((r) => setTimeout(r, 5));
    };
    const seen: number[] = [];
    for (let i = 0; i < CLAIMS; i++) {
      await going(5);
      const before = Atomics.load(commits, 0);
      await store.claimDueDeliveries({ limit: 10, leaseMs: 60 * SECOND, now: T0 + i, workerId: 'w' });
      seen.push(Atomics.load(commits, 0) - before);
    }
    const total = seen.reduce((a, b) => a + b, 0);
    assert.ok(
      total <= MOST_COMMITS,
      `the other thread's commits while each claim waited: ${seen.join(', ')} (${total}; at most ${MOST_COMMITS} together expected)`,
    );
  } finally {
    const stopped = said('stopped');
    worker.postMessage('stop');
    await stopped;
    await worker.terminate();
    await store.close();
  }
});
