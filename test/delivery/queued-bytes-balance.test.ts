/**
 * The payloads counted as queued (queued-bytes.ts) are counted out again on every path a delivery
 * leaves its endpoint's queue by: started, handed back at half its lease, its endpoint deleted,
 * disabled (parked) or its view not read again, put back for its rate limit, turned away for want
 * of room, and the stop's takeAll. A count left behind would shrink the room of every project for
 * the process's life, and a project's own share with it. A real SQLite store, the real sender and
 * loopback receivers; the count is read through the dispatcher (queuedBytes()).
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import type { RateLimit } from '../../src/domain/types.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ReleaseItem, Store } from '../../src/store/store.ts';
import { acceptLargeEvents } from '../support/large-events.ts';
import { until } from '../support/wait-until.ts';

const KiB = 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Answers 200 after the delay the path's first segment names (`/slow/…`: `slowMs`, else at once). */
async function receiver(slowMs: number) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('ok'), req.url?.startsWith('/slow/') ? slowMs : 0));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function endpoint(store: Store, projectId: string, url: string, rateLimit: RateLimit | null = null) {
  const ep = await store.createEndpoint(
    {
      projectId,
      url,
      name: url,
      description: '',
      eventTypes: [],
      method: 'POST',
      headers: {},
      dev: false,
      timeoutMs: 10_000,
      envelope: 'standard',
      signature: { scheme: 'standard' },
      rateLimit,
      retrySchedule: null,
      active: true,
    },
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    Date.now(),
  );
  return ep.id;
}

test('the queued bytes come back to 0 whichever way deliveries leave their queues, and on stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-queued-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  cleanups.push(() => store.close());
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  cleanups.push(() => sender.close());

  const url = await receiver(1_200);
  const busy = (await store.createProject({ name: 'busy' }, Date.now())).id;
  const other = (await store.createProject({ name: 'other' }, Date.now())).id;
  // One slot each and slow answers: queues form, and wait past half the lease (1 s).
  const slow = [];
  for (let i = 0; i < 4; i++) slow.push(await endpoint(store, busy, `${url}/slow/${i}`));
  const deleted = await endpoint(store, other, `${url}/slow/deleted`);
  const disabled = await endpoint(store, other, `${url}/slow/disabled`);
  const unread = await endpoint(store, other, `${url}/slow/unread`);
  const limited = await endpoint(store, other, `${url}/limited`, { perSecond: 2, burst: 1 });

  // The view of `unread`'s queue cannot be read again while `failReads` is set (a database error).
  let failReads = false;
  const readViews = store.getDispatchEndpoints.bind(store);
  store.getDispatchEndpoints = (keys, now) =>
    failReads && keys.length === 1 && keys[0]!.endpointId === unread
      ? Promise.reject(new Error('injected: the view could not be read'))
      : readViews(keys, now);
  const released: ReleaseItem[] = [];
  const release = store.releaseDeliveries.bind(store);
  store.releaseDeliveries = (items) => {
    released.push(...items);
    return release(items);
  };

  const errors: { during: string }[] = [];
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: {
      ...DEFAULT_DELIVERY,
      pollIntervalMs: 20,
      retrySchedule: [1],
      retryJitter: 0,
      allowNetworks: ['127.0.0.0/8'],
      concurrency: 16,
      perEndpointConcurrency: 1,
      perProjectConcurrency: 12,
      claimBatch: 32,
      leaseMs: 2_000,
      // ~10 queued 20 KiB events in all, 7 of them for one project: some are turned away.
      bytesInFlight: 200 * KiB,
    },
    workerId: 'w1',
    hooks: { onError: (_error, during) => errors.push({ during }) },
  });
  cleanups.push(() => dispatcher.stop({ graceMs: 2_000 }));
  const queuedBytes = () => dispatcher.queuedBytes!();
  let most = 0;
  const sampling = setInterval(() => (most = Math.max(most, queuedBytes())), 5);
  cleanups.push(() => clearInterval(sampling));

  const busyDeliveries = await acceptLargeEvents(store, busy, 12, 20 * KiB, 'busy');
  const otherDeliveries = await acceptLargeEvents(store, other, 4, 20 * KiB, 'other');
  failReads = true;
  await dispatcher.start();
  // Queues have formed behind the first attempts (1.2 s each): now their endpoints change.
  await sleep(400);
  await store.deleteEndpoint(other, deleted, Date.now());
  await store.updateEndpoint(other, disabled, { active: false }, Date.now());
  await until('the view read failure', () => errors.some((e) => e.during === 'dispatch endpoints'));
  failReads = false;

  const byId = async (projectId: string, id: string) => (await store.getDelivery(projectId, id))?.status;
  const settled = async () => {
    for (const d of busyDeliveries) if ((await byId(busy, d.id)) !== 'succeeded') return false;
    for (const d of otherDeliveries) {
      const status = await byId(other, d.id);
      // The disabled endpoint's first attempt had started before it was disabled.
      const done = d.endpointId === disabled ? ['succeeded', 'parked'] : ['succeeded'];
      if (d.endpointId !== deleted && !done.includes(status ?? '')) return false;
    }
    return true;
  };
  await until('every delivery sent or parked', settled, 60_000);
  await sleep(200); // the last attempts' queues are looked at once more
  assert.ok(most > 100 * KiB, `at most ${most} bytes were ever queued: the queues did not form`);
  assert.ok(
    released.some((r) => r.status === 'parked'),
    "the disabled endpoint's queue was not handed back parked",
  );
  assert.ok(
    released.some(
      (r) => r.rateLimited && otherDeliveries.some((d) => d.id === r.deliveryId && d.endpointId === limited),
    ),
    "the rate-limited endpoint's deliveries were not put back",
  );
  // With the limit that put them off: removed or raised meanwhile, the store makes them due at once.
  assert.ok(
    released
      .filter((r) => r.rateLimited)
      .every((r) => r.rateLimit?.perSecond === 2 && r.rateLimit.burst === 1),
    'a rate-limited put-back did not say which limit put it off',
  );
  assert.equal(queuedBytes(), 0, 'bytes still counted as queued once every queue has emptied');

  // Queues again, then the stop hands them back (takeAll).
  await acceptLargeEvents(store, busy, 12, 20 * KiB, 'again');
  await until('queues again', () => queuedBytes() > 0);
  await dispatcher.stop({ graceMs: 2_000 });
  assert.equal(queuedBytes(), 0, 'bytes still counted as queued after the stop handed the queues back');
});
