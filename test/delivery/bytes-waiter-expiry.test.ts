/**
 * A queue waiting for room for its body hands its deliveries back once they have waited half their
 * lease (endpoint-queues.ts expire). The endpoints waiting behind it may then fit: the first one
 * held back by the whole budget stops every one behind it (byte-budget.ts). They were left waiting
 * until an attempt ended (up to its timeout), though the room was there, and a delivery among them
 * went back to the store at its own half lease rather than being sent. A real SQLite store, the real
 * sender and a loopback receiver that holds another project's attempt until the test ends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { until } from '../support/wait-until.ts';
import { capDispatcher } from './cap-dispatcher.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-bytes-waiter-expiry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the endpoints waiting for room behind a queue handed back at half its lease start when the room is there', async () => {
  const real = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  const log: string[] = [];
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'releaseDeliveries')
        return (...args: Parameters<Store['releaseDeliveries']>) => {
          for (const it of args[0]) log.push(`released ${it.deliveryId}`);
          return target.releaseDeliveries(...args);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      log.push(`arrived ${req.url}`);
      if (req.url === '/hold') held.push(res);
      else res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  try {
    const a = await store.createProject({ name: 'a' }, Date.now());
    const b = await store.createProject({ name: 'b' }, Date.now());
    await store.createEndpoint(
      endpointInput(a.id, { url: `${url}/hold`, timeoutMs: 5_000 }),
      secret,
      Date.now(),
    );
    // A 10 s lease with 5 s timeouts at most (the 5 s margin): the large one (3 s timeout) waits
    // 2 s at most, the small one (500 ms) 4.5 s.
    await store.createEndpoint(
      endpointInput(b.id, { url: `${url}/big`, eventTypes: ['big'], timeoutMs: 3_000 }),
      secret,
      Date.now(),
    );
    const small = await store.createEndpoint(
      endpointInput(b.id, { url: `${url}/small`, eventTypes: ['small'], timeoutMs: 500 }),
      secret,
      Date.now(),
    );
    // 100 KiB in flight: a's 50 KB attempt (held) leaves room for b's 30 KB one, not its 60 KB one.
    const dispatcher = capDispatcher(store, sender.send, {
      pollIntervalMs: 50,
      bytesInFlight: 100 * 1024,
      concurrency: 64,
      perProjectConcurrency: 64,
      perEndpointConcurrency: 2,
      leaseMs: 10_000,
      defaultTimeoutMs: 1_000,
      maxTimeoutMs: 5_000,
    });
    await store.acceptEvents(a.id, [eventInput('a', { payload: { blob: 'x'.repeat(50_000) } })], Date.now());
    await dispatcher.start();
    try {
      await until("a's attempt out", () => held.length === 1);
      // One claim: the large one waits for room (first, held back by the whole budget), the small
      // one behind it.
      await store.acceptEvents(
        b.id,
        [
          eventInput('big', { payload: { blob: 'x'.repeat(60_000) } }),
          eventInput('small', { payload: { blob: 'x'.repeat(30_000) } }),
        ],
        Date.now(),
      );
      const [smallDelivery] = (
        await store.listEndpointDeliveries(b.id, small.id, { limit: 1, status: 'pending' })
      ).data;
      assert.ok(smallDelivery);
      await until('the small delivery', () => log.includes('arrived /small'), 10_000);
      // Sent under its first claim: once the large one went back, the room was there for it.
      // Before: it waited for a's attempt to end, and went back itself at its half lease first.
      assert.ok(!log.includes(`released ${smallDelivery.id}`), log.join('\n'));
      assert.equal(held.length, 1, "a's attempt still out");
    } finally {
      for (const res of held.splice(0)) res.end('ok');
      await dispatcher.stop({ graceMs: 2_000 });
    }
  } finally {
    await sender.close();
    await new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
    await real.close();
  }
});
