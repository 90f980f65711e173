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
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';
import { startReceiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-cap-turns-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** The file's PostgreSQL, started by the first test that needs it. */
let postgresServer: Promise<TestPostgres> | undefined;
const postgres = () => {
  postgresServer ??= withPostgres();
  return postgresServer;
};
after(async () => {
  await (await postgresServer)?.stop();
});

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
      const dispatcher = createDispatcher({
        store,
        send: sender.send,
        config: {
          ...DEFAULT_DELIVERY,
          pollIntervalMs: 50,
          retryJitter: 0,
          allowNetworks: ['127.0.0.1/32'],
          concurrency: 64,
          perEndpointConcurrency: 3,
          perProjectConcurrency: 3,
        },
        workerId: 'w1',
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
