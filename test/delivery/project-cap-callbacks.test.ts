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
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ClaimOptions, Store } from '../../src/store/store.ts';
import { capDispatcher } from './cap-dispatcher.ts';
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
    const dispatcher = capDispatcher(
      store,
      sender.send,
      {
        concurrency: 64,
        perEndpointConcurrency: 4,
        perProjectConcurrency: 4,
      },
      { onClaim: (c) => (claimed += c.claimed) },
    );
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

test('a project whose callbacks are all delivered is forgotten: later claims neither leave its callbacks out nor probe for them', async () => {
  const real = await openStore(`sqlite:${join(dir, 'forgotten.db')}`);
  const claims: ClaimOptions[] = [];
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'claimDueDeliveries')
        return (options: ClaimOptions) => {
          claims.push(options);
          return target.claimDueDeliveries(options);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const receiver = await startReceiver(() => ({ status: 200 }));
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  const event = (i: number, callbackUrl: string | null) => ({
    type: 'a',
    payload: { i },
    test: false,
    idempotencyKey: null,
    callbackUrl,
  });
  try {
    const a = await store.createProject({ name: 'a' }, Date.now());
    const b = await store.createProject({ name: 'b' }, Date.now());
    await store.createEndpoint(
      {
        projectId: b.id,
        url: `${receiver.url}/b`,
        name: 'e',
        description: '',
        eventTypes: [],
        method: 'POST',
        headers: {},
        dev: false,
        timeoutMs: 10_000,
        envelope: 'standard',
        signature: { scheme: 'standard' },
        rateLimit: null,
        retrySchedule: null,
        active: true,
      },
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
    const dispatcher = capDispatcher(
      store,
      sender.send,
      // A cap below what a claim takes (as HERALD_PROJECT_CONCURRENCY=64 with claims of 256, or any
      // cap on a busy process): even an idle project has less room than a claim takes.
      {
        concurrency: 64,
        perEndpointConcurrency: 4,
        perProjectConcurrency: 4,
      },
    );
    await dispatcher.start();
    try {
      await store.acceptEvents(a.id, [event(0, receiver.url), event(1, receiver.url)], Date.now());
      await receiver.waitFor(2, 30_000);
      // Project a's callbacks are delivered and recorded: it has nothing in flight or due.
      while ((await store.countPendingDeliveries(a.id, 10)) > 0) await new Promise((r) => setTimeout(r, 10));
      // The claim its last attempt's end brings may still leave its callbacks out (it had some due
      // a moment before); the ones after it, nothing of it was left to leave out.
      const mentionsA = (c: ClaimOptions) =>
        (c.excludeCallbackProjectIds ?? []).includes(a.id) ||
        (c.first ?? []).some((f) => f.projectId === a.id);
      const drained = claims.length;
      for (let i = 0; i < 300 && claims.slice(drained).every(mentionsA); i++)
        await new Promise((r) => setTimeout(r, 10));
      const before = claims.length;
      await store.acceptEvents(b.id, [event(2, null), event(3, null)], Date.now());
      await receiver.waitFor(4, 30_000);
      const later = claims.slice(before);
      assert.ok(later.length > 0);
      for (const c of later) {
        assert.deepEqual(c.excludeCallbackProjectIds ?? [], [], 'project a is still left out of claims');
        assert.deepEqual(
          (c.first ?? []).filter((f) => f.projectId === a.id),
          [],
          'project a is still claimed first',
        );
      }
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});

test("a full project's callbacks left out by a claim during which its attempts end are claimed once it has room, not at the next poll", async () => {
  const real = await openStore(`sqlite:${join(dir, 'ended-during-claim.db')}`);
  let projectId = '';
  let delayed = false;
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'claimDueDeliveries')
        return async (options: ClaimOptions) => {
          // The first claim that leaves the full project's callbacks out takes long enough (as a
          // PostgreSQL claim under load may) for its one attempt to end meanwhile.
          if (!delayed && (options.excludeCallbackProjectIds ?? []).includes(projectId)) {
            delayed = true;
            await new Promise((r) => setTimeout(r, 600));
          }
          return target.claimDueDeliveries(options);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const receiver = await startReceiver(() => ({ status: 200, delayMs: 150 }));
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  const event = (i: number) => ({
    type: 'a',
    payload: { i },
    test: false,
    idempotencyKey: null,
    callbackUrl: receiver.url,
  });
  try {
    const project = await store.createProject({ name: 'p' }, Date.now());
    projectId = project.id;
    const dispatcher = capDispatcher(
      store,
      sender.send,
      // A poll far off: what brings the second callback is the first one's end, or nothing.
      {
        pollIntervalMs: 60_000,
        concurrency: 64,
        perEndpointConcurrency: 1,
        perProjectConcurrency: 1,
      },
    );
    await dispatcher.start();
    try {
      await store.acceptEvents(project.id, [event(0)], Date.now());
      // The first callback is out (the project at its cap of 1); the second comes due now, and the
      // claim it wakes leaves the project's callbacks out while the first one's attempt ends.
      await receiver.waitFor(1, 10_000);
      await store.acceptEvents(project.id, [event(1)], Date.now());
      await receiver.waitFor(2, 15_000);
      assert.ok(delayed, 'a claim left the full project’s callbacks out');
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});
