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
    const threaded = createThreadedDispatcher({
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
      const ctx = { store, wake: () => threaded.wake(), handoff: () => threaded.handoff ?? null };
      const events = [];
      for (let i = 0; i < 12; i++) {
        const [a] = await acceptEvents(ctx, project.id, [eventInput('player.paid', { payload: { i } })]);
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
