/**
 * From secret to HMAC key. Only `standard` decodes: its secrets are `whsec_<base64>` (the prefix is
 * optional, as in the Standard Webhooks and Svix libraries) and the key is the decoded bytes.
 * Every other scheme uses the secret string's UTF-8 bytes as the key, whatever it looks like, so a
 * generated `whsec_…` secret on a `github` or `stripe` endpoint is used whole, exactly as GitHub,
 * Stripe and WePlaytestGames receivers use the string they were given.
 */
import { base64ToBytes } from './encoding.ts';

export const STANDARD_SECRET_PREFIX = 'whsec_';

/** The key bytes of a `standard` secret, or null when it is not (optionally prefixed) base64. */
export function standardSecretKey(secret: string): Uint8Array | null {
  const encoded = secret.startsWith(STANDARD_SECRET_PREFIX)
    ? secret.slice(STANDARD_SECRET_PREFIX.length)
    : secret;
  const key = base64ToBytes(encoded);
  return key !== null && key.length > 0 ? key : null;
}
