/**
 * The endpoint secrets a copy carries over as they are stored: sealed with the SQLite installation's
 * key (`enc:v1:…`, secret-cipher.ts), or plaintext from before a key was set. The PostgreSQL
 * processes open them only with that key, so the copy checks first that the key it was given opens
 * every sealed one: then it can say which key to give them, and it is the right one.
 */
import type { DatabaseSync } from 'node:sqlite';
import { isSecretKeyMismatch, type SecretCipher } from '../secret-cipher.ts';

export interface SecretsCheck {
  /** Sealed secrets the given key (or a previous key) opens. */
  sealed: number;
  /** Secrets stored in plaintext (sealed by the first start with a key, on either store). */
  plaintext: number;
  /** Sealed secrets none of the given keys opens: the target could not sign with them. */
  unopened: number;
}

const SEALED = 'enc:v1:';

/** Opens every endpoint secret of `db` with `cipher` (one row at a time), counting what it finds. */
export function checkSecrets(db: DatabaseSync, cipher: SecretCipher): SecretsCheck {
  const check: SecretsCheck = { sealed: 0, plaintext: 0, unopened: 0 };
  const rows = db.prepare('SELECT secret FROM endpoint_secrets ORDER BY rowid').iterate() as Iterable<{
    secret: string;
  }>;
  for (const { secret } of rows) {
    if (!secret.startsWith(SEALED)) {
      check.plaintext += 1;
      continue;
    }
    try {
      cipher.open(secret);
      check.sealed += 1;
    } catch (error) {
      if (!isSecretKeyMismatch(error)) throw error;
      check.unopened += 1;
    }
  }
  return check;
}
