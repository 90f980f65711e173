import { randomBytes } from 'node:crypto';
import { linkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allPages } from '../store/all-pages.ts';
import type { Store } from '../store/store.ts';
import { ConfigError } from './config-error.ts';
import { makeDirectory } from './make-directory.ts';
import { decodeEncryptionKey } from './parse-encryption-key.ts';
import { DATA_DIR_FILE_BOUND, readStartFile } from './read-start-file.ts';

/** File in the data directory holding the generated key that seals endpoint secrets (embedded default). */
export const ENCRYPTION_KEY_FILE = 'encryption-key';

/**
 * The key in `<dataDir>/encryption-key`, or null when there is no such file. Used when
 * HERALD_ENCRYPTION_KEY is unset and the database is the embedded SQLite one. Keep this file with
 * backups of the database: without it the stored secrets cannot be read.
 */
export function readEncryptionKeyFile(dataDir: string): string | null {
  return readKey(join(dataDir, ENCRYPTION_KEY_FILE));
}

/** A new key for the embedded default: 32 random bytes in base64. Not stored anywhere yet. */
export function generateEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Stores `key` as `<dataDir>/encryption-key`, mode 0600, unless the file exists (a temporary file
 * hard-linked into place, so two starts agree on one key). Returns the key the file holds: `key`,
 * or the one another process stored first. Called only once the database is known to hold no
 * secret sealed with some other key (src/main.ts), so a start that is refused leaves no key file
 * behind that the next start would take for the right one.
 */
export function writeEncryptionKeyFile(dataDir: string, key: string): string {
  const file = join(dataDir, ENCRYPTION_KEY_FILE);
  makeDirectory(dataDir, 0o700);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, `${key}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(temporary, file);
    return key;
  } catch (cause) {
    const raced = readKey(file);
    if (raced) return raced;
    throw new ConfigError('HERALD_ENCRYPTION_KEY', `cannot store a generated encryption key in ${file}`, {
      cause,
    });
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already linked and removed
    }
  }
}

/**
 * Refuses (ConfigError) a database holding an endpoint secret that `store`, opened with a key not
 * stored anywhere yet, cannot open: a secret sealed with a key that is not configured (set
 * HERALD_ENCRYPTION_KEY before, or a key file lost). Reads every secret of every endpoint, expired
 * ones too (the reseal at start opens them all); secrets stored in plaintext (by a version without
 * a key file, or `herald migrate`'s empty database) open with any key and are sealed at start.
 */
export async function refuseSecretsSealedElsewhere(
  store: Pick<Store, 'listProjects' | 'listEndpoints' | 'getEndpointSecrets'>,
  where: { database: string; dataDir: string },
): Promise<void> {
  for await (const project of allPages((cursor) => store.listProjects({ limit: 100, cursor }))) {
    for await (const endpoint of allPages((cursor) =>
      store.listEndpoints(project.id, { limit: 100, cursor }),
    )) {
      try {
        // At time 0 every secret ever stored for the endpoint is still "valid": expired ones too.
        await store.getEndpointSecrets(project.id, endpoint.id, 0);
      } catch (error) {
        if (!/decrypt/.test((error as Error).message)) throw error;
        throw secretsSealedElsewhereError(where);
      }
    }
  }
}

/**
 * The refusal of a database holding secrets sealed with a key, started with neither
 * HERALD_ENCRYPTION_KEY nor a key file: a key of its own would not open them, and none is stored.
 */
export function secretsSealedElsewhereError(where: { database: string; dataDir: string }): ConfigError {
  return new ConfigError(
    'HERALD_ENCRYPTION_KEY',
    `is unset and ${join(where.dataDir, ENCRYPTION_KEY_FILE)} does not exist, but ${where.database} holds endpoint secrets sealed with an encryption key: set HERALD_ENCRYPTION_KEY to that key, or put its key file back (no new key was stored)`,
  );
}

function readKey(file: string): string | null {
  let text: string;
  try {
    text = readStartFile(file, 'HERALD_ENCRYPTION_KEY', DATA_DIR_FILE_BOUND).trim();
  } catch (error) {
    if (error instanceof ConfigError) throw error; // past its bound, or no regular file
    return null;
  }
  if (!decodeEncryptionKey(text)) {
    throw new ConfigError('HERALD_ENCRYPTION_KEY', `${file} does not hold a 32-byte key (hex or base64)`);
  }
  return text;
}
