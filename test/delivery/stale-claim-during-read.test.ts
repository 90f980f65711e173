/**
 * A queued delivery claimed again by its own process (its lease ran out while it waited) takes the
 * new claim in its place (endpoint-queues.ts renew). That was done after the new claim's batch had
 * read its endpoints (batch-reads.ts): while that read was out, the queued entry, still under the
 * old claim, could start, and its record settle the delivery; the new claim then found no entry in
 * its place, nothing of it out, and was sent again. The renew now comes before the read. The same
 * happened when the claim itself answered late (its write done): the old claim's attempt started,
 * and was recorded, before the new claim came back; such a record, written after its lease ran
 * out, is now remembered for a lease (in-flight-deliveries.ts), and the new claim skipped.
 *
 * The old claim's lease runs out with its delivery queued and its wait still short: the clock steps
 * forward by more than a lease while its batch reads (a process stalled there does the same). The
 * new claim (or its read) answers late, and meanwhile the project's slot frees. Real SQLite and
 * PostgreSQL stores (made to answer late, as slow-view-reads.test.ts does), the real sender, a
 * loopback receiver.
 *
 * A callback (no endpoint) goes the same way (callback-queues.ts renew, before the reads): its
 * claim's batch reads no endpoint, only its project's retry schedule (project-schedules.ts, read
 * again once 5 s old); that read, or the claim, answering late.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_SCHEDULE_TTL_MS } from '../../src/delivery/project-schedules.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { onBothStores } from '../support/both-stores.ts';
import { until } from '../support/wait-until.ts';
import { startReceiver } from './receiver.ts';
import { STALE_CLAIM_LEASE_MS, staleClaimDispatcher } from './stale-claim-dispatcher.ts';

const LEASE_MS = STALE_CLAIM_LEASE_MS;
/** How long the first endpoint's attempt holds the project's one slot. */
const FIRST_HOLD_MS = 1_000;
/** How late the new claim's read of the endpoints answers: past the first attempt's end and the old claim's send. */
const LATE_READ_MS = 3_000;

/**
 * What answers late: the new claim's read of its batch's endpoints (the renew came after it), or
 * the claim itself (its write done, the old claim's record written before it came back: the new
 * claim found nothing of it out; in-flight-deliveries.ts now remembers such a record for a lease).
 */
const LATE = ['its batch’s read', 'the claim'] as const;

/** A loopback receiver holding the first attempt (`/first`) FIRST_HOLD_MS, and a sender to it. */
async function receiverAndSender() {
  const receiver = await startReceiver((req) => ({
    status: 200,
    delayMs: req.url.endsWith('/first') ? FIRST_HOLD_MS : 300,
  }));
  const sender = createSender({
    allowNetworks: ['127.0.0.1/32'],
    maxResponseBytes: 65536,
    userAgent: 'test',
  });
  return { receiver, sender };
}

onBothStores((storeName, open) =>
  describe(`a queued delivery claimed again while that claim is slow (${storeName})`, () => {
    for (const late of LATE)
      test(`${late} answering late: it is sent once`, async () => {
        const { store, done } = await open();
        const { receiver, sender } = await receiverAndSender();
        let shift = 0;
        const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
        try {
          const project = await store.createProject({ name: 'p' }, Date.now());
          await store.createEndpoint(
            endpointInput(project.id, { url: `${receiver.url}/first`, eventTypes: ['first'] }),
            secret,
            Date.now(),
          );
          const waitingEndpoint = await store.createEndpoint(
            endpointInput(project.id, { url: `${receiver.url}/waiting`, eventTypes: ['waiting'] }),
            secret,
            Date.now(),
          );
          // The reads of the waiting endpoint: the first (its first claim's batch) steps the clock past
          // the lease as it ends; the second (the claim of it again) answers late; the others (its
          // queue's view read again) as they come.
          const read = store.getDispatchEndpoints.bind(store);
          let reads = 0;
          let lateReadDone = false;
          store.getDispatchEndpoints = async (refs, now) => {
            const found = await read(refs, now);
            if (!refs.some((r) => r.endpointId === waitingEndpoint.id)) return found;
            reads++;
            if (reads === 1) shift = LEASE_MS + 1_000;
            if (reads === 2 && late === 'its batch’s read') {
              await sleep(LATE_READ_MS);
              lateReadDone = true;
            }
            return found;
          };
          const claim = store.claimDueDeliveries.bind(store);
          store.claimDueDeliveries = async (o) => {
            const got = await claim(o);
            const again = shift > 0 && got.some((c) => c.delivery.endpointId === waitingEndpoint.id);
            if (late === 'the claim' && again && !lateReadDone) {
              await sleep(LATE_READ_MS);
              lateReadDone = true;
            }
            return got;
          };
          const dispatcher = staleClaimDispatcher(store, sender.send, () => shift);
          await store.acceptEvents(project.id, [eventInput('first')], Date.now());
          await dispatcher.start();
          try {
            // The first attempt holds the project's one slot; the other delivery is claimed now and
            // queued for it, its lease run out as its batch's read ends (the clock stepped).
            await receiver.waitFor(1, 10_000);
            const [waiting] = await store.acceptEvents(project.id, [eventInput('waiting')], Date.now());
            const waitingId = waiting!.deliveries[0]!.id;
            // The claim of it again, and its late read; the first attempt ends meanwhile. Whatever
            // the new claim's pass starts, it starts as the read answers.
            await until('the late read answered', () => lateReadDone, 20_000);
            await until(
              'the waiting delivery was delivered',
              async () => (await store.getDelivery(project.id, waitingId))?.status === 'succeeded',
            );
            await until('the attempts ended', () => dispatcher.bytesInFlight!() === 0);
          } finally {
            await dispatcher.stop({ graceMs: 2_000 });
          }
          // Before: 2, the old claim's as the read was out, then the new one's.
          assert.equal(receiver.requests.filter((r) => r.url.endsWith('/waiting')).length, 1);
        } finally {
          await sender.close();
          await receiver.close();
          await done();
        }
      });
  }),
);

/**
 * The callbacks' lease: long enough that a queued callback's longest wait (half of it) outlasts the
 * project schedule's age at which the new claim's batch reads it again (the clock stepped by that).
 */
const CALLBACK_LEASE_MS = 30_000;

onBothStores((storeName, open) =>
  describe(`a queued callback claimed again while that claim is slow (${storeName})`, () => {
    for (const late of LATE)
      test(`${late} answering late: it is sent once`, async () => {
        const { store, done } = await open();
        const { receiver, sender } = await receiverAndSender();
        let shift = 0;
        try {
          const project = await store.createProject({ name: 'p' }, Date.now());
          await store.createEndpoint(
            endpointInput(project.id, { url: `${receiver.url}/first`, eventTypes: ['first'] }),
            'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
            Date.now(),
          );
          // The claims of the callback: the first steps the clock past the lease as it answers;
          // the second answers late, or steps the clock past the project schedule's age, so that
          // its batch reads the project, and that read answers late.
          let claims = 0;
          let lateRead = false;
          let lateReadDone = false;
          const claim = store.claimDueDeliveries.bind(store);
          store.claimDueDeliveries = async (o) => {
            const got = await claim(o);
            if (!got.some((c) => c.delivery.endpointId === null)) return got;
            claims++;
            if (claims === 1) shift = CALLBACK_LEASE_MS + 1_000;
            if (claims === 2 && late === 'the claim') {
              await sleep(LATE_READ_MS);
              lateReadDone = true;
            }
            if (claims === 2 && late === 'its batch’s read') {
              shift += PROJECT_SCHEDULE_TTL_MS + 500;
              lateRead = true;
            }
            return got;
          };
          const read = store.getProject.bind(store);
          store.getProject = async (id) => {
            const found = await read(id);
            if (lateRead && !lateReadDone) {
              lateRead = false;
              await sleep(LATE_READ_MS);
              lateReadDone = true;
            }
            return found;
          };
          const dispatcher = staleClaimDispatcher(
            store,
            sender.send,
            () => shift,
            undefined,
            CALLBACK_LEASE_MS,
          );
          await store.acceptEvents(project.id, [eventInput('first')], Date.now());
          await dispatcher.start();
          try {
            // The first attempt holds the project's one slot; the callback is claimed now and
            // queued for it, its lease run out as its claim answers (the clock stepped).
            await receiver.waitFor(1, 10_000);
            const [waiting] = await store.acceptEvents(
              project.id,
              [eventInput('waiting', { callbackUrl: `${receiver.url}/waiting` })],
              Date.now(),
            );
            const waitingId = waiting!.deliveries[0]!.id;
            await until('the late answer came', () => lateReadDone, 20_000);
            await until(
              'the callback was delivered',
              async () => (await store.getDelivery(project.id, waitingId))?.status === 'succeeded',
            );
            await until('the attempts ended', () => dispatcher.bytesInFlight!() === 0);
          } finally {
            await dispatcher.stop({ graceMs: 2_000 });
          }
          assert.equal(claims >= 2, true, 'the callback was claimed again');
          assert.equal(receiver.requests.filter((r) => r.url.endsWith('/waiting')).length, 1);
        } finally {
          await sender.close();
          await receiver.close();
          await done();
        }
      });
  }),
);
