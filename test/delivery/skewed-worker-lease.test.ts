/**
 * Two workers on one PostgreSQL, one of them with its clock 20 s behind (its dispatcher's clock and
 * its store's), a lease of 8 s: the worker behind sends a delivery to a receiver that holds the
 * request; the worker in step starts while it is held. Until 2026-12-07 the lease was written with
 * the claimer's clock and read with the next one's: the worker in step found it over at its first
 * claim and sent the delivery a second time while the first attempt was still out. Now leases are
 * in the database's time (src/store/lease-clock.ts): its first claim takes nothing, and the first
 * attempt ends (its timeout, 1 s) inside its lease, recorded once. Nothing here waits on a time:
 * the second worker's first claim is watched through its onClaim hook, the record through the store.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { endpointInput, eventInput } from '../store/helpers.ts';
import { withPostgres } from '../support/postgres.ts';
import { until } from '../support/wait-until.ts';
import { heldReceiver } from './held-receiver.ts';

const server = await withPostgres();
after(() => server.stop());

const BEHIND_MS = 20_000;

test('a worker whose clock is behind: another worker does not claim its delivery while the attempt is out', async () => {
  const url = await server.createDatabase();
  const clockBehind = () => Date.now() - BEHIND_MS;
  const behind = new PostgresStore(url, { clock: clockBehind });
  await behind.migrate();
  const inStep = new PostgresStore(url);
  const receiver = await heldReceiver(['slow']);
  const sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 65536, userAgent: 'test' });
  const config = {
    ...DEFAULT_DELIVERY,
    allowNetworks: ['127.0.0.0/8'],
    leaseMs: 8_000,
    defaultTimeoutMs: 1_000,
    retryJitter: 0,
  };
  const claims: number[] = [];
  const first = createDispatcher({
    store: behind,
    send: sender.send,
    config,
    workerId: 'behind',
    clock: clockBehind,
  });
  const second = createDispatcher({
    store: inStep,
    send: sender.send,
    config,
    workerId: 'in-step',
    hooks: { onClaim: (c) => claims.push(c.claimed) },
  });
  try {
    const project = await behind.createProject({ name: 'p' }, clockBehind());
    // Retries an hour later: only the first attempt is due here.
    const endpoint = await behind.createEndpoint(
      endpointInput(project.id, { url: `${receiver.url}/slow`, timeoutMs: 1_000, retrySchedule: [3600] }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      clockBehind(),
    );
    await behind.acceptEvents(project.id, [eventInput()], clockBehind());
    await first.start();
    await until('the first attempt at the receiver', () => receiver.arrivals.length === 1, 30_000);
    await second.start();
    await until("the other worker's first claim", () => claims.length > 0, 30_000);
    assert.equal(claims[0], 0, "the other worker's first claim, while the attempt is held, takes nothing");
    // The first attempt times out and is recorded, inside its lease.
    const recorded = async () =>
      (await inStep.listAttempts(project.id, { endpointId: endpoint.id, limit: 10 })).data.length === 1;
    await until('the first attempt recorded', recorded, 30_000);
    assert.deepEqual(receiver.arrivals, ['slow'], 'sent once');
  } finally {
    await second.stop({ graceMs: 1_000 });
    await first.stop({ graceMs: 1_000 });
    await sender.close();
    await receiver.close();
    await behind.close();
    await inStep.close();
  }
});
