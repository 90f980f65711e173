/**
 * When the dashboard offers no Retry / Resend for a delivery: the cases POST …/deliveries/:id/retry
 * refuses with 409, so the button is disabled beforehand and says why, instead of being clicked
 * into the refusal. Pure: the screens read the delivery and its endpoint and pass them in.
 */
import type { DeliverySummary, Endpoint } from './api/types.ts';

/** Why a delivery cannot be retried now, each the API's 409 of the same name. */
export type RetryBlock = 'endpoint-deleted' | 'endpoint-disabled' | 'in-flight';

/**
 * How often a screen that shows a delivery being sent reads it again: Retry comes back once its
 * attempt is recorded, which takes up to the endpoint's timeout (30 s at most by default).
 */
export const IN_FLIGHT_REFRESH_MS = 2_000;

/**
 * Why `delivery` cannot be retried, or null when it can. `endpoint` is its endpoint as read: null
 * when the API answered that it does not exist (deleted), undefined when it is not known (a callback
 * delivery has none, or it was not read), in which case only the delivery's own state counts.
 */
export function retryBlock(
  delivery: Pick<DeliverySummary, 'endpointId' | 'inFlight'>,
  endpoint: Endpoint | null | undefined,
): RetryBlock | null {
  // A deleted endpoint's deliveries were closed for good: nothing else about them matters.
  if (delivery.endpointId && endpoint === null) return 'endpoint-deleted';
  // Enabling it is what the operator has to do first, whether or not an attempt is out.
  if (endpoint?.status === 'disabled') return 'endpoint-disabled';
  if (delivery.inFlight) return 'in-flight';
  return null;
}

/** The reason a disabled Retry / Resend gives (the disabled endpoint's row adds a link to enable it). */
export const RETRY_BLOCK_TEXT: Record<RetryBlock, string> = {
  'endpoint-deleted': 'Endpoint deleted: there is nothing to send it to.',
  'endpoint-disabled': 'Endpoint disabled: enable it first.',
  'in-flight': 'Being sent now: retry once its attempt is recorded.',
};

/**
 * What the API's refusal of a retry says the screen showed out of date: the endpoint (disabled or
 * deleted since it was read) or the delivery (an attempt went out since), to be read again so the
 * button then says why; null for any other error.
 */
export function staleAfterRefusal(code: string | undefined): 'endpoint' | 'delivery' | null {
  if (code === 'HERALD_ERR_ENDPOINT_DISABLED' || code === 'HERALD_ERR_ENDPOINT_DELETED') return 'endpoint';
  if (code === 'HERALD_ERR_DELIVERY_IN_FLIGHT') return 'delivery';
  return null;
}
