/** The sender's options from the delivery settings: the same for a dispatcher on its thread or on the main one. */
import type { DeliveryConfig } from '../config/config-types.ts';
import type { SenderOptions } from './sender.ts';

export function senderOptions(delivery: DeliveryConfig, maxSockets: number | undefined): SenderOptions {
  return {
    allowNetworks: delivery.allowNetworks,
    maxResponseBytes: delivery.maxResponseBytes,
    userAgent: delivery.userAgent,
    ...(delivery.tlsCa ? { ca: delivery.tlsCa } : {}),
    ...(delivery.proxy ? { proxy: delivery.proxy } : {}),
    ...(maxSockets === undefined ? {} : { maxSockets }),
  };
}
