/**
 * The custom header names Herald never sends because it sets them itself, and the words the API
 * refuses them with. Pure and free of the signing code: the API (endpoint-input.ts), the request
 * builder (build-request.ts) and the dashboard's header editor (header-rows.ts) share it.
 */
// The file itself, not the package's index: that brings the signing code (and node:crypto) into
// the dashboard's bundle.
import { isRequestHeader } from '../../packages/verify/src/request-headers.ts';
import type { SignatureConfig } from './types.ts';

/**
 * Headers a custom header can never set, whatever the endpoint's scheme: every header the request
 * or its connection owns (`isRequestHeader` of @herald/verify: the list signature and timestamp
 * header names are checked against too), and every header any scheme signs with, so a custom header
 * cannot forge a signature a receiver might check (Svix libraries prefer `svix-*` over `webhook-*`).
 */
const SIGNATURE_HEADERS = new Set([
  'stripe-signature',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-webhook-signature',
  'x-webhook-timestamp',
  'x-signature',
]);
const RESERVED_PREFIXES = ['webhook-', 'svix-'];

/** Why a reserved custom header is refused: the API's 400 and the dashboard's editor say it so. */
export const RESERVED_HEADER_WORDS =
  'is a header Herald sets itself (content, host, connection or signature headers)';

/** True when a custom header called `name` would be dropped for an endpoint signing with `signature`. */
export function isReservedHeader(name: string, signature: SignatureConfig): boolean {
  const lower = name.toLowerCase();
  return (
    isRequestHeader(lower) ||
    SIGNATURE_HEADERS.has(lower) ||
    RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix)) ||
    lower === signature.signatureHeader?.toLowerCase() ||
    lower === signature.timestampHeader?.toLowerCase()
  );
}
