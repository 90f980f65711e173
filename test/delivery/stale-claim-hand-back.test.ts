/**
 * A queued delivery whose lease runs out while it waits (here the process's clock steps forward;
 * a stalled process, or a turn that comes late, slot-waiter-lease.test.ts, do the same) is claimed
 * again by its own process, and the new claim was queued behind the old one. When its endpoint's turn came the old claim was handed back
 * (waited too long) and the new one sent: the hand-back goes by worker, so it freed the row of the
 * new claim as that was out, and any worker could send the delivery again (this one claimed it
 * again and saw its attempt out). The new claim now takes the old one's place (endpoint-queues.ts
 * renew). The clock steps forward by more than a lease here; real SQLite and PostgreSQL stores,
 * the real sender, a loopback receiver.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSender } from '../../src/delivery/sender.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { onBothStores } from '../support/both-stores.ts';
import { until } from '../support/wait-until.ts';
import { startReceiver } from './receiver.ts';
import { STALE_CLAIM_LEASE_MS, staleClaimDispatcher } from './stale-claim-dispatcher.ts';

const LEASE_MS = STALE_CLAIM_LEASE_MS;

/** The waiting delivery: an endpoint's (endpoint-queues.ts), or a callback (callback-queues.ts). */
const KINDS = ['an endpoint delivery', 'a callback'] as const;

onBothStores((storeName, open) =>
  describe(`a queued delivery claimed again after its lease ran out (${storeName})`, () => {
    for (const kind of KINDS)
      test(`${kind}: is sent once, under the new claim in the queued one's place`, async () => {
        const { store, done } = await open();
        // The first endpoint's attempt holds the project's one slot while the clock steps.
        const receiver = await startReceiver((req) => ({
          status: 200,
          delayMs: req.url.endsWith('/first') ? 1_500 : 300,
        }));
        const sender = createSender({
          allowNetworks: ['127.0.0.1/32'],
          maxResponseBytes: 65536,
          userAgent: 'test',
        });
        const errors: string[] = [];
        let shift = 0;
        const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
        try {
          const project = await store.createProject({ name: 'p' }, Date.now());
          await store.createEndpoint(
            endpointInput(project.id, { url: `${receiver.url}/first`, eventTypes: ['first'] }),
            secret,
            Date.now(),
          );
          await store.createEndpoint(
            endpointInput(project.id, { url: `${receiver.url}/waiting`, eventTypes: ['waiting'] }),
            secret,
            Date.now(),
          );
          const dispatcher = staleClaimDispatcher(store, sender.send, () => shift, {
            onError: (error, during) => errors.push(`${during}: ${String(error)}`),
          });
          await store.acceptEvents(project.id, [eventInput('first')], Date.now());
          await sleep(5);
          const [waiting] = await store.acceptEvents(
            project.id,
            [
              kind === 'a callback'
                ? eventInput('unrouted', { callbackUrl: `${receiver.url}/waiting` })
                : eventInput('waiting'),
            ],
            Date.now(),
          );
          assert.equal(waiting!.deliveries.length, 1);
          const waitingId = waiting!.deliveries[0]!.id;
          await dispatcher.start();
          try {
            await receiver.waitFor(1, 10_000);
            // The first attempt is out, the other delivery queued for the project's slot (its
            // endpoint's queue, or the project's callbacks): the clock
            // steps past both leases, and the next claim takes both again.
            shift = LEASE_MS + 1_000;
            await receiver.waitFor(2, 10_000);
            // Its attempt out (300 ms), and claims going on meanwhile.
            await sleep(1_000);
            // Its queue emptied, its attempt and the first ended: nothing left counted (the claim
            // in the queued one's place counted once among the queued bytes, its bytes taken once).
            assert.equal(dispatcher.queuedBytes!(), 0);
            await until('the attempts ended', () => dispatcher.bytesInFlight!() === 0);
          } finally {
            await dispatcher.stop({ graceMs: 2_000 });
          }
          const sent = receiver.requests.filter((r) => r.url.endsWith('/waiting')).length;
          assert.equal(sent, 1);
          // Before: "delivery <waitingId> was claimed again while its attempt was still in flight";
          // the first delivery's own attempt, out as the clock stepped, is rightly skipped so.
          assert.deepEqual(
            errors.filter((e) => e.includes(waitingId)),
            [],
          );
          assert.equal((await store.getDelivery(project.id, waitingId))?.status, 'succeeded');
        } finally {
          await sender.close();
          await receiver.close();
          await done();
        }
      });
  }),
);
