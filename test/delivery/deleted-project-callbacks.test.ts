/**
 * Callbacks (an event's callbackUrl, no endpoint) queued for a slot of their project
 * (callback-queues.ts) when the project is deleted, or its delete is under way (cut short by a
 * stop after its first step), while they wait. Before, they were sent when a slot freed, up to
 * half a lease after the delete; now a callback that waited longer than a queued endpoint's view
 * may be old reads its project again first, and goes back (the delete closed it) unsent. A real
 * SQLite store and dispatcher, a loopback receiver that holds the project's one attempt in flight
 * until the delete is done; the hand-backs are counted through the store's releaseDeliveries.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUEUED_VIEW_MAX_AGE_MS } from '../../src/delivery/endpoint-queues.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { projectDeleteSteps } from '../../src/store/project-delete-steps.ts';
import type { Store } from '../../src/store/store.ts';
import { eventInput } from '../store/helpers.ts';
import { capDispatcher } from './cap-dispatcher.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-deleted-project-callbacks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback receiver that holds every request's answer until release(). */
async function heldReceiver() {
  const urls: string[] = [];
  const held: ServerResponse[] = [];
  let released = false;
  let arrived: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      urls.push(req.url ?? '');
      arrived();
      if (released) res.end('ok');
      else held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    urls,
    first,
    release() {
      released = true;
      for (const res of held.splice(0)) res.end('ok');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

for (const [i, how] of (['deleted', 'whose delete is under way'] as const).entries()) {
  test(`the queued callbacks of a project ${how} while they wait for its slot are not sent`, async () => {
    const real = await openStore(`sqlite:${join(dir, `${i}.db`)}`);
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
    const receiver = await heldReceiver();
    const sender = createSender({
      allowNetworks: ['127.0.0.0/8'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    try {
      const project = await store.createProject({ name: 'p' }, Date.now());
      await store.acceptEvents(
        project.id,
        [0, 1, 2].map((i) => eventInput('a', { payload: { i }, callbackUrl: `${receiver.url}/cb${i}` })),
        Date.now(),
      );
      let claimed = 0;
      let claimedAt = 0;
      const dispatcher = capDispatcher(
        store,
        sender.send,
        { concurrency: 64, perEndpointConcurrency: 4, perProjectConcurrency: 1 },
        {
          onClaim: (c) => {
            claimed += c.claimed;
            claimedAt = Date.now();
          },
        },
      );
      await dispatcher.start();
      try {
        // One callback in the project's one slot, held; the other two claimed and queued for it.
        await receiver.first;
        while (claimed < 3) await sleep(10);
        if (how === 'deleted') assert.equal(await real.deleteProject(project.id), true);
        else {
          projectDeleteSteps.committed = () => {
            throw new Error('stopped');
          };
          try {
            await assert.rejects(real.deleteProject(project.id), /stopped/);
          } finally {
            projectDeleteSteps.committed = null;
          }
        }
        // Queued longer than a queued endpoint's view may be old before the slot frees. Counted from
        // the delete's end too, not from the claim alone: the claim is reported before its batch
        // reads its project and queues the callbacks, and on a loaded machine that read took longer
        // than the view's age, so the queue's views were still young at claimedAt + 2 x that age
        // and the two callbacks were sent (once in a run at load ~10).
        const deleted = Date.now();
        await sleep(Math.max(0, Math.max(claimedAt, deleted) + 2 * QUEUED_VIEW_MAX_AGE_MS - Date.now()));
        receiver.release();
        const deadline = Date.now() + 10_000;
        while (receiver.urls.length < 3 && handedBack < 2 && Date.now() < deadline) await sleep(10);
      } finally {
        await dispatcher.stop({ graceMs: 2_000 });
      }
      // Before: the two queued callbacks were sent when the slot freed.
      assert.equal(receiver.urls.length, 1, `sent: ${receiver.urls.join(', ')}`);
      assert.equal(handedBack, 2);
    } finally {
      await sender.close();
      await receiver.close();
      await real.close();
    }
  });
}
