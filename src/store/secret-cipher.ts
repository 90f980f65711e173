/**
 * Endpoint secrets at rest: AES-256-GCM under HERALD_ENCRYPTION_KEY (or the key file the embedded
 * default creates). Stored form: `enc:v1:` + base64(iv ‖ tag ‖ ciphertext). Values without the
 * prefix are plaintext from before a key was set, and are still read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretCipher {
  seal(plain: string): string;
  /** Opens a value sealed with the current key or a previous one, or stored in plaintext. */
  open(stored: string): string;
  /** True when `stored` is not sealed with the current key (plaintext, or a previous key): reseal it. */
  stale(stored: string): boolean;
}

/**
 * A sealed secret that none of this process's keys opens (or it has no key at all): another
 * process sealed it with a key this one was not given. The process needs the current key
 * (src/delivery/secret-key-readiness.ts turns it into an unready /readyz).
 */
export class SecretKeyMismatchError extends Error {
  // Its name stays "Error": a refused start prints it as before.
  readonly code = 'HERALD_SECRET_KEY_MISMATCH';
}

export function isSecretKeyMismatch(error: unknown): error is SecretKeyMismatchError {
  return error instanceof SecretKeyMismatchError;
}

const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds ciphertexts to their purpose: a sealed value cannot be replayed as another kind of data. */
const AAD = Buffer.from('herald/endpoint-secret/v1');

/** No key configured: secrets are stored as given (documented; PostgreSQL without a key). */
export const PLAINTEXT_SECRETS: SecretCipher = {
  seal: (plain) => plain,
  open: (stored) => {
    if (stored.startsWith(PREFIX)) {
      throw new SecretKeyMismatchError(
        'HERALD_ENCRYPTION_KEY: is unset, but the database holds endpoint secrets sealed with an encryption key: start with the key the other processes use',
      );
    }
    return stored;
  },
  // A sealed value is one only a key opens: resealing it fails, saying so (a start refused).
  stale: (stored) => stored.startsWith(PREFIX),
};

/**
 * `previous`: keys being rotated out. Values sealed with them still open; `stale` reports them so
 * they can be sealed again with `key` (Store.resealSecrets), after which the old key can go.
 */
export function createSecretCipher(key: Uint8Array, previous: readonly Uint8Array[] = []): SecretCipher {
  for (const k of [key, ...previous]) {
    if (k.length !== 32) throw new Error('the secret encryption key must be 32 bytes');
  }
  return {
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(AAD);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      for (const k of [key, ...previous]) {
        const plain = openWith(k, stored);
        if (plain !== null) return plain;
      }
      throw new SecretKeyMismatchError(
        'cannot decrypt an endpoint secret: it was sealed with neither HERALD_ENCRYPTION_KEY nor a key in HERALD_ENCRYPTION_KEY_PREVIOUS',
      );
    },
    stale(stored) {
      return !stored.startsWith(PREFIX) || openWith(key, stored) === null;
    },
  };
}

/**
 * `cipher`, telling `report` whether each sealed secret it is asked to open opened (true) or was
 * refused by every key it has (false: sealed with another key; GCM cannot tell that from a value
 * altered in the database, which no key opens either). Plaintext values say nothing about the key
 * and are not reported.
 */
export function reportingOpens(cipher: SecretCipher, report: (opened: boolean) => void): SecretCipher {
  return {
    seal: (plain) => cipher.seal(plain),
    stale: (stored) => cipher.stale(stored),
    open(stored) {
      if (!stored.startsWith(PREFIX)) return cipher.open(stored);
      let plain: string;
      try {
        plain = cipher.open(stored);
      } catch (error) {
        if (isSecretKeyMismatch(error)) report(false);
        throw error;
      }
      report(true);
      return plain;
    },
  };
}

/**
 * The plaintext, or null when `key` is not the key the value was sealed with (GCM's tag says so).
 * The tag is pinned to 16 bytes: unpinned, a value cut short to a tag of 4 to 15 bytes (the prefix
 * of the real one) would open, and Node warns DEP0182; pinned, setAuthTag throws for it.
 */
function openWith(key: Uint8Array, stored: string): string | null {
  const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
  try {
    // A value cut shorter than the IV throws here too.
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(AAD);
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return null;
  }
}
