/**
 * Two dispatchers on one real PostgreSQL, the real sender and a loopback receiver: a worker that
 * turned a large payload away (no room for it among the queued bytes, queued-bytes.ts) goes on
 * claiming once another worker has taken and sent it.
 *
 * Worker A holds a busy project's requests (the receiver answers them only at the end) with more
 * of its deliveries queued; a 100 KiB payload of another project, larger than the 64 KiB bound,
 * has room neither in flight nor to wait in, and A hands it back. Worker B, with nothing queued,
 * takes it and sends it, and stops. Then a third project's event is accepted: A has free slots and
 * room for it. Before, the large payload's endpoint was left waiting for room in flight
 * (byte-budget.ts) with nothing of it left in A, and a waiter only attempts ending can let in
 * holds every claim (ByteBudget.full): A claimed nothing until its held attempts ended (their
 * timeout, 30 s), and the event waited that long. The store's hand-backs are watched, not changed.
 */

import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { ReleaseItem } from '../../src/store/store.ts';
import { endpointInput } from '../store/helpers.ts';
import { filePostgres } from '../support/postgres.ts';
import { until } from '../support/wait-until.ts';
import { heldReceiver } from './held-receiver.ts';

const KiB = 1024;
const postgres = filePostgres();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Up to B having sent the large payload and stopped, A's two busy requests held (answered at
 * `release`, or at their timeout, `busyTimeoutMs`).
 */
async function largeSentByB(leaseMs: number, busyTimeoutMs: number) {
  const url = await (await postgres()).createDatabase();
  const storeA = new PostgresStore(url);
  cleanups.push(() => storeA.close());
  await storeA.migrate();
  const storeB = new PostgresStore(url);
  cleanups.push(() => storeB.close());
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  cleanups.push(() => sender.close());

  // Requests to /hold are held until `release`; the others are answered at once.
  const receiver = await heldReceiver(['hold']);
  cleanups.push(() => receiver.close());
  const { url: base, held, arrivals: arrived } = receiver;
  const release = () => receiver.letGo();
  const project = async (name: string, path: string, type: string) => {
    const projectId = (await storeA.createProject({ name }, Date.now())).id;
    await storeA.createEndpoint(
      endpointInput(projectId, {
        url: `${base}${path}`,
        name,
        eventTypes: [type],
        timeoutMs: path === '/hold' ? busyTimeoutMs : 30_000,
      }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
    return projectId;
  };
  const busy = await project('busy', '/hold', 'h');
  const large = await project('large', '/large', 'l');
  const other = await project('other', '/other', 'o');
  const event = (type: string, bytes: number) => ({
    type,
    payload: { blob: 'x'.repeat(bytes) },
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
  });
  const handedBack: string[] = [];
  const releaseDeliveries = storeA.releaseDeliveries.bind(storeA);
  storeA.releaseDeliveries = (items: ReleaseItem[]) => {
    handedBack.push(...items.map((it) => it.deliveryId));
    return releaseDeliveries(items);
  };
  const config = {
    ...DEFAULT_DELIVERY,
    allowNetworks: ['127.0.0.0/8'],
    concurrency: 8,
    perEndpointConcurrency: 2,
    perProjectConcurrency: 2,
    claimBatch: 16,
    bytesInFlight: 64 * KiB,
    leaseMs,
  };
  // A's clock: moved ahead by the test (`ahead`), to make the turn's time pass in A alone.
  const aClock = { ahead: 0 };
  let aClaims = 0;
  const a = createDispatcher({
    store: storeA,
    send: sender.send,
    config,
    workerId: 'A',
    clock: () => Date.now() + aClock.ahead,
    hooks: { onClaim: () => aClaims++ },
  });
  cleanups.push(() => a.stop({ graceMs: 2_000 }));
  await a.start();

  // A at the busy project's cap (two held), four more queued.
  await storeA.acceptEvents(
    busy,
    Array.from({ length: 6 }, () => event('h', 2 * KiB)),
    Date.now(),
  );
  await until('A holds two requests', () => held.length === 2);
  const [big] = await storeA.acceptEvents(large, [event('l', 100 * KiB)], Date.now());
  const bigId = big!.deliveries[0]!.id;
  await until('A handed the large payload back', () => handedBack.includes(bigId));

  const b = createDispatcher({ store: storeB, send: sender.send, config, workerId: 'B' });
  await b.start();
  await until('B sent the large payload', () => arrived.includes('large'));
  await b.stop({ graceMs: 2_000 });
  return { storeA, large, other, event, held, arrived, release, aClock, aClaims: () => aClaims };
}

test('a worker goes on claiming once another worker sent the payload it turned away', async () => {
  const { storeA, other, event, held, arrived, release } = await largeSentByB(
    DEFAULT_DELIVERY.leaseMs,
    30_000,
  );
  // A has free slots and room: the event goes out while A's two requests are still held.
  await storeA.acceptEvents(other, [event('o', 1 * KiB)], Date.now());
  await until("A sent the other project's event", () => arrived.includes('other'));
  assert.equal(held.length, 2, 'sent while the busy requests were still held');
  release();
  await until('everything delivered', () => arrived.length === 6 + 1 + 1);
});

/**
 * A, its queues never emptied (the busy project's four wait behind its two held requests), left
 * the large payload's endpoint out of its claims until the payload would fit among its queued
 * bytes: for one larger than the bound, until nothing was queued at all. Until 2026-12-07 it kept
 * that entry for good once the payload's turn was over, though B had sent it: the endpoint's
 * next events waited for another worker, or here for the busy requests' end (their leases, 30 s,
 * ran out first: 0 of 12 events sent by A in 24 s, one every 2 s, with a 30 s lease). Now the entry
 * is forgotten a quarter of a lease after its turn ended (half a lease after it began): 22.5 s
 * with a 30 s lease. A's clock is moved on by the test through both (past half a lease, a claim,
 * past three quarters, a claim), so the check does not hang on the 7.5 s between 22.5 s and the busy
 * requests' lease end (30 s of real time, judged by PostgreSQL): the event goes out ~2 s in, the
 * busy requests still held, none of them sent again. Before, the busy requests were sent again at
 * their lease's end first (29.8 s in: fails); the exact times are checked on a driven clock in
 * queued-bytes-turn-bounds.test.ts. The busy endpoint's 120 s timeout is past the lease, so its
 * queued deliveries go back at once and are claimed again (endpoint-queues.ts waitMaxOf): A's
 * queued bytes are never empty for long.
 */
test("a worker claims a large payload's endpoint again after its turn, once another worker sent it", async () => {
  const { storeA, large, event, held, arrived, release, aClock, aClaims } = await largeSentByB(
    30_000,
    120_000,
  );
  // The turn over (half a lease on A's clock), and a claim of A's since; then a quarter of a lease
  // more, and a claim since.
  for (const ahead of [15_001, 15_001 + 7_501]) {
    aClock.ahead = ahead;
    const before = aClaims();
    await until("A's claims on its clock moved on", () => aClaims() > before + 1);
  }
  await storeA.acceptEvents(large, [event('l', 1 * KiB)], Date.now());
  await until(
    "A sent the large payload's endpoint's next event",
    () => arrived.filter((u) => u === 'large').length === 2,
    50_000,
  );
  assert.deepEqual(
    arrived.filter((u) => u === 'hold'),
    ['hold', 'hold'],
    'sent while the busy requests were still held, none sent again',
  );
  assert.equal(held.length, 2);
  release();
});
