/**
 * A project at its cap gives a freed slot to the endpoint whose turn it is (endpoint-queues.ts,
 * startProject). When that endpoint's view is too old to start with, it is read again first, and
 * the slot is its own once the read ends. It was not kept for it: the endpoint whose attempt freed
 * it, its view fresh, took it at once, and the read came back to no slot. The next turn found the
 * view old again: read again, lost again, for as long as the other endpoint had a backlog (the
 * queued delivery went back to the store at half its lease, and came back to the same). A real
 * SQLite store whose reads of one endpoint answer 150 ms late, the real sender and a loopback
 * receiver; the order of arrivals is counted, not time.
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

const dir = mkdtempSync(join(tmpdir(), 'herald-cap-view-reads-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a project at its cap keeps the freed slot for the endpoint whose view is read again, not for the endpoint that freed it', async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  // The busy endpoint answers after longer than a view stays fresh: each of its attempts' ends finds
  // the waiting endpoint's view old.
  const receiver = await startReceiver((req) => ({
    status: 200,
    delayMs: req.url.endsWith('/busy') ? QUEUED_VIEW_MAX_AGE_MS + 20 : 0,
  }));
  const sender = createSender({
    allowNetworks: ['127.0.0.1/32'],
    maxResponseBytes: 65536,
    userAgent: 'test',
  });
  const backlog = 12;
  try {
    const project = await store.createProject({ name: 'p' }, Date.now());
    const busy = await store.createEndpoint(
      endpointInput(project.id, { url: `${receiver.url}/busy`, eventTypes: ['busy.x'] }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
    const waiting = await store.createEndpoint(
      endpointInput(project.id, { url: `${receiver.url}/waiting`, eventTypes: ['waiting.x'] }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
    assert.ok(busy.id !== waiting.id);
    // Reads of the waiting endpoint answer late (a database far away, a busy thread); the busy
    // endpoint's at once.
    const read = store.getDispatchEndpoints.bind(store);
    store.getDispatchEndpoints = async (refs, now) => {
      const found = await read(refs, now);
      if (refs.some((r) => r.endpointId === waiting.id)) await sleep(QUEUED_VIEW_MAX_AGE_MS + 50);
      return found;
    };
    // The busy endpoint's backlog is due first; one slot for the project.
    await store.acceptEvents(
      project.id,
      Array.from({ length: backlog }, (_, i) => eventInput('busy.x', { payload: { i } })),
      Date.now(),
    );
    await store.acceptEvents(project.id, [eventInput('waiting.x', { payload: { i: -1 } })], Date.now());
    const dispatcher = capDispatcher(store, sender.send, {
      pollIntervalMs: 50,
      allowNetworks: ['127.0.0.1/32'],
      concurrency: 64,
      perEndpointConcurrency: 1,
      perProjectConcurrency: 1,
    });
    await dispatcher.start();
    try {
      await receiver.waitFor(backlog + 1, 30_000);
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
    const order = receiver.requests.map((r) => r.url.slice(r.url.lastIndexOf('/') + 1));
    // Its turn comes after one or two of the busy endpoint's. Before: the busy endpoint's whole
    // backlog went first.
    const at = order.indexOf('waiting');
    assert.ok(at >= 0 && at <= 4, `the waiting endpoint's delivery arrived ${at + 1}th: ${order.join(' ')}`);
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});
