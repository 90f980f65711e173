/**
 * A project held at its connection cap (perProjectConcurrency) by the backlogs of several
 * endpoints: its claimed deliveries wait in their endpoints' queues (a claim and a cap's worth
 * each, endpoint-queues.ts) and start as its slots free. A claim made while the project had a slot
 * free for a moment (a queue's view being read again before it starts) left none of its endpoints
 * out, took of each more than its queue could hold, and handed the rest back, due 50 ms later,
 * behind the whole due backlog: claimed again and again. Claims now leave out every endpoint with
 * a cap's worth queued. Real stores, a real loopback receiver; claims counted through the
 * dispatcher's onClaim hook, hand-backs through the store's releaseDeliveries, never time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { filePostgres } from '../support/postgres.ts';
import { capDispatcher } from './cap-dispatcher.ts';
import { startReceiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-cap-hand-backs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** The file's PostgreSQL, started by the first test that needs it. */
const postgres = filePostgres();

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`${backend}: a project held at its cap by three endpoints' backlogs is claimed only for what it can start or queue`, async () => {
    const url =
      backend === 'sqlite' ? `sqlite:${join(dir, 'cap.db')}` : await (await postgres()).createDatabase();
    const real = await openStore(url);
    let handedBack = 0;
    const store = new Proxy(real, {
      get(target, prop) {
        if (prop === 'releaseDeliveries')
          return (...args: Parameters<Store['releaseDeliveries']>) => {
            handedBack += args[0].length;
            return target.releaseDeliveries(...args);
          };
        // Endpoint reads take a while, as on a busy database: a queue whose view is read again
        // before it starts leaves its project's slot free meanwhile (with SQLite's reads, which
        // answer at once, for too short a time to be sure of a claim in it).
        if (prop === 'getDispatchEndpoints')
          return async (...args: Parameters<Store['getDispatchEndpoints']>) => {
            await new Promise((r) => setTimeout(r, 20));
            return target.getDispatchEndpoints(...args);
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // Slow enough that a queue's view is read again (it is older than QUEUED_VIEW_MAX_AGE_MS)
    // between the claims that fill it.
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 30 }));
    const sender = createSender({
      allowNetworks: ['127.0.0.0/8'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    const events = 150;
    const endpoints = ['a', 'b', 'c'];
    const deliveries = events * endpoints.length;
    let claimed = 0;
    try {
      const project = await store.createProject({ name: 'p' }, Date.now());
      for (const name of endpoints)
        await store.createEndpoint(
          endpointInput(project.id, { url: `${receiver.url}/${name}`, name }),
          'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          Date.now(),
        );
      await store.acceptEvents(
        project.id,
        Array.from({ length: events }, (_, i) => eventInput('order.created', { payload: { i } })),
        Date.now(),
      );
      const dispatcher = capDispatcher(
        store,
        sender.send,
        // The endpoints' cap as the project's (as the soak's --project-cap sets them), claims of
        // 32: each queue holds at most 36, and the backlog is 150 of each.
        {
          perEndpointConcurrency: 4,
          perProjectConcurrency: 4,
          claimBatch: 32,
        },
        { onClaim: (c) => (claimed += c.claimed) },
      );
      await dispatcher.start();
      try {
        await receiver.waitFor(deliveries, 60_000);
      } finally {
        await dispatcher.stop({ graceMs: 2_000 });
      }
      assert.equal(receiver.requests.length, deliveries);
      // Before: 855-1,009 claimed for the 450, 405-559 of them handed back (four runs, both stores).
      assert.ok(
        handedBack <= deliveries / 50 && claimed <= deliveries + deliveries / 50,
        `claimed ${claimed} times for ${deliveries} deliveries, ${handedBack} of them handed back`,
      );
    } finally {
      await sender.close();
      await receiver.close();
      await store.close();
    }
  });
}
