/**
 * A project's queued callbacks go back to the store once they have waited their longest (half the
 * lease, less when the timeout would outlast what is left of it), whether they wait for a slot of
 * their project or for room for their body: a timer hands them back if nothing started them first
 * (callback-queues.ts expire). A callback claimed again by its own process while queued takes its
 * old claim's place with a fresh claim time (renew), so the head of a queue may be newer than a
 * claim behind it: expire looked only at the head, its timer armed for the head's longest wait, and
 * the older claim behind it stayed queued past its own, unclaimable by any other worker and holding
 * its queued bytes, until the head's (as endpoint queues did before 2026-12-07:
 * renewed-queue-expiry.test.ts). A real SQLite store; the queues' clock is the test's, so the times
 * are exact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createCallbackQueues } from '../../src/delivery/callback-queues.ts';
import { createQueuedBytes } from '../../src/delivery/queued-bytes.ts';
import { releaseItems } from '../../src/delivery/release-items.ts';
import { openStore } from '../../src/store/open-store.ts';
import { eventInput } from '../store/helpers.ts';
import { until } from '../support/wait-until.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-renewed-callback-expiry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** With a 0.5 s timeout, a queued callback waits 1.5 s at most (the lease less the timeout and 5 s). */
const LEASE_MS = 7_000;

test('a callback queued behind a renewed one goes back at its own longest wait while its project has no slot', async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  try {
    const t0 = Date.now();
    const project = await store.createProject({ name: 'p' }, t0);
    const claim = (now: number) =>
      store.claimDueDeliveries({ limit: 1, leaseMs: LEASE_MS, now, workerId: 'w1' });
    const callback = { callbackUrl: 'http://127.0.0.1:9/callback' };
    let now = t0;
    const queues = createCallbackQueues({
      config: {
        leaseMs: LEASE_MS,
        defaultTimeoutMs: 500,
        retrySchedule: [1_000],
        perEndpointConcurrency: 4,
        claimBatch: 16,
      },
      clock: () => now,
      attempt: () => Promise.reject(new Error('no attempt starts: the project has no free slot')),
      running: () => true,
      projectRoom: () => 0, // the project's slots all taken: its callbacks wait for one
      inFlight: () => 1,
      takeBytes: () => null,
      queuedBytes: createQueuedBytes({ limitBytes: 1 << 20, projectShare: 1, smallShare: 1 }),
      launch: () => {
        throw new Error('nothing is launched');
      },
      handBack: (claimed, delayMs) =>
        void store.releaseDeliveries(
          releaseItems(claimed, now + delayMs).map((it) => ({ ...it, heldBy: 'w1' })),
        ),
      callbacksInFlight: () => 0,
      fewestInFlight: () => Number.POSITIVE_INFINITY,
      bytesFit: () => false,
      projectExists: async () => true,
      onError: (error) => {
        throw error;
      },
    });

    // First: claimed at t0, queued for a slot.
    await store.acceptEvents(project.id, [eventInput('first', callback)], t0);
    const [first] = await claim(t0);
    assert.ok(first);
    assert.ok(queues.dispatch(first, null));
    // Second: claimed 1 s later, queued behind it.
    now = t0 + 1_000;
    await store.acceptEvents(project.id, [eventInput('second', callback)], now);
    const [second] = await claim(now);
    assert.ok(second && second.delivery.id !== first.delivery.id);
    assert.ok(queues.dispatch(second, null));
    // First's lease ran out as it waited (its longest wait missed: a clock step, a busy thread):
    // this process claims it again, and the new claim takes its place, first, claimed at 7.5 s.
    now = t0 + 7_500;
    const [again] = await claim(now);
    assert.equal(again?.delivery.id, first.delivery.id);
    assert.ok(queues.renew(again));
    assert.equal(queues.length(project.id), 2);

    // At 8 s second has waited 7 s (past its longest, 1.5 s), the renewed first 0.5 s.
    now = t0 + 8_000;
    const leasedUntil = async (id: string) => (await store.getDelivery(project.id, id))?.leasedUntil;
    await until(
      'the second claim handed back',
      async () => (await leasedUntil(second.delivery.id)) === null,
      10_000,
    );
    assert.equal(queues.length(project.id), 1, 'the renewed first one still waits for a slot');
    assert.equal(await leasedUntil(first.delivery.id), t0 + 7_500 + LEASE_MS, 'still under its new claim');
    queues.takeAll();
  } finally {
    await store.close();
  }
});
