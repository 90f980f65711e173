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
