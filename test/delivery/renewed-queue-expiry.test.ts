/**
 * A queue waiting for room for its body hands back each delivery that has waited half its lease
 * (endpoint-queues.ts expire), wherever it sits in the queue. A delivery claimed again by its own
 * process while queued takes its old claim's place with a fresh claim time (renew), so the head of
 * a queue may be newer than a claim behind it: expire looked only at the head (and its timer was
 * armed for the head's half lease), and the older claim behind it stayed queued past its half lease
 * while the endpoint waited for room, holding queued bytes, until the head's own half lease. A real
 * SQLite store; the queues' clock is the test's, so the times are exact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createEndpointQueues } from '../../src/delivery/endpoint-queues.ts';
import { createQueuedBytes } from '../../src/delivery/queued-bytes.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { until } from '../support/wait-until.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-renewed-queue-expiry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LEASE_MS = 20_000; // a 1 s timeout: a queued delivery waits half of it at most, 10 s

test('a claim queued behind a renewed one goes back at its own half lease while the endpoint waits for room', async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  try {
    const t0 = Date.now();
    const project = await store.createProject({ name: 'p' }, t0);
    const endpoint = await store.createEndpoint(
      endpointInput(project.id, { url: 'http://127.0.0.1:9/hook', timeoutMs: 1_000 }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      t0,
    );
    const claim = (now: number) =>
      store.claimDueDeliveries({ limit: 1, leaseMs: LEASE_MS, now, workerId: 'w1' });
    let now = t0;
    let waits = false;
    const queues = createEndpointQueues({
      store: {
        getDispatchEndpoints: store.getDispatchEndpoints.bind(store),
        releaseDeliveries: (items) => store.releaseDeliveries(items.map((it) => ({ ...it, heldBy: 'w1' }))),
      },
      config: { leaseMs: LEASE_MS, retrySchedule: [1_000] },
      clock: () => now,
      attempt: () => Promise.reject(new Error('no attempt starts: there is no room for a body')),
      timeoutOf: (ep) => ep.timeoutMs,
      running: () => true,
      canStart: () => true,
      projectRoom: () => 1,
      inFlight: () => 0,
      ofEndpoint: () => 0,
      takeBytes: () => null, // no room for any body: the endpoint waits for it
      forgetBytes: () => {},
      waitsForBytes: () => waits,
      queuedBytes: createQueuedBytes({ limitBytes: 1 << 20, projectShare: 1, smallShare: 1 }),
      launch: () => {
        throw new Error('nothing is launched');
      },
      onError: (error) => {
        throw error;
      },
    });
    const target = async (at: number) =>
      (await store.getDispatchEndpoints([{ projectId: project.id, endpointId: endpoint.id }], at)).get(
        endpoint.id,
      )!;

    // First: claimed at t0, queued.
    await store.acceptEvents(project.id, [eventInput('first')], t0);
    const [first] = await claim(t0);
    assert.ok(first);
    assert.ok(queues.push(first, await target(t0), t0, null));
    // Second: claimed 15 s later, queued behind it.
    now = t0 + 15_000;
    await store.acceptEvents(project.id, [eventInput('second')], now);
    const [second] = await claim(now);
    assert.ok(second && second.delivery.id !== first.delivery.id);
    assert.ok(queues.push(second, await target(now), now, null));
    // First's lease ran out as it waited (its half lease missed: a clock step, a busy thread): this
    // process claims it again, and the new claim takes its place, first, claimed at 21 s.
    now = t0 + 21_000;
    const [again] = await claim(now);
    assert.equal(again?.delivery.id, first.delivery.id);
    assert.ok(queues.renew(again));
    assert.equal(queues.length(endpoint.id), 2);

    // At 25.5 s the endpoint waits for room: second has waited 10.5 s (past its half lease, 10 s),
    // the renewed first 4.5 s.
    now = t0 + 25_500;
    waits = true;
    queues.start(endpoint.id);
    const leasedUntil = async (id: string) => (await store.getDelivery(project.id, id))?.leasedUntil;
    await until(
      'the second claim handed back',
      async () => (await leasedUntil(second.delivery.id)) === null,
      10_000,
    );
    assert.equal(queues.length(endpoint.id), 1, 'the renewed first one still waits for room');
    assert.equal(await leasedUntil(first.delivery.id), t0 + 21_000 + LEASE_MS, 'still under its new claim');
    queues.takeAll();
  } finally {
    await store.close();
  }
});
