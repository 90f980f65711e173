/**
 * Claims of endpoints turned away for want of room among the queued bytes (queued-bytes.ts) take
 * no more of them than that room holds: a real dispatcher on a real SQLite or PostgreSQL store, the
 * real sender and a loopback receiver that answers slowly; the store's claims are watched, not
 * changed.
 *
 * One project's distinct 20 KiB events to 8 endpoints, more than its share of the bytes in flight
 * and of the queued bytes hold: the rest waits in the store. Before, the first delivery that fitted
 * again let every endpoint turned away back at once, and the next claim read a claim's worth of
 * their payloads for the one that fitted, handing the rest back, at every attempt's end: the
 * claims brought 3.0-3.4 deliveries per delivery sent on SQLite, 2.4 on PostgreSQL. Counted here:
 * the deliveries the claims bring, per delivery sent.
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
import { endpointInput } from '../store/helpers.ts';
import { filePostgres } from '../support/postgres.ts';
import { until } from '../support/wait-until.ts';
import { startReceiver } from './receiver.ts';

const KiB = 1024;
const ENDPOINTS = 8;
const PER_ENDPOINT = 6;
const postgres = filePostgres();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`${backend}: endpoints turned away for want of queued room are claimed only as far as that room holds`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-queued-room-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const url =
      backend === 'sqlite' ? `sqlite:${join(dir, 'herald.db')}` : await (await postgres()).createDatabase();
    const store = await openStore(url);
    cleanups.push(() => store.close());
    const sender = createSender({
      allowNetworks: ['127.0.0.0/8'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    cleanups.push(() => sender.close());
    const r = await startReceiver(() => ({ delayMs: 150 }));
    cleanups.push(() => r.close());

    const projectId = (await store.createProject({ name: 'large' }, Date.now())).id;
    for (let i = 0; i < ENDPOINTS; i++) {
      await store.createEndpoint(
        endpointInput(projectId, {
          url: `${r.url}/${i}`,
          name: `e${i}`,
          eventTypes: [`t${i}`],
          timeoutMs: 10_000,
        }),
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        Date.now(),
      );
    }
    // Distinct events, one endpoint each: every delivery its own payload.
    const events = [];
    for (let n = 0; n < ENDPOINTS * PER_ENDPOINT; n++) {
      events.push({
        type: `t${n % ENDPOINTS}`,
        payload: { n, blob: 'x'.repeat(20 * KiB) },
        test: false,
        idempotencyKey: null,
        callbackUrl: null,
      });
    }
    await store.acceptEvents(projectId, events, Date.now());
    const total = events.length;

    let claimed = 0;
    const claim = store.claimDueDeliveries.bind(store);
    store.claimDueDeliveries = async (options) => {
      const got = await claim(options);
      claimed += got.length;
      return got;
    };

    const dispatcher = createDispatcher({
      store,
      send: sender.send,
      config: {
        ...DEFAULT_DELIVERY,
        pollIntervalMs: 50,
        allowNetworks: ['127.0.0.0/8'],
        concurrency: 16,
        perEndpointConcurrency: 2,
        perProjectConcurrency: 12,
        claimBatch: 32,
        // The project's share (3/4): ~7 attempts in flight and ~7 deliveries queued at a time.
        bytesInFlight: 200 * KiB,
      },
      workerId: 'w1',
    });
    cleanups.push(() => dispatcher.stop({ graceMs: 2_000 }));
    await dispatcher.start();
    await until('every delivery sent', () => r.requests.length >= total, 60_000);

    assert.equal(r.requests.length, total, 'a delivery was sent twice');
    // Each is claimed once, and again when handed back from its queue for want of room; a few more
    // for the first claims, made before anything is known of the payloads' sizes.
    assert.ok(
      claimed <= 2 * total,
      `the claims brought ${claimed} deliveries for ${total} sent: ${(claimed / total).toFixed(1)} each`,
    );
  });
}
