/**
 * Endpoint secrets: generation and the format checks done before one is stored, so signing never
 * fails on the delivery path.
 */
import { randomBytes } from 'node:crypto';
import { STANDARD_SECRET_PREFIX, standardSecretKey } from '@herald/verify';
import type { SignatureScheme } from './types.ts';

/** Bytes of randomness in a generated secret (Standard Webhooks allows 24–64). */
export const SECRET_BYTES = 32;

/**
 * How long a rotated-out secret stays valid when the rotation does not say: a day, for receivers
 * to move to the new one while every request carries both signatures (the schemes that carry
 * several) or either is accepted.
 */
export const DEFAULT_ROTATION_GRACE_SECONDS = 86_400;

/** A new secret: `whsec_` + base64 of 32 random bytes. Valid for every scheme. */
export function generateSecret(): string {
  return STANDARD_SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * Why `secret` cannot be used with `scheme`, or null when it can. A `standard` secret must be
 * (optionally `whsec_`-prefixed) base64 of 24–64 bytes, as the Standard Webhooks and Svix
 * libraries expect; other schemes take any string of 8–1024 characters, used as is (an imported
 * WePlaytestGames, GitHub or Stripe secret keeps working unchanged).
 */
export function secretProblem(scheme: SignatureScheme, secret: string): string | null {
  if (scheme === 'standard') {
    const key = standardSecretKey(secret);
    if (key === null) return 'a standard secret must be whsec_ followed by base64';
    if (key.length < 24 || key.length > 64) return 'a standard secret must decode to 24–64 bytes';
    return null;
  }
  if (secret.length < 8 || secret.length > 1024) return 'a secret must be 8–1024 characters';
  // Secrets travel in JSON and headers of our API; control characters only cause grief.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\u0000-\u001f\u007f]/.test(secret)) return 'a secret must not contain control characters';
  return null;
}

/**
 * Whether two secrets sign alike under `scheme`: a standard key is the same key with or without its
 * `whsec_` prefix (compared as the bytes it decodes to); any other secret is used as is.
 */
export function sameSecret(scheme: SignatureScheme, a: string, b: string): boolean {
  if (a === b) return true;
  if (scheme !== 'standard') return false;
  const ka = standardSecretKey(a);
  const kb = standardSecretKey(b);
  return ka !== null && kb !== null && Buffer.from(ka).equals(Buffer.from(kb));
}
