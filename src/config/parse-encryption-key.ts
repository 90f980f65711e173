import { ConfigError } from './config-error.ts';
import type { RawSetting } from './parse-setting.ts';

/** Bytes of key material an AES-256 key needs. */
export const ENCRYPTION_KEY_BYTES = 32;

/**
 * HERALD_ENCRYPTION_KEY: 32 random bytes, written as 64 hex digits or as base64 / base64url
 * (`openssl rand -base64 32`). A passphrase is refused on purpose: a short human-chosen string is
 * a weak key, and a key of the wrong length would only fail later, on the first secret written.
 */
export function parseEncryptionKey(setting: RawSetting): string {
  if (decodeEncryptionKey(setting.value) === null) {
    throw new ConfigError(
      setting.source,
      `expected ${ENCRYPTION_KEY_BYTES} bytes as 64 hex digits or base64 (try: openssl rand -base64 32)`,
    );
  }
  return setting.value;
}

/** The key bytes, or null when `value` is not 32 bytes in hex, base64 or base64url. */
export function decodeEncryptionKey(value: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === ENCRYPTION_KEY_BYTES) return bytes;
  }
  return null;
}

/**
 * Whether `a` and `b` write the same key: one key may be written in hex, base64 or base64url, with
 * or without its `=` (decodeEncryptionKey), so the text alone does not say.
 */
export function sameEncryptionKey(a: string, b: string): boolean {
  const x = decodeEncryptionKey(a);
  const y = decodeEncryptionKey(b);
  return x !== null && y !== null && x.equals(y);
}
