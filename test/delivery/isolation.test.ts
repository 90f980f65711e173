/** One hanging endpoint must not hold back the others (per-endpoint in-flight cap, per-origin pools). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { openStore } from '../../src/store/open-store.ts';
import { type Receiver, startReceiver } from './receiver.ts';

test('9 healthy endpoints get all 50 deliveries each before a hanging endpoint finishes its attempts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-isolation-'));
  const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  const sender = createSender({
    allowNetworks: ['127.0.0.0/8', '::1/128'],
    maxResponseBytes: 65536,
    userAgent: 'test',
  });
  const receivers: Receiver[] = [];
  const dispatcher = createDispatcher({
    store,
    send: sender.send,
    config: {
      ...DEFAULT_DELIVERY,
      pollIntervalMs: 20,
      retrySchedule: [0.05, 0.1],
      perEndpointConcurrency: 8,
    },
    workerId: 'iso',
  });
  t.after(async () => {
    await dispatcher.stop({ graceMs: 0 });
    await sender.close();
    for (const r of receivers) await r.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const now = Date.now();
  const project = await store.createProject({ name: 'iso' }, now);
  const hanging = await startReceiver(() => ({ hang: true }));
  receivers.push(hanging);
  for (let i = 0; i < 9; i++) receivers.push(await startReceiver(() => ({ status: 200 })));
  const endpointIds: string[] = [];
  for (const r of receivers) {
    const ep = await store.createEndpoint(
      {
        projectId: project.id,
        url: r.url,
        name: r === hanging ? 'hanging' : 'healthy',
        description: '',
        eventTypes: [],
        method: 'POST',
        headers: {},
        dev: false,
        // Long enough that the hanging endpoint's 50 first attempts, 8 at a time, take over 30 s: the
        // healthy ones finish well before on any machine (1 s was a race against their speed, lost
        // under load). The healthy attempts get it too: a loaded machine can hold one past 1 s.
        timeoutMs: 5_000,
        envelope: 'standard',
        signature: { scheme: 'standard' },
        rateLimit: null,
        retrySchedule: r === hanging ? [600] : null,
        active: true,
      },
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      now,
    );
    endpointIds.push(ep.id);
  }
  const hangingId = endpointIds[0]!;
  // The hanging endpoint's deliveries are accepted first, so they are the oldest due work.
  const accepted = await store.acceptEvents(
    project.id,
    Array.from({ length: 50 }, (_, n) => ({
      type: 'order.created',
      payload: { n },
      test: false,
      idempotencyKey: null,
      callbackUrl: null,
    })),
    now,
  );
  const deliveries = accepted.flatMap((a) => a.deliveries);
  assert.equal(deliveries.length, 500);
  await dispatcher.start();

  const healthy = receivers.slice(1);
  await Promise.all(healthy.map((r) => r.waitFor(50, 20_000)));
  // Wait for the healthy deliveries to be recorded, then look at the hanging endpoint's attempts.
  const deadline = Date.now() + 10_000;
  let done = 0;
  while (Date.now() < deadline) {
    const states = await Promise.all(
      deliveries.filter((d) => d.endpointId !== hangingId).map((d) => store.getDelivery(project.id, d.id)),
    );
    done = states.filter((d) => d?.status === 'succeeded').length;
    if (done === 450) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(done, 450);
  // Each of its 50 deliveries reached every healthy endpoint (counted by event: a retry of an
  // attempt a loaded machine timed out is the same delivery, not a 51st).
  for (const r of healthy) assert.equal(new Set(r.requests.map((q) => q.headers['webhook-id'])).size, 50);
  // The hanging endpoint still has first attempts to finish (at most 8 in flight, 5 s each).
  const hangingAttempts = await store.listAttempts(project.id, { limit: 100, endpointId: hangingId });
  assert.ok(
    hangingAttempts.data.length < 50,
    `${hangingAttempts.data.length} hanging attempts already finished`,
  );
  assert.ok(
    hanging.requests.length <= 16,
    `${hanging.requests.length} requests reached the hanging endpoint`,
  );
});
