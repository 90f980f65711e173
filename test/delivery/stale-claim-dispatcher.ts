/**
 * The dispatcher the stale-claim tests start (stale-claim-hand-back, stale-claim-during-read): a
 * real store and sender, one slot for the project so claims queue for it, a 12 s lease (or
 * `leaseMs`), 2 s timeouts, and a clock the test steps past the lease (`shift()`, read at each call).
 */
import { DEFAULT_DELIVERY } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import type { DispatcherHooks, DispatcherOptions } from '../../src/delivery/dispatcher-types.ts';

export const STALE_CLAIM_LEASE_MS = 12_000;

export function staleClaimDispatcher(
  store: DispatcherOptions['store'],
  send: DispatcherOptions['send'],
  shift: () => number,
  hooks?: DispatcherHooks,
  leaseMs = STALE_CLAIM_LEASE_MS,
) {
  return createDispatcher({
    store,
    send,
    config: {
      ...DEFAULT_DELIVERY,
      retryJitter: 0,
      pollIntervalMs: 50,
      allowNetworks: ['127.0.0.1/32'],
      concurrency: 64,
      perProjectConcurrency: 1,
      perEndpointConcurrency: 4,
      leaseMs,
      defaultTimeoutMs: 2_000,
      maxTimeoutMs: 2_000,
    },
    workerId: 'w1',
    clock: () => Date.now() + shift(),
    ...(hooks ? { hooks } : {}),
  });
}
