/**
 * Endpoint secrets at rest: AES-256-GCM under HERALD_ENCRYPTION_KEY (or the key file the embedded
 * default creates). Stored form: `enc:v1:` + base64(iv ‖ tag ‖ ciphertext). Values without the
 * prefix are plaintext from before a key was set, and are still read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretCipher {
  seal(plain: string): string;
  open(stored: string): string;
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
      throw new Error('an endpoint secret is encrypted but no HERALD_ENCRYPTION_KEY is configured');
    }
    return stored;
  },
};

export function createSecretCipher(key: Uint8Array): SecretCipher {
  if (key.length !== 32) throw new Error('the secret encryption key must be 32 bytes');
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
      const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch (cause) {
        throw new Error(
          'cannot decrypt an endpoint secret: HERALD_ENCRYPTION_KEY is not the key it was sealed with',
          {
            cause,
          },
        );
      }
    },
  };
}
