/** The sender's options from the delivery settings: the same for a dispatcher on its thread or on the main one. */
import type { DeliveryConfig } from '../config/config-types.ts';
import type { SenderOptions } from './sender.ts';

export function senderOptions(delivery: DeliveryConfig, maxSockets: number | undefined): SenderOptions {
  return {
    allowNetworks: delivery.allowNetworks,
    maxResponseBytes: delivery.maxResponseBytes,
    userAgent: delivery.userAgent,
    // One connection per attempt an endpoint may have in flight: with fewer (the pool's 64 while
    // HERALD_ENDPOINT_CONCURRENCY was raised above it), the attempts past them waited in the pool
    // for a connection, so the setting had no effect past 64.
    connectionsPerOrigin: delivery.perEndpointConcurrency,
    ...(delivery.tlsCa ? { ca: delivery.tlsCa } : {}),
    ...(delivery.proxy ? { proxy: delivery.proxy } : {}),
    ...(maxSockets === undefined ? {} : { maxSockets }),
  };
}
