/**
 * The dispatcher the per-project cap tests start (project-cap-*.test.ts): a real store and sender,
 * the default delivery settings with no retry jitter and loopback allowed, `config` over them.
 */
import { DEFAULT_DELIVERY, type DeliveryConfig } from '../../src/config/config-types.ts';
import { createDispatcher } from '../../src/delivery/dispatcher.ts';
import type { DispatcherHooks, DispatcherOptions } from '../../src/delivery/dispatcher-types.ts';

export function capDispatcher(
  store: DispatcherOptions['store'],
  send: DispatcherOptions['send'],
  config: Partial<DeliveryConfig>,
  hooks?: DispatcherHooks,
) {
  return createDispatcher({
    store,
    send,
    config: { ...DEFAULT_DELIVERY, retryJitter: 0, allowNetworks: ['127.0.0.0/8'], ...config },
    workerId: 'w1',
    ...(hooks ? { hooks } : {}),
  });
}
