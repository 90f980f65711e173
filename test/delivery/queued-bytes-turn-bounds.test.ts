/**
 * The turn a payload larger than the reserve takes among the queued bytes (endpoint-queues.ts
 * turnedAway, queued-bytes.ts) is bounded: it is over once a claim was asked for its delivery first
 * (whether or not that claim brought it), or once it has waited half a lease, and the others then
 * queue in the whole bound again; a turn that ended so is not taken again until its delivery is
 * refused again. Without the bounds, a turn whose delivery never came back to this process (claimed
 * by another worker, its endpoint failing) kept the others out of their queues for good. And once
 * its delivery is queued, its endpoint is claimed as any other. A real SQLite store; the queues'
 * clock is the test's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createEndpointQueues } from '../../src/delivery/endpoint-queues.ts';
import { createQueuedBytes } from '../../src/delivery/queued-bytes.ts';
import { releaseItems } from '../../src/delivery/release-items.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ClaimedDelivery } from '../../src/store/store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-queued-turn-bounds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LEASE_MS = 20_000;
const KiB = 1024;

/** `starts`: a queue started (start) launches its deliveries (none runs), else every queue waits for a slot. */
async function setUp(name: string, starts = false) {
  const store = await openStore(`sqlite:${join(dir, `${name}.db`)}`);
  const t0 = Date.now();
  const busy = (await store.createProject({ name: 'busy' }, t0)).id;
  const large = (await store.createProject({ name: 'large' }, t0)).id;
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const ep = async (projectId: string, type: string) =>
    (
      await store.createEndpoint(
        endpointInput(projectId, { url: `http://127.0.0.1:9/${type}`, eventTypes: [type] }),
        secret,
        t0,
      )
    ).id;
  const busyEp = await ep(busy, 's');
  const otherEp = await ep(busy, 'o');
  const largeEp = await ep(large, 'l');
  let now = t0;
  const launched: string[] = [];
  // 8 KiB; a project holds 6 KiB at most: the reserve is 2 KiB.
  const queuedBytes = createQueuedBytes({ limitBytes: 8 * KiB, projectShare: 0.75, smallShare: 0.25 });
  const queues = createEndpointQueues({
    store: {
      getDispatchEndpoints: store.getDispatchEndpoints.bind(store),
      releaseDeliveries: (items) => store.releaseDeliveries(items.map((it) => ({ ...it, heldBy: 'w1' }))),
    },
    config: { leaseMs: LEASE_MS, retrySchedule: [1_000] },
    clock: () => now,
    attempt: () => Promise.reject(new Error('nothing starts')),
    timeoutOf: (e) => e.timeoutMs,
    running: () => true,
    canStart: () => starts,
    projectRoom: () => (starts ? 1 : 0),
    inFlight: () => 1,
    ofEndpoint: () => 1,
    takeBytes: () => (starts ? () => {} : null),
    forgetBytes: () => {},
    waitsForBytes: () => false,
    queuedBytes,
    launch: (endpointId) => {
      if (!starts) throw new Error('nothing is launched');
      launched.push(endpointId);
    },
    onError: (error) => {
      throw error;
    },
  });
  /** Accepts an event of `bytes` for `type`, claims it and offers it to its queue. */
  const offer = async (projectId: string, endpointId: string, type: string, bytes: number) => {
    await store.acceptEvents(projectId, [eventInput(type, { payload: { blob: 'x'.repeat(bytes) } })], now);
    const [claimed] = await store.claimDueDeliveries({
      limit: 1,
      leaseMs: LEASE_MS,
      now,
      workerId: 'w1',
      first: [{ projectId, endpointId, limit: 1 }],
    });
    assert.ok(claimed);
    last = claimed;
    const target = (await store.getDispatchEndpoints([{ projectId, endpointId }], now)).get(endpointId)!;
    return queues.push(claimed, target, now, null);
  };
  let last: ClaimedDelivery | undefined;
  /** Claims the endpoint's oldest due delivery, as a claim asking for it first does, and offers it. */
  const offerAgain = async (projectId: string, endpointId: string) => {
    const [claimed] = await store.claimDueDeliveries({
      limit: 1,
      leaseMs: LEASE_MS,
      now,
      workerId: 'w1',
      first: [{ projectId, endpointId, limit: 1 }],
    });
    assert.ok(claimed);
    const target = (await store.getDispatchEndpoints([{ projectId, endpointId }], now)).get(endpointId)!;
    return { id: claimed.delivery.id, queued: queues.push(claimed, target, now, null) };
  };
  return {
    store,
    queues,
    /** The endpoint whose delivery has the turn (null: none). */
    turn: () => queuedBytes.turn?.key ?? null,
    offerBusy: (bytes: number) => offer(busy, busyEp, 's', bytes),
    offerOther: (bytes: number) => offer(busy, otherEp, 'o', bytes),
    offerLarge: (bytes: number) => offer(large, largeEp, 'l', bytes),
    offerLargeAgain: () => offerAgain(large, largeEp),
    /** Hands the delivery last offered back, due now (as the dispatcher does with one refused): its id. */
    handBackLast: async () => {
      await store.releaseDeliveries(releaseItems([last!], now).map((it) => ({ ...it, heldBy: 'w1' })));
      return last!.delivery.id;
    },
    launched,
    busyEp,
    largeEp,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

test('a turn whose delivery does not come is over after half a lease, and not taken again until it is refused again', async () => {
  const s = await setUp('half-lease');
  try {
    assert.equal(await s.offerBusy(KiB), true);
    assert.equal(await s.offerLarge(12 * KiB), false, 'larger than the bound, with something queued');
    s.queues.turnedAway();
    assert.equal(s.turn(), s.largeEp, 'it takes the turn');
    assert.equal(await s.offerOther(KiB), false, 'the others do not queue while it has the turn');
    s.advance(LEASE_MS / 2 - 1);
    s.queues.turnedAway();
    assert.equal(s.turn(), s.largeEp, 'still its turn within half a lease');
    s.advance(2);
    const { out } = s.queues.turnedAway();
    assert.equal(s.turn(), null, 'over after half a lease');
    assert.ok(out.includes(s.largeEp), 'its endpoint is still left out of claims');
    assert.equal(await s.offerOther(KiB), true, 'the others queue again');
    s.queues.turnedAway();
    assert.equal(s.turn(), null, 'not taken again without a new refusal');
    assert.equal(await s.offerLarge(12 * KiB), false);
    s.queues.turnedAway();
    assert.equal(s.turn(), s.largeEp, 'refused again: it takes a turn again');
  } finally {
    s.queues.takeAll();
    await s.store.close();
  }
});

test('a turn is over after the claim asked for its delivery first, whether or not it came', async () => {
  const s = await setUp('asked');
  try {
    assert.equal(await s.offerBusy(KiB), true);
    assert.equal(await s.offerLarge(12 * KiB), false);
    s.queues.turnedAway();
    assert.equal(s.turn(), s.largeEp);
    // The busy queue goes (handed back): nothing is queued, the turn's delivery fits.
    s.queues.drop(s.busyEp);
    const { first } = s.queues.turnedAway();
    assert.deepEqual(
      first.map((f) => f.endpointId),
      [s.largeEp],
      'its delivery is asked for first',
    );
    assert.equal(s.turn(), s.largeEp, 'the turn holds until that claim');
    // That claim did not bring it (another worker took it): the next claim finds the turn over.
    s.queues.turnedAway();
    assert.equal(s.turn(), null);
    assert.equal(await s.offerOther(KiB), true, 'the others queue again');
  } finally {
    s.queues.takeAll();
    await s.store.close();
  }
});

test('a turn is over once its delivery is queued', async () => {
  const s = await setUp('queued');
  try {
    assert.equal(await s.offerBusy(2 * KiB), true);
    assert.equal(await s.offerLarge(6 * KiB), false, 'within the bound, past what is left of it');
    s.queues.turnedAway();
    assert.equal(s.turn(), s.largeEp);
    assert.equal(await s.offerOther(KiB), false, 'the room kept for it is not taken');
    s.queues.drop(s.busyEp);
    assert.equal(await s.offerLarge(6 * KiB), true, 'it fits in the room kept for it');
    assert.equal(s.turn(), null, 'the turn is over');
    assert.equal(await s.offerOther(KiB), true, 'the others queue in the whole bound again');
  } finally {
    s.queues.takeAll();
    await s.store.close();
  }
});

test('an endpoint whose delivery was queued at its turn is not left out of claims after it', async () => {
  const s = await setUp('queued-here', true);
  try {
    assert.equal(await s.offerBusy(KiB), true);
    assert.equal(await s.offerLarge(12 * KiB), false, 'larger than the bound, with something queued');
    const refusedId = await s.handBackLast();
    s.queues.turnedAway();
    assert.equal(s.turn(), s.largeEp, 'it takes the turn');
    // The busy queue goes: nothing is queued, and its delivery is asked for first.
    s.queues.drop(s.busyEp);
    const { first } = s.queues.turnedAway();
    assert.deepEqual(
      first.map((f) => f.endpointId),
      [s.largeEp],
    );
    const again = await s.offerLargeAgain();
    assert.deepEqual(again, { id: refusedId, queued: true }, 'the delivery refused is queued here');
    assert.equal(s.turn(), null, 'the turn is over');
    s.queues.start(s.largeEp);
    assert.deepEqual(s.launched, [s.largeEp], 'and it starts');
    // The busy project queues again; nothing of the large endpoint is refused now.
    assert.equal(await s.offerBusy(KiB), true);
    const { out } = s.queues.turnedAway();
    // Before, its entry stayed (a quarter of a lease after the turn ended, or until 12 KiB would fit
    // among the queued bytes): the endpoint, and its project's others with a queue, were left out
    // of claims though its delivery had been sent.
    assert.deepEqual(out, [], 'nothing is left out of claims');
  } finally {
    s.queues.takeAll();
    await s.store.close();
  }
});

test("a turn's endpoint is left out a quarter of a lease after its turn ended, and then claimed again", async () => {
  const s = await setUp('quarter-lease');
  try {
    assert.equal(await s.offerBusy(KiB), true);
    assert.equal(await s.offerLarge(12 * KiB), false, 'larger than the bound, with something queued');
    s.queues.turnedAway();
    assert.equal(s.turn(), s.largeEp);
    // The busy queue stays (nothing starts): the payload never fits, and its turn times out.
    s.advance(LEASE_MS / 2 + 1);
    assert.ok(s.queues.turnedAway().out.includes(s.largeEp), 'the turn over, its endpoint left out');
    assert.equal(s.turn(), null);
    s.advance(LEASE_MS / 4);
    assert.ok(s.queues.turnedAway().out.includes(s.largeEp), 'still a quarter of a lease after');
    // Past it, its delivery was not brought here meanwhile (another worker sent it, or it is due
    // later): the endpoint is claimed again, though the busy queue still holds the queued bytes.
    // Kept until the payload would fit (until 2026-12-07), it was left out for as long as anything
    // was queued (test/delivery/queued-bytes-turn-workers.test.ts, two workers on PostgreSQL).
    s.advance(1);
    assert.deepEqual(s.queues.turnedAway().out, []);
  } finally {
    s.queues.takeAll();
    await s.store.close();
  }
});
