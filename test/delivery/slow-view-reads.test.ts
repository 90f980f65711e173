/**
 * A queued delivery's endpoint view is read again before it starts when older than
 * QUEUED_VIEW_MAX_AGE_MS (endpoint-queues.ts). A read that itself takes longer than that (a
 * database far away, or a dispatcher thread busy for that long) came back already too old: it was
 * read again, and again, and the delivery never went out (its lease ran out and a claim took it
 * again, to the same end). A real SQLite store whose endpoint reads are made to answer 150 ms
 * late, the real sender and a loopback receiver.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUEUED_VIEW_MAX_AGE_MS } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { capDispatcher } from './cap-dispatcher.ts';
import { startReceiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-slow-view-reads-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a queued delivery goes out when reading its endpoint again takes longer than a view may be old', async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  // Every read of endpoints answers late, as a distant database would.
  const readLate = QUEUED_VIEW_MAX_AGE_MS + 50;
  let reads = 0;
  const read = store.getDispatchEndpoints.bind(store);
  store.getDispatchEndpoints = async (refs, now) => {
    reads++;
    const found = await read(refs, now);
    await sleep(readLate);
    return found;
  };
  const receiver = await startReceiver();
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  try {
    const project = await store.createProject({ name: 'p' }, Date.now());
    await store.createEndpoint(
      endpointInput(project.id, { url: receiver.url }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
    // One connection to the endpoint: the second delivery waits in its queue for the first's.
    const dispatcher = capDispatcher(store, sender.send, { pollIntervalMs: 50, perEndpointConcurrency: 1 });
    await store.acceptEvents(
      project.id,
      [0, 1].map((i) => eventInput('order.created', { payload: { i } })),
      Date.now(),
    );
    await dispatcher.start();
    try {
      // Before: the first arrived, the second's view was read again every 150 ms and never used.
      await receiver.waitFor(2, 10_000);
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
    assert.equal(receiver.requests.length, 2);
    // The claim's read and one read again for the queued delivery (a few more at most).
    assert.ok(reads <= 4, `${reads} reads of the endpoint for two deliveries`);
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});

test("a queued delivery whose endpoint's view is read slowly is not passed by its project's other endpoints while it is read", async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald-2.db')}`);
  const receiver = await startReceiver((request) =>
    request.url === '/f' ? { delayMs: 120 } : { status: 200 },
  );
  const base = receiver.url.replace(/\/hook$/, '');
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  try {
    const project = await store.createProject({ name: 'p' }, Date.now());
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const e = await store.createEndpoint(
      endpointInput(project.id, { url: `${base}/e`, eventTypes: ['e.sent'] }),
      secret,
      Date.now(),
    );
    await store.createEndpoint(
      endpointInput(project.id, { url: `${base}/f`, eventTypes: ['f.sent'] }),
      secret,
      Date.now(),
    );
    // Reading e's view again (for its queued delivery) answers late; the other reads do not.
    const read = store.getDispatchEndpoints.bind(store);
    store.getDispatchEndpoints = async (refs, now) => {
      const found = await read(refs, now);
      if (refs.length === 1 && refs[0]!.endpointId === e.id) await sleep(QUEUED_VIEW_MAX_AGE_MS + 50);
      return found;
    };
    // A cap of 2: f's backlog (answers in 120 ms) holds both slots; e's one delivery waits behind.
    const now = Date.now();
    await store.acceptEvents(
      project.id,
      Array.from({ length: 24 }, (_, i) => eventInput('f.sent', { payload: { i } })),
      now,
    );
    await store.acceptEvents(project.id, [eventInput('e.sent')], now);
    const dispatcher = capDispatcher(store, sender.send, { pollIntervalMs: 50, perProjectConcurrency: 2 });
    await dispatcher.start();
    try {
      await receiver.waitFor(25, 15_000);
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
    const order = receiver.requests.map((r) => r.url);
    // Before: each freed slot went to f while e's view was read (f's own read, or f's fresh view),
    // e found none when its read ended, and read again at the next: it went after f's backlog
    // (25th of 25). Now in the slot left to it as its read ends (4th-5th here): before half of it.
    const at = order.indexOf('/e');
    assert.ok(at >= 0 && at < 12, `e's delivery arrived ${at + 1}th of ${order.length}: ${order.join(',')}`);
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});
