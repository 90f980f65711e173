/**
 * A project held at its connection cap (perProjectConcurrency) by its endpoints' work shares its
 * slots between them in turn. Each slot that freed went back to the endpoint whose attempt ended,
 * and the project's other slots to its first endpoints with work queued: an endpoint whose queue
 * had emptied a moment (it had caught up) had no slot left, and waited until the others' queues
 * emptied. Real SQLite and PostgreSQL stores, a real loopback receiver; the order of arrivals is
 * counted, not time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { filePostgres } from '../support/postgres.ts';
import { capDispatcher } from './cap-dispatcher.ts';
import { startReceiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-cap-turns-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** The file's PostgreSQL, started by the first test that needs it. */
const postgres = filePostgres();

/** The most arrivals of others between two of `key`'s (or before its first). */
function longestGap(order: string[], key: string): number {
  let last = -1;
  let most = 0;
  order.forEach((x, i) => {
    if (x !== key) return;
    most = Math.max(most, i - last);
    last = i;
  });
  return most;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`${backend}: a project at its cap gives its slots to its endpoints in turn, none waits for the others' backlog`, async () => {
    const url =
      backend === 'sqlite' ? `sqlite:${join(dir, 'turns.db')}` : await (await postgres()).createDatabase();
    const store = await openStore(url);
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 20 }));
    const sender = createSender({
      allowNetworks: ['127.0.0.1/32'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    const keys = ['a', 'b', 'c'];
    const events = 60;
    try {
      const project = await store.createProject({ name: 'p' }, Date.now());
      for (const key of keys)
        await store.createEndpoint(
          endpointInput(project.id, { url: `${receiver.url}/${key}` }),
          'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          Date.now(),
        );
      const dispatcher = capDispatcher(store, sender.send, {
        pollIntervalMs: 50,
        allowNetworks: ['127.0.0.1/32'],
        concurrency: 64,
        perEndpointConcurrency: 3,
        perProjectConcurrency: 3,
      });
      await dispatcher.start();
      try {
        // A steady stream, each event to the three endpoints: more than three slots can carry, so
        // the project stays at its cap and its endpoints' queues come and go.
        for (let i = 0; i < events; i++) {
          await store.acceptEvents(project.id, [eventInput('order.created', { payload: { i } })], Date.now());
          await new Promise((r) => setTimeout(r, 10));
        }
        await receiver.waitFor(keys.length * events, 60_000);
      } finally {
        await dispatcher.stop({ graceMs: 2_000 });
      }
      const order = receiver.requests.map((r) => r.url.slice(r.url.lastIndexOf('/') + 1));
      // In turn, about every third arrival is each endpoint's. Before: one endpoint waited for
      // ~90 of the others' (aaaa…abab…bbbb…cccc).
      for (const key of keys)
        assert.ok(
          longestGap(order, key) <= 20,
          `${key} waited for ${longestGap(order, key)} of the others' arrivals: ${order.join('')}`,
        );
    } finally {
      await sender.close();
      await receiver.close();
      await store.close();
    }
  });
}

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`${backend}: a project at its cap with a slow endpoint's backlog keeps a slot for its fast endpoint's, not one start for each of the slow one's`, async () => {
    const url =
      backend === 'sqlite' ? `sqlite:${join(dir, 'share.db')}` : await (await postgres()).createDatabase();
    const store = await openStore(url);
    const receiver = await startReceiver((req) => ({
      status: 200,
      delayMs: req.url.endsWith('/slow') ? 1_500 : 0,
    }));
    const sender = createSender({
      allowNetworks: ['127.0.0.1/32'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    const slow = 10;
    const fast = 40;
    try {
      const project = await store.createProject({ name: 'p' }, Date.now());
      for (const key of ['slow', 'fast'])
        await store.createEndpoint(
          endpointInput(project.id, { url: `${receiver.url}/${key}`, eventTypes: [`${key}.x`] }),
          'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          Date.now(),
        );
      // Both backlogs due before the dispatcher starts, the slow endpoint's first: its first two
      // take the project's two slots (1.5 s each), and the rest of both wait in their queues.
      const events = (type: string, n: number) =>
        Array.from({ length: n }, (_, i) => eventInput(type, { payload: { i } }));
      await store.acceptEvents(project.id, events('slow.x', slow), Date.now());
      await store.acceptEvents(project.id, events('fast.x', fast), Date.now());
      const dispatcher = capDispatcher(store, sender.send, {
        pollIntervalMs: 50,
        allowNetworks: ['127.0.0.1/32'],
        concurrency: 64,
        perEndpointConcurrency: 8,
        perProjectConcurrency: 2,
      });
      await dispatcher.start();
      try {
        await receiver.waitFor(slow + fast, 60_000);
      } finally {
        await dispatcher.stop({ graceMs: 100 });
      }
      const order = receiver.requests.map((r) => (r.url.endsWith('/slow') ? 's' : 'f'));
      // Once it has a slot the fast endpoint keeps it (it has the fewest attempts in flight), and
      // its backlog goes out while the slow one's takes the other slot: all of it before the slow
      // one's last. Before, each freed slot went to the other endpoint in turn, one start each: the
      // fast one sent one delivery for each of the slow one's (sssfsfsfs…), and most of its backlog
      // waited for the slow one's to empty.
      const fastBeforeLastSlow = order.slice(0, order.lastIndexOf('s')).filter((x) => x === 'f').length;
      assert.equal(fastBeforeLastSlow, fast, order.join(''));
    } finally {
      await sender.close();
      await receiver.close();
      await store.close();
    }
  });
}

test("a delivery handed off while other projects' attempts fill every slot of the process is sent once one ends, not after its lease", async () => {
  // Queued for its endpoint because the process had no free slot, its project with nothing in
  // flight: no attempt of its own ends to start the queue. Before: it waited until its lease ran out
  // (60 s) and a claim took it again.
  const path = join(dir, 'process-full.db');
  const store = await openStore(`sqlite:${path}`);
  const api = await openStore(`sqlite:${path}`);
  const receiver = await startReceiver((req) => ({
    status: 200,
    delayMs: req.url.endsWith('/busy') ? 500 : 0,
  }));
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  try {
    const busy = await store.createProject({ name: 'busy' }, Date.now());
    const quiet = await store.createProject({ name: 'quiet' }, Date.now());
    for (const [project, path] of [
      [busy.id, 'busy'],
      [quiet.id, 'quiet'],
    ] as const) {
      await store.createEndpoint(
        endpointInput(project, { url: `${receiver.url}/${path}`, eventTypes: ['order.created'] }),
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        Date.now(),
      );
    }
    const dispatcher = capDispatcher(store, sender.send, {
      pollIntervalMs: 100,
      concurrency: 2,
      perEndpointConcurrency: 2,
      perProjectConcurrency: 2,
    });
    await dispatcher.start();
    try {
      await store.acceptEvents(
        busy.id,
        [0, 1].map((i) => eventInput('order.created', { payload: { i } })),
        Date.now(),
      );
      // Both of the process's slots are taken by the busy project's attempts (500 ms each).
      await receiver.waitFor(2, 10_000);
      // Accepted through another connection and handed off leased to the worker, as an accept does
      // at light load (handoff.ts).
      await api.acceptEvents(quiet.id, [eventInput('order.created')], Date.now());
      const claimed = await api.claimDueDeliveries({
        limit: 10,
        leaseMs: DEFAULT_DELIVERY.leaseMs,
        now: Date.now(),
        workerId: 'w1',
        excludeEndpointIds: [],
      });
      assert.equal(claimed.length, 1);
      await dispatcher.dispatchClaimed!(claimed);
      await receiver.waitFor(3, 15_000);
      assert.ok(receiver.requests.at(-1)!.url.endsWith('/quiet'));
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
  } finally {
    await sender.close();
    await receiver.close();
    await api.close();
    await store.close();
  }
});
