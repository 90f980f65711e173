/**
 * A failing endpoint's queued deliveries go back to the store, held a second (so that no worker
 * takes them straight back while the failure is recorded), and keep their place in the due order:
 * once free they go before what became due after them. Until 2026-12-06 the hand-back moved their
 * due time a second on, behind every delivery that had become due meanwhile, so under a steady
 * backlog they went last, and at each failure again. A real SQLite store and a loopback receiver;
 * the order is that of the requests' arrival (one connection at a time), not of any clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput } from '../store/helpers.ts';
import { startReceiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-hand-back-order-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OLD = 12;
const NEW = 30;

const events = (kind: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    type: 'a',
    payload: { [kind]: i },
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
  }));

test('a failing endpoint’s queue handed back keeps its place: its deliveries go before those that became due after them', async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  const project = await store.createProject({ name: 'p' }, Date.now());
  let accepted: Promise<unknown> | undefined;
  // The first three attempts fail (three in a row: the endpoint is failing, its queue goes back);
  // while the first is out, NEW more events come in, due after the OLD ones. Every answer takes
  // 100 ms, one connection at a time, so the backlog lasts well past the second they are held.
  const receiver = await startReceiver((_r, i) => {
    if (i === 0) accepted = store.acceptEvents(project.id, events('new', NEW), Date.now());
    return { status: i < 3 ? 500 : 200, delayMs: 100 };
  });
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  try {
    // Retries an hour later: only first attempts are due here.
    await store.createEndpoint(
      endpointInput(project.id, { url: receiver.url, retrySchedule: [3600] }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
    await store.acceptEvents(project.id, events('old', OLD), Date.now());
    const dispatcher = createDispatcher({
      store,
      send: sender.send,
      config: {
        ...DEFAULT_DELIVERY,
        retryJitter: 0,
        allowNetworks: ['127.0.0.0/8'],
        perEndpointConcurrency: 1,
        claimBatch: 4,
        failureThreshold: 1_000,
      },
      workerId: 'w1',
    });
    await dispatcher.start();
    try {
      await receiver.waitFor(OLD + NEW, 60_000);
      await accepted;
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
    const order = receiver.requests.map((r) => {
      const m = /"(old|new)":(\d+)/.exec(r.body);
      assert.ok(m, r.body);
      return `${m[1]}${m[2]}`;
    });
    assert.equal(new Set(order).size, OLD + NEW, 'each sent once');
    const lastOld = Math.max(...order.map((k, i) => (k.startsWith('old') ? i : -1)));
    const lastNew = Math.max(...order.map((k, i) => (k.startsWith('new') ? i : -1)));
    // Before: the OLD deliveries queued at the third failure came after every NEW one.
    assert.ok(lastOld < lastNew, `arrivals: ${order.join(' ')}`);
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});
