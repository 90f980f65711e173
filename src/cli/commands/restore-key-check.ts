/**
 * Whether the key `herald serve` will find opens the endpoint secrets of a backup being restored:
 * a start whose keys do not open them is refused, and after an encryption-key rotation the
 * backup's secrets are sealed with the key of its day (docs/operations.md, Backups). Said at
 * restore time, naming the key, rather than at the first start.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ENCRYPTION_KEY_FILE, readEncryptionKeyFile } from '../../config/encryption-key-file.ts';
import type { loadConfig } from '../../config/load-config.ts';
import { decodeEncryptionKey } from '../../config/parse-encryption-key.ts';
import { createSecretCipher, PLAINTEXT_SECRETS } from '../../store/secret-cipher.ts';
import { checkSecrets } from '../../store/sqlite-to-postgres/secrets-check.ts';

/** One line on the restored copy's endpoint secrets and the key serve needs, or null: none sealed. */
export function restoredSecretsLine(copy: string, config: ReturnType<typeof loadConfig>): string | null {
  const keyFile = join(config.dataDir, ENCRYPTION_KEY_FILE);
  // As serve finds its key on SQLite: HERALD_ENCRYPTION_KEY, else the data directory's file.
  const text = config.encryptionKey ?? readEncryptionKeyFile(config.dataDir);
  const named = config.encryptionKey
    ? `HERALD_ENCRYPTION_KEY${config.previousEncryptionKeys.length > 0 ? ' (with HERALD_ENCRYPTION_KEY_PREVIOUS)' : ''}`
    : text
      ? keyFile
      : null;
  const decode = (k: string) => decodeEncryptionKey(k)!;
  const cipher = text
    ? createSecretCipher(decode(text), config.previousEncryptionKeys.map(decode))
    : PLAINTEXT_SECRETS;
  const db = new DatabaseSync(copy, { readOnly: true });
  let check: ReturnType<typeof checkSecrets>;
  try {
    check = checkSecrets(db, cipher);
  } finally {
    db.close();
  }
  const sealed = check.sealed + check.unopened;
  if (sealed === 0) return null;
  if (check.unopened === 0) {
    return `its ${sealed} sealed endpoint secret(s) open with ${named}: start herald serve with that key`;
  }
  const given = named ? `with ${named}` : `without a key (no HERALD_ENCRYPTION_KEY, no ${keyFile})`;
  return `warning: ${check.unopened} of its ${sealed} sealed endpoint secret(s) do not open ${given}, so herald serve will refuse to start on it: give it the key that sealed them (HERALD_ENCRYPTION_KEY, or ${keyFile}); after a rotation since the backup, the new key as HERALD_ENCRYPTION_KEY and the old one as HERALD_ENCRYPTION_KEY_PREVIOUS (docs/operations.md, Rotating keys and tokens)`;
}
