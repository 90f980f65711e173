import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.ts';
import { decodeEncryptionKey } from './parse-encryption-key.ts';

/** File in the data directory holding the generated key that seals endpoint secrets (embedded default). */
export const ENCRYPTION_KEY_FILE = 'encryption-key';

/**
 * The key to seal endpoint secrets with when HERALD_ENCRYPTION_KEY is unset and the database is the
 * embedded SQLite one: read from `<dataDir>/encryption-key`, or 32 random bytes written there with
 * mode 0600 (temporary file hard-linked into place, so two starts agree on one key). Keep this file
 * with backups of the database: without it the stored secrets cannot be read.
 */
export function resolveEncryptionKeyFile(dataDir: string): string {
  const file = join(dataDir, ENCRYPTION_KEY_FILE);
  const existing = readKey(file);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64');
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

function readKey(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
  if (!decodeEncryptionKey(text)) {
    throw new ConfigError('HERALD_ENCRYPTION_KEY', `${file} does not hold a 32-byte key (hex or base64)`);
  }
  return text;
}
