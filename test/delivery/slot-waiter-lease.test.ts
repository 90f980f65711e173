/**
 * A queued delivery waiting for a slot of its project at its cap: the project gives each freed slot
 * to its queued endpoints in turn, and with enough of them ahead, each with work fresh enough to
 * start (steady traffic), its endpoint's turn comes after its lease has run out. Its own process
 * claims it again meanwhile. That claim was queued behind the old one, and at the turn the old one
 * (waited too long) was handed back: a hand-back goes by worker, so it freed the row of the new
 * claim as that was sent, and any worker could send it again (this one claimed it again and saw its
 * attempt out). Now the new claim takes the old one's place (endpoint-queues.ts renew): it is sent
 * at that turn, once. A turn that comes after it has waited its longest (half its lease) but before
 * its lease hands it back, and the claim that takes it again goes first in the turns: queued last,
 * it went back at every turn, and was never sent while the traffic went on (so too when a timer
 * handed it back at half its lease). Real SQLite and PostgreSQL stores, the real sender, a loopback
 * receiver.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSender } from '../../src/delivery/sender.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { onBothStores } from '../support/both-stores.ts';
import { until } from '../support/wait-until.ts';
import { capDispatcher } from './cap-dispatcher.ts';
import { startReceiver } from './receiver.ts';

/**
 * Endpoints queued ahead of the waiting one, each attempt 700 ms: a round of them is ~14 s (its
 * turn after its lease), or ~9 s (after it has waited its longest, 6 s, before its lease).
 */
const ROUNDS = [
  { ahead: 20, turn: 'after its lease' },
  { ahead: 13, turn: 'after half its lease, before its lease' },
] as const;
/** Its lease: 12 s (1 s timeouts, the 5 s margin): a queued delivery may wait 6 s. */
const LEASE_MS = 12_000;

onBothStores((storeName, open) =>
  describe(`a delivery waiting for a slot of its project (${storeName})`, () => {
    for (const { ahead, turn } of ROUNDS)
      test(`its turn ${turn}: is sent once, in the place it held`, async () => {
        const { store, done } = await open();
        const receiver = await startReceiver(() => ({ status: 200, delayMs: 700 }));
        const sender = createSender({
          allowNetworks: ['127.0.0.1/32'],
          maxResponseBytes: 65536,
          userAgent: 'test',
        });
        const errors: string[] = [];
        const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
        let feeding = true;
        let feeder: Promise<void> = Promise.resolve();
        try {
          const project = await store.createProject({ name: 'p' }, Date.now());
          for (let i = 0; i < ahead; i++) {
            await store.createEndpoint(
              endpointInput(project.id, { url: `${receiver.url}/ahead/${i}`, eventTypes: ['tick'] }),
              secret,
              Date.now(),
            );
          }
          await store.createEndpoint(
            endpointInput(project.id, { url: `${receiver.url}/waiting`, eventTypes: ['once'] }),
            secret,
            Date.now(),
          );
          // One slot for the project; an endpoint's queue is never a cap's worth, so claims go on
          // taking its work (the waiting one's too, once its lease has run out).
          const dispatcher = capDispatcher(
            store,
            sender.send,
            {
              pollIntervalMs: 50,
              allowNetworks: ['127.0.0.1/32'],
              concurrency: 64,
              perProjectConcurrency: 1,
              perEndpointConcurrency: 64,
              leaseMs: LEASE_MS,
              defaultTimeoutMs: 1_000,
              maxTimeoutMs: 1_000,
            },
            { onError: (error, during) => errors.push(`${during}: ${String(error)}`) },
          );
          await store.acceptEvents(project.id, [eventInput('tick')], Date.now());
          await sleep(5);
          const [once] = await store.acceptEvents(project.id, [eventInput('once')], Date.now());
          const waitingId = once!.deliveries[0]!.id;
          await dispatcher.start();
          // Steady traffic to the endpoints ahead: each has work fresh enough to start at its turn.
          feeder = (async () => {
            while (feeding) {
              await sleep(500);
              await store.acceptEvents(project.id, [eventInput('tick')], Date.now());
            }
          })();
          const sentTo = () => receiver.requests.filter((r) => r.url.endsWith('/waiting')).length;
          try {
            // After its lease (12 s), the claim that took it again has its place; between half its
            // lease and its lease, it goes back at its turn, and the claim that takes it again goes
            // first in the turns. The traffic goes on until it is sent (a lost place in the turns
            // would hold it past this bound), and then while a second send could follow.
            await until('the waiting delivery sent', () => sentTo() > 0, 45_000);
            await sleep(2_000);
          } finally {
            feeding = false;
            await feeder;
            await dispatcher.stop({ graceMs: 1_000 });
          }
          // Before: claimed again by this process while its attempt was out ("another worker may
          // have taken it too").
          assert.deepEqual(
            errors.filter((e) => e.startsWith('lease')),
            [],
          );
          assert.equal(sentTo(), 1);
          assert.equal((await store.getDelivery(project.id, waitingId))?.status, 'succeeded');
        } finally {
          feeding = false;
          await feeder;
          await sender.close();
          await receiver.close();
          await done();
        }
      });
  }),
);
