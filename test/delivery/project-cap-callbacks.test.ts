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
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ClaimOptions, Store } from '../../src/store/store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { filePostgres } from '../support/postgres.ts';
import { capDispatcher } from './cap-dispatcher.ts';
import { startReceiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-cap-callbacks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** The file's PostgreSQL, started by the first test that needs it. */
const postgres = filePostgres();

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

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`${backend}: a project held at its cap by one endpoint's backlog gives its callbacks a turn as its slots free`, async () => {
    // Before: each slot the project freed went to the endpoint's claimed, queued deliveries, and
    // its callbacks (left out of claims while it was full) waited until that backlog had drained.
    // Order of arrivals at the receiver, not time: with a cap of 2 and one endpoint queue, the
    // callbacks' queue keeps one slot while it has work, so the four come within a few of the
    // endpoint's deliveries after they were accepted, far before its backlog of 80 ends (before
    // the fix: after all 80).
    const url =
      backend === 'sqlite' ? `sqlite:${join(dir, 'turns.db')}` : await (await postgres()).createDatabase();
    const store = await openStore(url);
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 40 }));
    const sender = createSender({
      allowNetworks: ['127.0.0.0/8'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    const backlog = 80;
    let before = 0;
    try {
      const project = await store.createProject({ name: 'p' }, Date.now());
      await store.createEndpoint(
        endpointInput(project.id, { url: `${receiver.url}/endpoint`, eventTypes: ['order.created'] }),
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        Date.now(),
      );
      await store.acceptEvents(
        project.id,
        Array.from({ length: backlog }, (_, i) => eventInput('order.created', { payload: { i } })),
        Date.now(),
      );
      const dispatcher = capDispatcher(store, sender.send, {
        pollIntervalMs: 50,
        concurrency: 64,
        perEndpointConcurrency: 4,
        perProjectConcurrency: 2,
      });
      const toEndpoint = () => receiver.requests.filter((r) => r.url.endsWith('/endpoint')).length;
      await dispatcher.start();
      try {
        // The project at its cap, the endpoint's claimed deliveries queued behind it.
        await receiver.waitFor(6, 30_000);
        before = toEndpoint();
        await store.acceptEvents(
          project.id,
          Array.from({ length: 4 }, (_, i) =>
            eventInput('callback.only', { payload: { i }, callbackUrl: `${receiver.url}/callback` }),
          ),
          Date.now(),
        );
        await receiver.waitFor(backlog + 4, 60_000);
      } finally {
        await dispatcher.stop({ graceMs: 100 });
      }
      const order = receiver.requests.map((r) => (r.url.endsWith('/callback') ? 'c' : 'e'));
      const lastCallback = order.lastIndexOf('c');
      const endpointBeforeLast = order.slice(0, lastCallback).filter((x) => x === 'e').length;
      assert.equal(order.filter((x) => x === 'c').length, 4);
      // About one slot each, a few of the endpoint's after the callbacks were accepted; the claim
      // that takes them lets a few more end meanwhile.
      assert.ok(
        endpointBeforeLast - before <= 20,
        `the last callback came after ${endpointBeforeLast} of the endpoint's ${backlog} deliveries, ` +
          `${before} of them before the callbacks were accepted: ${order.join('')}`,
      );
    } finally {
      await sender.close();
      await receiver.close();
      await store.close();
    }
  });

  test(`${backend}: a project at its cap with a backlog of slow callbacks keeps a slot for its endpoint's backlog, not one start for each callback`, async () => {
    // Turns of one start each (a slot to the callbacks once the endpoint queues had one each) held
    // an endpoint answering at once to one delivery per callback answering in 1.5 s: the soak at a
    // cap of 12 delivered half its load. Now the callbacks keep about one slot of the two, the
    // endpoint the other.
    const url =
      backend === 'sqlite' ? `sqlite:${join(dir, 'share.db')}` : await (await postgres()).createDatabase();
    const store = await openStore(url);
    const receiver = await startReceiver((req) => ({
      status: 200,
      delayMs: req.url.endsWith('/callback') ? 1_500 : 0,
    }));
    const sender = createSender({
      allowNetworks: ['127.0.0.0/8'],
      maxResponseBytes: 65536,
      userAgent: 'test',
    });
    const slow = 10;
    const fast = 40;
    try {
      const project = await store.createProject({ name: 'p' }, Date.now());
      await store.createEndpoint(
        endpointInput(project.id, { url: `${receiver.url}/endpoint`, eventTypes: ['order.created'] }),
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        Date.now(),
      );
      // The callbacks due first: two take the project's two slots, the rest of both wait.
      await store.acceptEvents(
        project.id,
        Array.from({ length: slow }, (_, i) =>
          eventInput('callback.only', { payload: { i }, callbackUrl: `${receiver.url}/callback` }),
        ),
        Date.now(),
      );
      await store.acceptEvents(
        project.id,
        Array.from({ length: fast }, (_, i) => eventInput('order.created', { payload: { i } })),
        Date.now(),
      );
      const dispatcher = capDispatcher(store, sender.send, {
        pollIntervalMs: 50,
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
      const order = receiver.requests.map((r) => (r.url.endsWith('/callback') ? 'c' : 'e'));
      // Before the fix (turns of one start): cccceeceece… one of the endpoint's per callback.
      const endpointBeforeLast = order.slice(0, order.lastIndexOf('c')).filter((x) => x === 'e').length;
      assert.equal(endpointBeforeLast, fast, order.join(''));
    } finally {
      await sender.close();
      await receiver.close();
      await store.close();
    }
  });
}

test("a callback handed off while other projects' attempts fill every slot of the process is sent once one ends, not after its lease", async () => {
  // The callback's project has nothing in flight: no attempt of its own ends to start its queue.
  // Before: it waited in its project's queue until its lease ran out (60 s) and it was claimed again.
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
    await store.createEndpoint(
      endpointInput(busy.id, { url: `${receiver.url}/busy`, eventTypes: ['order.created'] }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
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
      await api.acceptEvents(
        quiet.id,
        [eventInput('callback.only', { callbackUrl: `${receiver.url}/callback` })],
        Date.now(),
      );
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
      assert.ok(receiver.requests.at(-1)!.url.endsWith('/callback'));
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
