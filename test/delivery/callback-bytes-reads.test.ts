/**
 * A project's callback that waits in its queue for room for its body among the bytes in flight
 * (callback-queues.ts) reads its project again before it starts when it has waited longer than
 * QUEUED_VIEW_MAX_AGE_MS. That read came before its bytes were looked at: with the room not there,
 * it went back to waiting after each read, and with a read slower than 100 ms (a distant database,
 * a busy thread) the read's end found the project too old again and read it again, back to back,
 * for as long as the room did not come (up to an attempt's timeout). A real SQLite store whose
 * reads of the callback's project answer late, the real sender and loopback receivers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUEUED_VIEW_MAX_AGE_MS } from '../../src/delivery/endpoint-queues.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { until } from '../support/wait-until.ts';
import { capDispatcher } from './cap-dispatcher.ts';
import { heldReceiver } from './held-receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-callback-bytes-reads-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a callback waiting for room for its body does not read its project again while the room is not there', async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  const rx = await heldReceiver(['slow']);
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  try {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const a = await store.createProject({ name: 'a' }, Date.now());
    const b = await store.createProject({ name: 'b' }, Date.now());
    const c = await store.createProject({ name: 'c' }, Date.now());
    await store.createEndpoint(
      endpointInput(a.id, { url: `${rx.url}/slow`, timeoutMs: 30_000 }),
      secret,
      Date.now(),
    );
    await store.createEndpoint(endpointInput(c.id, { url: `${rx.url}/fast` }), secret, Date.now());
    // Reading b again answers late, as a distant database would.
    let reads = 0;
    const read = store.getProject.bind(store);
    store.getProject = async (idOrUid) => {
      const found = await read(idOrUid);
      if (idOrUid === b.id) {
        reads++;
        await sleep(QUEUED_VIEW_MAX_AGE_MS + 50);
      }
      return found;
    };
    // 100 KiB in flight: a's 60 KB attempt (held) leaves no room for b's 60 KB callback.
    const dispatcher = capDispatcher(store, sender.send, {
      pollIntervalMs: 50,
      concurrency: 8,
      perEndpointConcurrency: 2,
      perProjectConcurrency: 8,
      bytesInFlight: 100 * 1024,
    });
    const blob = 'x'.repeat(60_000);
    await store.acceptEvents(a.id, [eventInput('a.x', { payload: { blob } })], Date.now());
    await dispatcher.start();
    try {
      await until('the slow attempt out', () => rx.held.length === 1);
      await store.acceptEvents(
        b.id,
        [eventInput('b.x', { payload: { blob }, callbackUrl: `${rx.url}/callback` })],
        Date.now(),
      );
      await until('the callback queued', () => dispatcher.load?.()?.deliveriesQueued === 1);
      // Queued longer than its project may be old; then other attempts end (c's), each looking at it.
      await sleep(2 * QUEUED_VIEW_MAX_AGE_MS);
      const before = reads;
      await store.acceptEvents(
        c.id,
        [0, 1, 2].map((i) => eventInput('c.x', { payload: { i } })),
        Date.now(),
      );
      await until("c's events", () => rx.arrivals.filter((p) => p === 'fast').length === 3);
      await sleep(1_500);
      // Before: read back to back (~10 in 1.5 s), the room never there after each read.
      assert.ok(reads - before <= 1, `${reads - before} reads of its project while no room came`);
      assert.ok(!rx.arrivals.includes('callback'));
      // The room comes: read once more at most, and sent.
      rx.letGo();
      await until('the callback', () => rx.arrivals.includes('callback'));
      assert.ok(reads - before <= 2, `${reads - before} reads of its project`);
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
  } finally {
    await sender.close();
    await rx.close();
    await store.close();
  }
});
