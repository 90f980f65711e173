/**
 * What claims do while a turn at the queued bytes (queued-bytes.ts) waits for its room: a real
 * dispatcher on a real SQLite store, the real sender and a loopback receiver that holds the
 * requests of a busy project, so its queued deliveries keep the queued bytes taken.
 *
 * The busy project is at its cap (its endpoint's requests held) with deliveries queued; another
 * project's payload larger than the whole bound takes the turn; then callbacks of the busy project
 * are accepted. They can neither start (no free slot of their project) nor wait in their queue (no
 * room among the queued bytes while the turn holds them). Before, every claim took them first and
 * handed them back, due 50 ms later (94-119 claims, 110-112 hand-backs of the 4 in 1.5 s); now the
 * one that found them no room hands them back, and their project's callbacks are left out of claims
 * until they would fit. Then the receiver answers, and everything is delivered. The store's
 * hand-backs are watched, not changed.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ReleaseItem } from '../../src/store/store.ts';
import { endpointInput } from '../store/helpers.ts';
import { until } from '../support/wait-until.ts';
import { heldReceiver } from './held-receiver.ts';

const KiB = 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('callbacks with no room while a turn holds the queued bytes are not claimed again at every claim', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-turn-callbacks-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  cleanups.push(() => store.close());
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  cleanups.push(() => sender.close());

  // The busy endpoint's requests are held until `release`; the others answer at once.
  const receiver = await heldReceiver(['hold']);
  cleanups.push(() => receiver.close());
  const { url: base, held, arrivals: arrived, letGo: release } = receiver;

  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const busy = (await store.createProject({ name: 'busy' }, Date.now())).id;
  const large = (await store.createProject({ name: 'large' }, Date.now())).id;
  await store.createEndpoint(
    endpointInput(busy, { url: `${base}/hold`, name: 'hold', eventTypes: ['h'], timeoutMs: 30_000 }),
    secret,
    Date.now(),
  );
  await store.createEndpoint(
    endpointInput(large, { url: `${base}/hold`, name: 'large', eventTypes: ['l', 's'], timeoutMs: 30_000 }),
    secret,
    Date.now(),
  );
  const event = (type: string, bytes: number, callbackUrl: string | null) => ({
    type,
    payload: { blob: 'x'.repeat(bytes) },
    test: false,
    idempotencyKey: null,
    callbackUrl,
  });

  const largeIds: string[] = [];
  const turnedAway: string[] = [];
  const putBack: string[] = [];
  const releaseDeliveries = store.releaseDeliveries.bind(store);
  store.releaseDeliveries = (items: ReleaseItem[]) => {
    for (const it of items) {
      if (largeIds.includes(it.deliveryId)) turnedAway.push(it.deliveryId);
      else putBack.push(it.deliveryId);
    }
    return releaseDeliveries(items);
  };
  let claims = 0;
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: {
      ...DEFAULT_DELIVERY,
      allowNetworks: ['127.0.0.0/8'],
      concurrency: 8,
      perEndpointConcurrency: 2,
      perProjectConcurrency: 2,
      claimBatch: 16,
      bytesInFlight: 64 * KiB,
    },
    workerId: 'w1',
    hooks: { onClaim: () => claims++ },
  });
  cleanups.push(() => dispatcher.stop({ graceMs: 2_000 }));
  await dispatcher.start();

  // The busy project at its cap (two held), four queued: 6 x 2 KiB.
  await store.acceptEvents(
    busy,
    Array.from({ length: 6 }, () => event('h', 2 * KiB, null)),
    Date.now(),
  );
  await until('the busy endpoint holds two requests', () => held.length === 2);
  // The large project at its cap too (two held): its large payload goes to its endpoint's queue.
  await store.acceptEvents(large, [event('s', 1 * KiB, null), event('s', 1 * KiB, null)], Date.now());
  await until('the large project holds two requests', () => held.length === 4);
  // A payload larger than the whole bound: turned away, it takes the turn.
  const [big] = await store.acceptEvents(large, [event('l', 100 * KiB, null)], Date.now());
  largeIds.push(...big!.deliveries.map((d) => d.id));
  await until('the large payload turned away', () => turnedAway.length > 0);
  // The busy project's callbacks: no slot to start in, no room to wait in.
  const callbacks = await store.acceptEvents(
    busy,
    Array.from({ length: 4 }, () => event('c', 1 * KiB, `${base}/cb`)),
    Date.now(),
  );
  const callbackIds = callbacks.flatMap((a) => a.deliveries.map((d) => d.id));
  assert.equal(callbackIds.length, 4);
  const claimsBefore = claims;
  await until('a callback claimed', () => callbackIds.some((id) => putBack.includes(id)));
  // A while for claims to come: each one that brings them back hands them back again.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const handedBack = putBack.filter((id) => callbackIds.includes(id)).length;
  const claimed = claims - claimsBefore;
  t.diagnostic(`while the turn held: ${claimed} claims, ${handedBack} hand-backs of the 4 callbacks`);

  release();
  await until('everything delivered', () => arrived.length === 6 + 3 + 4, 30_000);
  // Once each at most: the claim that found them no room.
  assert.ok(
    handedBack <= 4,
    `the 4 callbacks were handed back ${handedBack} times in ${claimed} claims while the turn held`,
  );
});
