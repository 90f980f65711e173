/**
 * A project's callback waiting in its queue for room for its body (callback-queues.ts) was looked
 * at again only when an attempt ended. When what held the room went away without an attempt ending
 * (the bytes taken for an endpoint queue whose view was read again, that queue then handed back:
 * its endpoint deleted meanwhile), nothing looked at it in an idle process: it stayed queued past
 * its lease, was claimed again by its own process and queued behind itself, and the old claim handed
 * back as the new one was sent freed the new one's row: the delivery was due again while its attempt
 * was out, for any worker to send again (this one claimed it a third time, and saw the attempt out).
 * Then (the queue's half-lease expiry) it went back at half its lease, though it fitted once the
 * bytes came back: bytes given back start the stranded callbacks now, as they start the endpoints
 * waiting for room. A real SQLite store whose read of the endpoint's view is held until the test lets it go, the real
 * sender and a loopback receiver.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { until } from '../support/wait-until.ts';
import { capDispatcher } from './cap-dispatcher.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-callback-bytes-expiry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a callback waiting for room that no attempt ending gives starts as the bytes come back, and is sent once under its lease', async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  const arrivals: string[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.push(req.url!);
      // The callback is out a while: a claim made meanwhile finds it out, if its row is due.
      if (req.url === '/callback') setTimeout(() => res.end('ok'), 500);
      else held.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const errors: string[] = [];
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  try {
    const a = await store.createProject({ name: 'a' }, Date.now());
    const b = await store.createProject({ name: 'b' }, Date.now());
    const ends = [];
    for (const path of ['a1', 'a2'])
      ends.push(
        await store.createEndpoint(
          endpointInput(a.id, { url: `${url}/${path}`, timeoutMs: 5_000 }),
          secret,
          Date.now(),
        ),
      );
    // The claims' reads of a's endpoints answer at once; the reads again for their queues wait for
    // `letReads` (a slow database), the bytes of each queue's first delivery taken meanwhile.
    let gated = false;
    let reads = 0;
    let letReads: () => void = () => {};
    const gate = new Promise<void>((r) => {
      letReads = r;
    });
    const read = store.getDispatchEndpoints.bind(store);
    store.getDispatchEndpoints = async (refs, now) => {
      if (gated && refs.length > 0) {
        reads++;
        await gate;
      }
      return read(refs, now);
    };
    // b's deliveries handed back to the store: none, when the room that comes back starts its
    // callback; at its half lease (the queue's expiry), when nothing looks at it until then.
    const handedBack: string[] = [];
    const release = store.releaseDeliveries.bind(store);
    store.releaseDeliveries = async (items) => {
      for (const item of items) if (item.projectId === b.id) handedBack.push(item.deliveryId);
      return release(items);
    };
    // 100 KiB in flight and queued. An 8 s lease, 1 s timeouts: a callback may wait 2 s.
    const dispatcher = capDispatcher(
      store,
      sender.send,
      {
        pollIntervalMs: 50,
        bytesInFlight: 100 * 1024,
        concurrency: 8,
        perProjectConcurrency: 8,
        perEndpointConcurrency: 1,
        leaseMs: 8_000,
        defaultTimeoutMs: 1_000,
        maxTimeoutMs: 5_000,
      },
      { onError: (error, during) => errors.push(`${during}: ${String(error)}`) },
    );
    await store.acceptEvents(a.id, [eventInput('a.small', { payload: { n: 0 } })], Date.now());
    await dispatcher.start();
    try {
      // A small event out to both of a's endpoints (held); a 45 KB one queued behind it at each
      // (one slot per endpoint): one copy of its payload queued, 45 KB.
      await until("a's small attempts out", () => held.length === 2);
      await store.acceptEvents(
        a.id,
        [eventInput('a.large', { payload: { blob: 'x'.repeat(45_000) } })],
        Date.now(),
      );
      await until("a's large deliveries queued", () => dispatcher.load?.()?.deliveriesQueued === 2);
      // The small attempts end: each queue's view (old by now) is read again, the bytes of its large
      // delivery taken first: 90 KB of the 100 KiB in flight, and no attempt out.
      await sleep(200);
      gated = true;
      for (const res of held.splice(0)) res.end('ok');
      await until("a's queues read again", () => reads === 2);
      await until("a's attempts recorded", () => dispatcher.load?.()?.attemptsUnrecorded === 0);
      // b's 40 KB callback: room to wait (85 KB queued), none to start (130 KB in flight).
      await store.acceptEvents(
        b.id,
        [eventInput('b.x', { payload: { blob: 'x'.repeat(40_000) }, callbackUrl: `${url}/callback` })],
        Date.now(),
      );
      await until('the callback queued', () => dispatcher.load?.()?.deliveriesQueued === 3);
      // a's endpoints deleted while their views are read: their queues go back, and the bytes with
      // them, with no attempt ending (none is out).
      for (const ep of ends) assert.ok(await store.deleteEndpoint(a.id, ep.id, Date.now()));
      letReads();
      await until('the callback', () => arrivals.includes('/callback'), 20_000);
      // Its attempt out (500 ms), and claims going on meanwhile.
      await sleep(1_000);
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
    assert.equal(arrivals.filter((p) => p === '/callback').length, 1);
    // Started as the bytes came back: never handed back at its half lease for another claim.
    assert.deepEqual(handedBack, []);
    // Before: claimed a third time while its attempt was out (an attempt of this claim is out).
    assert.deepEqual(
      errors.filter((e) => e.startsWith('lease')),
      [],
    );
  } finally {
    await sender.close();
    await new Promise<void>((r) => {
      for (const res of held.splice(0)) res.end('ok');
      server.closeAllConnections();
      server.close(() => r());
    });
    await store.close();
  }
});
