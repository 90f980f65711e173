/**
 * The start's dealings with the key that seals endpoint secrets: storing a generated key once the
 * database is known to need no other, and refusals that say which key is the likely one.
 */
import { join } from 'node:path';
import { isSecretKeyMismatch } from '../store/secret-cipher.ts';
import type { Store } from '../store/store.ts';
import { ConfigError } from './config-error.ts';
import type { Config } from './config-types.ts';
import {
  ENCRYPTION_KEY_FILE,
  readEncryptionKeyFile,
  refuseSecretsSealedElsewhere,
  secretsSealedElsewhereError,
  writeEncryptionKeyFile,
} from './encryption-key-file.ts';
import { sameEncryptionKey } from './parse-encryption-key.ts';
import { redactDatabaseUrl } from './redact-database-url.ts';

/**
 * Stores the key a database without one was opened with, once no secret in it needs another key:
 * a brand-new database, or one whose secrets are in plaintext (sealed right after). Nothing has
 * been sealed with `key` before it is stored.
 */
export async function storeNewEncryptionKey(store: Store, key: string, config: Config): Promise<void> {
  await refuseSecretsSealedElsewhere(store, {
    database: redactDatabaseUrl(config.databaseUrl),
    dataDir: config.dataDir,
  });
  if (writeEncryptionKeyFile(config.dataDir, key) !== key) {
    throw new ConfigError(
      'HERALD_ENCRYPTION_KEY',
      `another process stored ${join(config.dataDir, ENCRYPTION_KEY_FILE)} while this one started; start again`,
    );
  }
}

/** Where the key a start opens the endpoint secrets with came from (src/main.ts). */
export type StartKeySource = 'set' | 'file' | 'generated';

/**
 * A secret the start's keys do not open, found before the migrations (Store.openAllSecrets), said
 * for where the key came from: HERALD_ENCRYPTION_KEY (or, on PostgreSQL, no key at all), the data
 * directory's key file, or a key generated for a database without one (none is stored then).
 * Anything else is returned as it is.
 */
export function explainStartKeyMismatch(error: unknown, config: Config, source: StartKeySource): unknown {
  if (source === 'set') return explainSetKeyMismatch(error, config);
  if (source === 'file') return explainKeyFileMismatch(error, config);
  if (!isSecretKeyMismatch(error)) return error;
  return secretsSealedElsewhereError({
    database: redactDatabaseUrl(config.databaseUrl),
    dataDir: config.dataDir,
  });
}

/** A secret the key file does not open: say that the file is the key in question. */
export function explainKeyFileMismatch(error: unknown, config: Config): unknown {
  if (!/decrypt/.test((error as Error).message)) return error;
  return new ConfigError(
    'HERALD_ENCRYPTION_KEY',
    `is unset, and the key in ${join(config.dataDir, ENCRYPTION_KEY_FILE)} does not open the endpoint secrets of ${redactDatabaseUrl(config.databaseUrl)}: set HERALD_ENCRYPTION_KEY to the key they were sealed with (and HERALD_ENCRYPTION_KEY_PREVIOUS to the file's key, if some were sealed with it)`,
  );
}

/**
 * A secret HERALD_ENCRYPTION_KEY (and its previous keys) does not open. On SQLite with a key file
 * in the data directory that is none of them: most likely the key they were sealed with (a copy of
 * a data directory started with a new key, without HERALD_ENCRYPTION_KEY_PREVIOUS). Otherwise the
 * refusal still says what to do: the old key as previous, which reseals it.
 */
export function explainSetKeyMismatch(error: unknown, config: Config): unknown {
  // The cipher's refusal, by its class: the word "decrypt" is in OpenSSL's too ("decryption failed
  // or bad record mac"), which a TLS connection to PostgreSQL may fail with during the reseal.
  // Without HERALD_ENCRYPTION_KEY the cipher's own refusal says so already (secret-cipher.ts
  // PLAINTEXT_SECRETS: "is unset, but the database holds … sealed"): left as it is.
  if (!isSecretKeyMismatch(error) || !config.encryptionKey) return error;
  const fileKey = config.databaseUrl.startsWith('sqlite:') ? otherKeyInFile(config) : null;
  if (fileKey === null) {
    // PostgreSQL, or no other key at hand: most likely step 3 of a rotation done too early (an
    // `api` process still on the old key sealed a new endpoint's secret with it), or a key mixed up.
    return new ConfigError(
      'HERALD_ENCRYPTION_KEY',
      `does not open an endpoint secret of ${redactDatabaseUrl(config.databaseUrl)}, nor does a key in HERALD_ENCRYPTION_KEY_PREVIOUS: after a rotation, give the old key as HERALD_ENCRYPTION_KEY_PREVIOUS and start again, which seals it again with the new one (else set HERALD_ENCRYPTION_KEY to the key it was sealed with); nothing is lost (docs/operations.md, Rotating keys and tokens)`,
    );
  }
  return new ConfigError(
    'HERALD_ENCRYPTION_KEY',
    `does not open the endpoint secrets of ${redactDatabaseUrl(config.databaseUrl)}, nor does a key in HERALD_ENCRYPTION_KEY_PREVIOUS; ${join(config.dataDir, ENCRYPTION_KEY_FILE)} holds another key, probably the one they were sealed with: set HERALD_ENCRYPTION_KEY_PREVIOUS to it to reseal them with the new key (docs/operations.md)`,
  );
}

/** The data directory's key file, when it holds a key none of the configured ones is; else null. */
function otherKeyInFile(config: Config): string | null {
  let fileKey: string | null;
  try {
    fileKey = readEncryptionKeyFile(config.dataDir);
  } catch {
    return null;
  }
  if (fileKey === null) return null;
  // As the bytes they seal with: one key has several spellings (hex, base64 with or without `=`,
  // base64url), and the file's key given in another is the file's key, already tried.
  const configured = [config.encryptionKey, ...config.previousEncryptionKeys];
  return configured.some((key) => key !== null && sameEncryptionKey(key, fileKey)) ? null : fileKey;
}
