/**
 * One attempt of a claimed delivery: build and sign the request with its endpoint's settings and
 * secrets as they are now, send it, and make its attempt record. Writing the record, and what a
 * failure does to the endpoint's other queued work, is the dispatcher's (`onAttempted`).
 */
import { buildRequest } from '../domain/build-request.ts';
import type { BuiltRequest } from '../domain/build-request-types.ts';
import type { Endpoint, EndpointSecret } from '../domain/types.ts';
import type { AttemptRecord, ClaimedDelivery } from '../store/store.ts';
import { attemptRecord } from './attempt-outcome.ts';
import { leaseEndOf, stallAllowanceMs } from './lease-left.ts';
import type { SendFn, SendResult } from './send-types.ts';

/** What an attempt is sent with: an endpoint's settings, or a callback's fixed ones (no `url`). */
export type AttemptSettings = Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'> & {
  url?: string;
};

export interface AttemptSenderOptions {
  send: SendFn;
  clock: () => number;
  random: () => number;
  retryJitter: number;
  workerId: string;
  /** The attempt's record, once its response (or error) is in. */
  onAttempted(record: AttemptRecord): void;
  /**
   * The attempt failed in this process before it reached the receiver (SendResult.local): no
   * attempt to record, the delivery is handed back.
   */
  onLocalFailure(claimed: ClaimedDelivery, result: SendResult): void;
}

export type AttemptSender = (
  claimed: ClaimedDelivery,
  settings: AttemptSettings,
  secrets: EndpointSecret[],
  timeoutMs: number,
  schedule: readonly number[],
) => Promise<void>;

/**
 * One attempt of `claimed`. `settings` are its endpoint's as they are now (a callback's: fixed), the
 * URL included: a delivery keeps the URL it was fanned out to only for callbacks, so an endpoint
 * moved by PATCH gets its retries, recoveries and resends at its new address.
 */
export function createAttemptSender(options: AttemptSenderOptions): AttemptSender {
  const { send, clock, random, retryJitter, workerId, onAttempted, onLocalFailure } = options;
  return async (claimed, settings, secrets, timeoutMs, schedule) => {
    const { event } = claimed;
    const delivery =
      settings.url === undefined || settings.url === claimed.delivery.url
        ? claimed.delivery
        : { ...claimed.delivery, url: settings.url };
    const startedAt = clock();
    let request: BuiltRequest;
    let result: SendResult | null = null;
    try {
      request = buildRequest({
        event,
        payloadJson: claimed.payloadJson,
        url: delivery.url,
        endpoint: settings,
        secrets,
        now: startedAt,
      });
    } catch (error) {
      // Settings the signer refuses (e.g. sha256-body with GET): record why instead of letting the
      // claim lapse and come back forever without a trace.
      request = { method: settings.method, url: delivery.url, headers: {}, body: null };
      result = {
        startedAt,
        durationMs: 0,
        response: null,
        error: { kind: 'internal', message: `cannot build request: ${(error as Error).message ?? error}` },
      };
    }
    // Time this thread could not run is left out of the timeout (sender.ts) as long as the attempt
    // still ends inside the claim's lease, with its margin for the record: past that, another
    // worker could claim the delivery and send it again. The lease as this process counts it, from
    // its claim on its own clock (lease-left.ts).
    result ??= await send({
      ...request,
      timeoutMs,
      stallAllowanceMs: stallAllowanceMs(leaseEndOf(claimed), clock(), timeoutMs),
      ...(delivery.endpointId ? { poolKey: delivery.endpointId } : {}),
    });
    if (result.local) {
      onLocalFailure(claimed, result);
      return;
    }
    onAttempted(
      attemptRecord({
        delivery,
        event,
        request,
        result,
        schedule,
        jitter: retryJitter,
        random,
        countsForEndpoint: delivery.endpointId !== null,
        workerId,
        now: clock(),
      }),
    );
  };
}
