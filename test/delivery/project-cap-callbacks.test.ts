/**
 * A project at its connection cap (perProjectConcurrency) has its endpoints left out of claims, so
 * its backlog is not claimed only to be held or handed back. Its callback deliveries (callbackUrl,
 * no endpoint) have no endpoint to leave out: claims kept taking them and handing them back, due
 * 50 ms later, claim after claim while the project stayed at its cap. A real SQLite store, a real
 * loopback receiver answering slowly; the claims are counted through the dispatcher's onClaim
 * hook, the hand-backs through the store's releaseDeliveries.
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
import type { Store } from '../../src/store/store.ts';
import { startReceiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-cap-callbacks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a project at its cap is not claimed for its callbacks only to hand them back: each is claimed about once', async () => {
  const real = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  let handedBack = 0;
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'releaseDeliveries')
        return (...args: Parameters<Store['releaseDeliveries']>) => {
          handedBack += args[0].length;
          return target.releaseDeliveries(...args);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const receiver = await startReceiver(() => ({ status: 200, delayMs: 150 }));
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  const count = 40;
  try {
    const project = await store.createProject({ name: 'p' }, Date.now());
    const events = Array.from({ length: count }, (_, i) => ({
      type: 'a',
      payload: { i },
      test: false,
      idempotencyKey: null,
      callbackUrl: receiver.url,
    }));
    await store.acceptEvents(project.id, events, Date.now());
    let claimed = 0;
    const dispatcher = createDispatcher({
      store,
      send: sender.send,
      config: {
        ...DEFAULT_DELIVERY,
        retryJitter: 0,
        allowNetworks: ['127.0.0.0/8'],
        concurrency: 64,
        perEndpointConcurrency: 4,
        perProjectConcurrency: 4,
      },
      workerId: 'w1',
      hooks: { onClaim: (c) => (claimed += c.claimed) },
    });
    await dispatcher.start();
    try {
      await receiver.waitFor(count, 60_000);
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
    assert.equal(receiver.requests.length, count);
    // Before: the project's callbacks were claimed while it was at its cap, and handed back.
    assert.ok(
      claimed < 2 * count,
      `claimed ${claimed} times for ${count} callbacks, ${handedBack} of them handed back`,
    );
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});
