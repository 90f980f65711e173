/**
 * Hand-off against the real dispatcher thread, a real SQLite file or PostgreSQL database and a
 * loopback receiver: light-load accepts reach the receiver without being claimed, each exactly
 * once, and are recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { acceptEvents } from '../../src/api/accept-events.ts';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createThreadedDispatcher } from '../../src/delivery/threaded-dispatcher.ts';
import { openStore } from '../../src/store/open-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { withPostgres } from '../support/postgres.ts';
import { startReceiver } from './receiver.ts';

const postgres = await withPostgres();
after(() => postgres.stop());

/** A dispatcher thread with the hand-off on, over `databaseUrl`, polling every 20 ms. */
function threadedDispatcher(
  databaseUrl: string,
  dir: string,
  options: Pick<Parameters<typeof createThreadedDispatcher>[0], 'hooks'> = {},
) {
  return createThreadedDispatcher({
    handoff: true,
    init: {
      databaseUrl,
      dataDir: dir,
      encryptionKey: null,
      previousEncryptionKeys: [],
      logLevel: 'silent',
      workerId: 'w-handoff-test',
      delivery: { ...DEFAULT_DELIVERY, pollIntervalMs: 20, allowNetworks: ['127.0.0.0/8'] },
    },
    ...options,
  });
}

const backends: [string, (dir: string) => Promise<string>][] = [
  ['sqlite', async (dir) => `sqlite:${join(dir, 'herald.db')}`],
  ['postgres', () => postgres.createDatabase()],
];

for (const [backend, databaseFor] of backends) {
  test(`${backend}: light-load accepts are handed to the dispatcher thread: delivered once each, none claimed`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-handoff-'));
    const databaseUrl = await databaseFor(dir);
    const store = await openStore(databaseUrl);
    const receiver = await startReceiver();
    let claimed = 0;
    const threaded = threadedDispatcher(databaseUrl, dir, {
      hooks: { onClaim: (c) => (claimed += c.claimed) },
    });
    try {
      const now = Date.now();
      const project = await store.createProject({ name: 'handoff' }, now);
      await store.createEndpoint(
        endpointInput(project.id, { url: `${receiver.url}/hook` }),
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        now,
      );
      await threaded.start();
      const ctx = {
        store,
        wake: () => threaded.wake(),
        handoff: () => threaded.handoff ?? null,
        backlog: null,
        config: { maxDeliveriesPerRequest: 100_000 },
      };
      const events = [];
      for (let i = 0; i < 12; i++) {
        const [a] = await acceptEvents(ctx, project, [eventInput('player.paid', { payload: { i } })], 'body');
        assert.equal(a!.leased, 1, 'one delivery, leased to the thread');
        events.push(a!.event.id);
      }
      await receiver.waitFor(12, 10_000);
      // Stats reach this thread every 100 ms; the dispatcher polls every 20 ms meanwhile.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(receiver.requests.length, 12);
      assert.deepEqual(receiver.requests.map((r) => r.headers['webhook-id']).sort(), [...events].sort());
      assert.equal(claimed, 0, 'nothing was claimed: every delivery came by hand-off');
      await threaded.stop();
      for (const id of events) {
        const stored = await store.getEvent(project.id, id);
        assert.equal(stored?.deliveries[0]?.status, 'succeeded', id);
        assert.equal(stored?.deliveries[0]?.attempts, 1);
      }
    } finally {
      await threaded.stop();
      await receiver.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('sqlite: accepts while the dispatcher thread starts are not handed off: each delivery is sent once', async () => {
  // The thread's start hands back every lease left from a previous run (one process on SQLite); a
  // delivery leased to it by an accept meanwhile was then claimed again and also handed off: sent
  // twice, both attempts numbered 1 (13 per restart under load).
  const dir = mkdtempSync(join(tmpdir(), 'herald-handoff-start-'));
  const databaseUrl = `sqlite:${join(dir, 'herald.db')}`;
  const store = await openStore(databaseUrl);
  const receiver = await startReceiver();
  const threaded = threadedDispatcher(databaseUrl, dir);
  try {
    const now = Date.now();
    const project = await store.createProject({ name: 'starting' }, now);
    await store.createEndpoint(
      endpointInput(project.id, { url: `${receiver.url}/hook` }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      now,
    );
    const ctx = {
      store,
      wake: () => threaded.wake(),
      handoff: () => threaded.handoff ?? null,
      backlog: null,
      config: { maxDeliveriesPerRequest: 100_000 },
    };
    let started = false;
    const starting = threaded.start().then(() => {
      started = true;
    });
    const events: string[] = [];
    while (!started) {
      const [a] = await acceptEvents(
        ctx,
        project,
        [eventInput('player.paid', { payload: { n: events.length } })],
        'body',
      );
      events.push(a!.event.id);
      await new Promise((r) => setTimeout(r, 2));
    }
    await starting;
    assert.ok(events.length >= 5, `only ${events.length} accepts while the thread started`);
    await receiver.waitFor(events.length, 10_000);
    await new Promise((r) => setTimeout(r, 500)); // a second copy would come within this
    const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
    assert.equal(ids.length, events.length, `${ids.length - new Set(ids).size} sent twice`);
    await threaded.stop();
    for (const id of events) {
      assert.equal((await store.getEvent(project.id, id))?.deliveries[0]?.attempts, 1, id);
    }
  } finally {
    await threaded.stop();
    await receiver.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
