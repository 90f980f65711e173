/**
 * A deleted endpoint's signing secret leaves the dispatcher's memory (docs/security.md): the
 * dispatcher against a real SQLite store, the real sender and a loopback receiver, and a heap
 * snapshot of this process searched for the secret. The test holds only the secret's SHA-256, so
 * the secret found in the heap is one Herald's code still holds.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSnapshot } from 'node:v8';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher, QUEUED_VIEW_MAX_AGE_MS } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { until } from '../support/wait-until.ts';
import { startReceiver } from './receiver.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Whether a string whose SHA-256 is `digest` is in this process's heap (the snapshot collects garbage first). */
async function inHeap(digest: string): Promise<boolean> {
  const snapshot = JSON.parse(await text(getHeapSnapshot())) as { strings: string[] };
  return snapshot.strings.some((s) => s.startsWith('whsec_') && sha256(s) === digest);
}

/** A new endpoint of a new project signing with a secret made here; only its digest is returned. */
async function endpointWithNewSecret(store: Store, url: string) {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const project = await store.createProject({ name: 'p' }, Date.now());
  const endpoint = await store.createEndpoint(
    {
      projectId: project.id,
      url,
      name: 'hook',
      description: '',
      eventTypes: [],
      method: 'POST',
      headers: {},
      dev: false,
      timeoutMs: 2_000,
      envelope: 'standard',
      signature: { scheme: 'standard' },
      rateLimit: null,
      retrySchedule: null,
      active: true,
    },
    secret,
    Date.now(),
  );
  return { projectId: project.id, endpointId: endpoint.id, digest: sha256(secret) };
}

/**
 * A sender forgets a secret two ticks of its decoded keys (SIGNING_KEYS_TICK_MS, 5 s, in
 * packages/verify standard.ts) after it last signed with it: 5-10 s. Looked for sooner, it is still
 * there, and each look is a heap snapshot of this process (~0.8 s of CPU, 1-3 s on a loaded
 * machine): five looks a test, four of them finding it, were most of the file's time.
 */
const SENDER_FORGETS_MS = 10_000;

/**
 * Looks for the secret whose SHA-256 is `digest` in the heap, first once the sender has forgotten
 * it (SENDER_FORGETS_MS after `since`), then every second up to 30 s after `since`: whether it is
 * still there.
 */
async function stillHeld(digest: string, since: number): Promise<boolean> {
  const end = since + 30_000;
  await sleep(Math.max(0, since + SENDER_FORGETS_MS - Date.now()));
  let held = await inHeap(digest);
  while (held && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    held = await inHeap(digest);
  }
  return held;
}

test("a deleted endpoint's secret is no longer held in memory once its last delivery is sent", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-forgotten-secrets-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  cleanups.push(() => store.close());
  const sender = createSender({
    allowNetworks: ['127.0.0.0/8'],
    maxResponseBytes: 65_536,
    userAgent: 'test',
  });
  cleanups.push(() => sender.close());
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: { ...DEFAULT_DELIVERY, pollIntervalMs: 20, allowNetworks: ['127.0.0.0/8'] },
    workerId: 'w1',
  });
  cleanups.push(() => dispatcher.stop({ graceMs: 2_000 }));
  dispatcher.start();

  const ep = await endpointWithNewSecret(store, receiver.url);
  const event = { type: 'order.created', payload: {}, test: false, idempotencyKey: null, callbackUrl: null };
  await store.acceptEvents(ep.projectId, [event], Date.now());
  await receiver.waitFor(1);
  assert.ok(receiver.requests[0]!.headers['webhook-signature'], 'the delivery was signed with the secret');
  const signed = Date.now();
  assert.equal(await store.deleteEndpoint(ep.projectId, ep.endpointId, Date.now()), true);

  // Forgotten within seconds (the sender's decoded keys: packages/verify standard.ts); looked for
  // for up to 30 s. Before, the sender kept every standard secret it had signed with until 4,096
  // others had been used, for the process's life on most installations.
  assert.equal(
    await stillHeld(ep.digest, signed),
    false,
    "the deleted endpoint's secret is still in the heap 30 s after its delete",
  );
});

test("an endpoint's view read again for a queue handed back meanwhile does not keep its secret", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-forgotten-secrets-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  cleanups.push(() => store.close());
  // Reads of endpoints end when the test lets them while `gate` is set.
  let gate: Promise<void> | null = null;
  let openGate = () => {};
  let gated = 0;
  const read = store.getDispatchEndpoints.bind(store);
  store.getDispatchEndpoints = async (refs, now) => {
    const found = await read(refs, now);
    if (gate) {
      gated++;
      await gate;
    }
    return found;
  };
  // A loopback receiver that holds every request until the test answers it.
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const sender = createSender({
    allowNetworks: ['127.0.0.0/8'],
    maxResponseBytes: 65_536,
    userAgent: 'test',
  });
  cleanups.push(() => sender.close());
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: {
      ...DEFAULT_DELIVERY,
      pollIntervalMs: 20,
      perEndpointConcurrency: 2,
      allowNetworks: ['127.0.0.0/8'],
    },
    workerId: 'w1',
  });
  cleanups.push(() => dispatcher.stop({ graceMs: 2_000 }));
  await dispatcher.start();

  const ep = await endpointWithNewSecret(store, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const event = (i: number) => ({
    type: 'order.created',
    payload: { i },
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
  });
  await store.acceptEvents(ep.projectId, [0, 1, 2].map(event), Date.now());
  // Two attempts out (the endpoint's cap), the third queued with the claim's view.
  await until('two attempts out', () => held.length === 2);
  await until('the third queued', () => dispatcher.load?.()?.deliveriesQueued === 1);
  await sleep(QUEUED_VIEW_MAX_AGE_MS + 50); // its view is too old to start with now

  // The first answer frees a slot: the queue's view is read again, and that read held.
  gate = new Promise((resolve) => {
    openGate = resolve;
  });
  held.shift()!.end('ok');
  await until("the queue's view read again", () => gated >= 1);
  // Meanwhile the second answer, a 410, hands the queue back (the endpoint is being disabled),
  // and the endpoint is deleted.
  held.shift()!.writeHead(410).end('gone');
  const signed = Date.now(); // both its attempts were signed before
  await until('the queue handed back', () => dispatcher.load?.()?.deliveriesQueued === 0);
  assert.equal(await store.deleteEndpoint(ep.projectId, ep.endpointId, Date.now()), true);
  // The read ends, with the endpoint's secrets as they were.
  gate = null;
  openGate();

  // Before, the view read was kept for the queue that was gone, its secret with it, until the
  // endpoint queued again: never, once deleted.
  assert.equal(
    await stillHeld(ep.digest, signed),
    false,
    'the secret is still in the heap 30 s after its queue went',
  );
});
