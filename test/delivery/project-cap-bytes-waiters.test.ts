/**
 * A slot that frees in a project at its cap goes to its endpoints with work held that can start:
 * one with nothing in flight whose body has no room among the bytes in flight (byte-budget.ts)
 * cannot, and waits for bytes to come back. Such endpoints were looked at first every time (none
 * in flight) and each took one of the freed slots' places, so the slot went back to the endpoint
 * that freed it and an endpoint behind them waited; and a project's callbacks, whose turn comes
 * when they have no more in flight than its endpoint with the fewest, compared with such an
 * endpoint's none. A real SQLite store, the real sender and a loopback receiver that holds the
 * slow endpoint's (and callbacks') answers until the test lets them go: the order of arrivals is
 * asserted, not time.
 *
 * And such an endpoint held back by its own project's share is passed by the project's later
 * attempts only while the attempts that were out when it began to wait hold it back: then they
 * wait for it (another project's do not). Passed for good, a large event waited as long as the
 * project's smaller ones kept coming, past its lease.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { DispatcherHooks } from '../../src/delivery/dispatcher-types.ts';
import { createSender } from '../../src/delivery/sender.ts';
import type { Json, SignatureScheme } from '../../src/domain/types.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { NewEventInput } from '../../src/store/store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { until } from '../support/wait-until.ts';
import { capDispatcher } from './cap-dispatcher.ts';
import { heldReceiver } from './held-receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-bytes-waiters-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a project at its cap gives a freed slot to an endpoint that can start, not back to the one that freed it past endpoints waiting for room for their bodies', async () => {
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  const receiver = await heldReceiver(['slow']);
  const { url, arrivals, held } = receiver;
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  const slow = 6;
  const big = 2;
  const fast = 4;
  try {
    const project = await store.createProject({ name: 'p' }, Date.now());
    const endpoint = (path: string, type: string, scheme: SignatureScheme = 'standard') =>
      store.createEndpoint(
        endpointInput(project.id, {
          url: `${url}/${path}`,
          eventTypes: [type],
          timeoutMs: 30_000,
          signature: { scheme },
        }),
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        Date.now(),
      );
    await endpoint('slow', 'slow.x');
    // Two endpoints for one large event, signed over a base64 body (4/3 of it counted in flight):
    // ~53 KiB each, more than the project's share of the bytes in flight (3/64 of 1 MiB: 48 KiB),
    // so each waits until the project holds nothing; its 40 KB payload fits its share of the
    // bytes queued.
    for (let i = 0; i < big; i++) await endpoint('big', 'big.x', 'sha256-body');
    await endpoint('fast', 'fast.x');
    const dispatcher = capDispatcher(store, sender.send, {
      pollIntervalMs: 50,
      concurrency: 64,
      perEndpointConcurrency: 3,
      perProjectConcurrency: 3,
      bytesInFlight: 1024 * 1024,
    });
    const queued = () => dispatcher.load?.()?.deliveriesQueued;
    const accept = (type: string, n: number, payload: (i: number) => Json = (i) => ({ i })) =>
      store.acceptEvents(
        project.id,
        Array.from({ length: n }, (_, i) => eventInput(type, { payload: payload(i) })),
        Date.now(),
      );
    await accept('slow.x', slow);
    await dispatcher.start();
    try {
      // The slow endpoint's first three take the project's three slots, its other three wait.
      await until('three slow attempts out', () => held.length === 3);
      await until('the slow backlog queued', () => queued() === slow - 3);
      // Then the large event's two deliveries queue (the project is full), and after them the
      // fast endpoint's backlog: the large ones come first among the project's queues.
      await accept('big.x', 1, () => ({ blob: 'x'.repeat(40_000) }));
      await until('the large deliveries queued', () => queued() === slow - 3 + big);
      await accept('fast.x', fast);
      await until('the fast backlog queued', () => queued() === slow - 3 + big + fast);

      // One slow attempt ends: its slot goes to the fast endpoint (none in flight), the large
      // ones having no room for their bodies. Before, it went to the first of them, which could
      // not start, and then back to the slow endpoint.
      held.shift()!.end('ok');
      await until('the next arrival', () => arrivals.length >= 4);
      assert.deepEqual(arrivals.slice(0, 4), ['slow', 'slow', 'slow', 'fast']);

      // Nothing starves: the large ones go out once the project holds nothing.
      receiver.letGo();
      await until('every delivery', () => arrivals.length === slow + big + fast);
      assert.equal(arrivals.filter((a) => a === 'big').length, big);
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});

/**
 * A project at a cap of 3 (2 per endpoint) with a 1 MiB budget: a slow endpoint with 4 events
 * (answers held) and a `big` endpoint whose body is more than the project's share of the bytes in
 * flight, the dispatcher started; `run` goes on from there with the project's callbacks.
 */
async function slowAndBig(
  file: string,
  run: (t: {
    receiver: Awaited<ReturnType<typeof heldReceiver>>;
    queued: () => number | undefined;
    accept: (type: string, n: number, over?: Partial<NewEventInput>) => Promise<unknown>;
    callbacks: (n: number) => Promise<unknown>;
  }) => Promise<void>,
  hooks?: DispatcherHooks,
) {
  const store = await openStore(`sqlite:${join(dir, file)}`);
  const receiver = await heldReceiver(['slow', 'callback']);
  const { url } = receiver;
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  try {
    const project = await store.createProject({ name: 'p' }, Date.now());
    const endpoint = (path: string, type: string, scheme: SignatureScheme) =>
      store.createEndpoint(
        endpointInput(project.id, {
          url: `${url}/${path}`,
          eventTypes: [type],
          timeoutMs: 30_000,
          signature: { scheme },
        }),
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        Date.now(),
      );
    await endpoint('slow', 'slow.x', 'standard');
    // More than the project's share of the bytes in flight, as above: it waits for the project to
    // hold nothing.
    await endpoint('big', 'big.x', 'sha256-body');
    const dispatcher = capDispatcher(
      store,
      sender.send,
      {
        pollIntervalMs: 50,
        concurrency: 64,
        perEndpointConcurrency: 2,
        perProjectConcurrency: 3,
        bytesInFlight: 1024 * 1024,
      },
      hooks,
    );
    const queued = () => dispatcher.load?.()?.deliveriesQueued;
    const accept = (type: string, n: number, over: Partial<NewEventInput> = {}) =>
      store.acceptEvents(
        project.id,
        Array.from({ length: n }, (_, i) => eventInput(type, { payload: { i }, ...over })),
        Date.now(),
      );
    const callbacks = (n: number) => accept('callback.x', n, { callbackUrl: `${url}/callback` });
    await accept('slow.x', 4);
    await dispatcher.start();
    try {
      await run({ receiver, queued, accept, callbacks });
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
}

test("a project's callbacks take their turn of a freed slot past an endpoint waiting for room for its body", async () => {
  await slowAndBig('callbacks.db', async ({ receiver, queued, accept, callbacks }) => {
    const { arrivals, held } = receiver;
    // Two slow attempts out (the endpoint's cap), two queued; the project has one slot left.
    await until('two slow attempts out', () => held.length === 2);
    await until('the slow backlog queued', () => queued() === 2);
    // The large delivery has a slot but no room for its body: it waits for room, none in flight.
    await accept('big.x', 1, { payload: { blob: 'x'.repeat(40_000) } });
    await until('the large delivery queued', () => queued() === 3);
    // A callback takes the last slot; two more wait for one.
    await callbacks(1);
    await until('a callback out', () => held.length === 3);
    await callbacks(2);
    await until('the callbacks queued', () => queued() === 5);

    // One slow attempt ends: the callbacks (one in flight) have no more in flight than the slow
    // endpoint (one), the one with the fewest of those that can start: the slot is theirs.
    // Before, the large delivery's endpoint (none in flight, unable to start) counted as the
    // fewest, and the slot went back to the slow endpoint.
    held.shift()!.end('ok');
    await until('the next arrival', () => arrivals.length >= 4);
    assert.deepEqual(arrivals.slice(0, 4), ['slow', 'slow', 'callback', 'callback']);

    receiver.letGo();
    await until('every delivery', () => arrivals.length === 4 + 1 + 3);
  });
});

test("a large delivery held back by its project's share is passed by the project's smaller ones only until the attempts out before it end; other projects go on", async () => {
  const store = await openStore(`sqlite:${join(dir, 'passed.db')}`);
  const receiver = await heldReceiver(['slow']);
  const { url, arrivals, held } = receiver;
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  const slow = 12;
  try {
    const project = await store.createProject({ name: 'p' }, Date.now());
    const other = await store.createProject({ name: 'q' }, Date.now());
    const endpoint = (projectId: string, path: string, type: string, scheme: SignatureScheme = 'standard') =>
      store.createEndpoint(
        endpointInput(projectId, {
          url: `${url}/${path}`,
          eventTypes: [type],
          timeoutMs: 30_000,
          signature: { scheme },
        }),
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        Date.now(),
      );
    await endpoint(project.id, 'slow', 'slow.x');
    // An endpoint for one large event, signed over a base64 body (4/3 of it counted in flight):
    // ~53 KiB, more than the project's share of the bytes in flight (3/64 of 1 MiB: 48 KiB), so it
    // waits until the project holds nothing; its 40 KB payload fits its share of the bytes queued.
    await endpoint(project.id, 'big', 'big.x', 'sha256-body');
    await endpoint(other.id, 'other', 'other.x');
    const dispatcher = capDispatcher(store, sender.send, {
      pollIntervalMs: 50,
      concurrency: 64,
      perEndpointConcurrency: 3,
      perProjectConcurrency: 3,
      bytesInFlight: 1024 * 1024,
    });
    const queued = () => dispatcher.load?.()?.deliveriesQueued;
    const bytesInFlight = () => dispatcher.bytesInFlight?.() ?? 0;
    const accept = (
      projectId: string,
      type: string,
      n: number,
      payload: (i: number) => Json = (i) => ({ i }),
    ) =>
      store.acceptEvents(
        projectId,
        Array.from({ length: n }, (_, i) => eventInput(type, { payload: payload(i) })),
        Date.now(),
      );
    await accept(project.id, 'slow.x', slow);
    await dispatcher.start();
    try {
      // The slow endpoint's first three take the project's three slots, the rest wait.
      await until('three slow attempts out', () => held.length === 3);
      await until('the slow backlog queued', () => queued() === slow - 3);
      const three = bytesInFlight();
      await accept(project.id, 'big.x', 1, () => ({ blob: 'x'.repeat(40_000) }));
      await until('the large delivery queued', () => queued() === slow - 3 + 1);

      // One slow attempt ends: the large delivery has no room (the project holds two slow ones,
      // out before it waited); the slow backlog passes it while those hold it back.
      held.shift()!.end('ok');
      await until('the slow attempt ended', () => arrivals.length > 3 || bytesInFlight() < three);
      // Another project is not behind the large one.
      await accept(other.id, 'other.x', 1);
      await until("the other project's event", () => arrivals.includes('other'));

      // The slow endpoint's attempts end as the receiver answers them. Before, each freed slot went
      // to the slow backlog, the project never held nothing, and the large delivery went out last
      // (after all twelve): with a steady flow of small events, as long as they kept coming.
      while (!arrivals.includes('big')) {
        for (const res of held.splice(0)) res.end('ok');
        await until(
          'the large delivery or more slow ones',
          () => arrivals.includes('big') || held.length > 0,
        );
      }
      receiver.letGo();
      await until('every delivery', () => arrivals.length === slow + 1 + 1);
      // Once the attempts out when it began to wait had ended, the slow ones that passed it ended
      // and none started meanwhile: it went before the backlog's end, not after all twelve.
      const ofProject = arrivals.filter((a) => a !== 'other');
      assert.ok(ofProject.indexOf('big') < slow, `the large delivery went last: ${ofProject.join(',')}`);
    } finally {
      await dispatcher.stop({ graceMs: 2_000 });
    }
  } finally {
    await sender.close();
    await receiver.close();
    await store.close();
  }
});

test("a project's callbacks pass its endpoint waiting for room for its body only until it is owed the room", async () => {
  await slowAndBig('passed-callbacks.db', async ({ receiver, queued, accept, callbacks }) => {
    const { arrivals, held } = receiver;
    // Two slow attempts out (the endpoint's cap), two queued; the project has one slot left.
    await until('two slow attempts out', () => held.length === 2);
    await until('the slow backlog queued', () => queued() === 2);
    // A callback takes the last slot. Then the large delivery queues for a slot, and two more
    // callbacks after it.
    await callbacks(1);
    await until('a callback out', () => held.length === 3);
    await accept('big.x', 1, { payload: { blob: 'x'.repeat(40_000) } });
    await until('the large delivery queued', () => queued() === 3);
    await callbacks(2);
    await until('the callbacks queued', () => queued() === 5);

    // The held attempts end. The first freed slot finds no room for the large delivery's body
    // (the project holds the other two): it waits; the slow backlog and the callbacks pass it
    // until those two have ended, then wait behind it, and it goes once the project holds
    // nothing. Before, they took every freed slot and its bytes, and the large one went last.
    while (!arrivals.includes('big')) {
      for (const res of held.splice(0)) res.end('ok');
      await until('the large delivery or more held ones', () => arrivals.includes('big') || held.length > 0);
    }
    receiver.letGo();
    await until('every delivery', () => arrivals.length === 4 + 1 + 3);
    assert.ok(arrivals.indexOf('big') < 7, `the large delivery went last: ${arrivals.join(',')}`);
  });
});

test("a project's callbacks behind its endpoint owed the room for its body wait for it here, not claimed and handed back every 50 ms", async () => {
  let claimed = 0;
  await slowAndBig(
    'waiting-callbacks.db',
    async ({ receiver, queued, accept, callbacks }) => {
      const { arrivals, held } = receiver;
      // Two slow attempts out (the endpoint's cap), two queued. The large delivery waits for room:
      // the project holds those two.
      await until('two slow attempts out', () => held.length === 2);
      await accept('big.x', 1, { payload: { blob: 'x'.repeat(40_000) } });
      await until('the large delivery queued', () => queued() === 3);
      // The first ends: a slow one passes the large one (the other, out before it waited, holds it
      // back). The second ends: the large one would fit but for the one that passed it, and is
      // owed the room; the last slow one waits behind it.
      held.shift()!.end('ok');
      await until('a slow one passed it', () => held.length === 2);
      held.shift()!.end('ok');
      await until('the last slow one behind it', () => held.length === 1 && queued() === 2);
      // Five callbacks come, behind it for as long as the slow attempt out holds.
      const before = claimed;
      await callbacks(5);
      await until('the callbacks claimed', () => claimed >= before + 5);
      await new Promise((r) => setTimeout(r, 1_000));
      // Each claimed once. Before: handed back, due 50 ms later, and claimed again, ~20 times a
      // second each (~190 claimed in 2 s).
      assert.ok(claimed - before <= 10, `${claimed - before} claimed for 5 callbacks`);
      assert.ok(!arrivals.includes('callback') && !arrivals.includes('big'));

      receiver.letGo();
      await until('every delivery', () => arrivals.length === 4 + 1 + 5);
      assert.ok(arrivals.indexOf('big') < arrivals.indexOf('callback'), arrivals.join(','));
    },
    { onClaim: (c) => (claimed += c.claimed) },
  );
});
