/** What a start refused while resealing the endpoint secrets says (encryption-key-start.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { writeEncryptionKeyFile } from '../../src/config/encryption-key-file.ts';
import { explainSetKeyMismatch } from '../../src/config/encryption-key-start.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { decodeEncryptionKey } from '../../src/config/parse-encryption-key.ts';
import { createSecretCipher } from '../../src/store/secret-cipher.ts';

const OLD_KEY = 'MW7hcrHXcdYgqBXEDYxF1acwY44iwHFRpySug2Ujccg=';
const NEW_KEY = 'f3Ml1Gd0yBkZ1c8Zs9M2rW0qv4Hq8n3N9i1oXyQbGxE=';
const postgres = loadConfig({
  env: {
    HERALD_DATABASE_URL: 'postgres://herald:pw@127.0.0.1:5432/herald',
    HERALD_ENCRYPTION_KEY: NEW_KEY,
    HERALD_ADMIN_TOKEN: 'encryption-key-start-test-token-0123456789',
  },
});

test('a secret sealed with another key: refused naming HERALD_ENCRYPTION_KEY and the way out', () => {
  const sealed = createSecretCipher(decodeEncryptionKey(OLD_KEY)!).seal('whsec_x');
  let refusal: unknown;
  try {
    createSecretCipher(decodeEncryptionKey(NEW_KEY)!).open(sealed);
  } catch (error) {
    refusal = error;
  }
  const explained = explainSetKeyMismatch(refusal, postgres);
  assert.ok(explained instanceof ConfigError, String(explained));
  assert.match(
    explained.message,
    /^HERALD_ENCRYPTION_KEY: does not open an endpoint secret of postgres:\/\/herald:\*\*\*@/,
  );
});

test("the database connection's own TLS failure during the reseal is said as it is, not as a key that does not open a secret", () => {
  // OpenSSL's words for a corrupted TLS record, as PostgreSQL or Node report it: they hold
  // "decrypt", which a start took for the cipher's refusal and answered with advice about keys.
  for (const message of [
    'SSL error: decryption failed or bad record mac',
    'write EPROTO 40F8:error:0A000119:SSL routines:ssl3_get_record:decryption failed or bad record mac',
    'tlsv1 alert decrypt error',
  ]) {
    const error = new Error(message);
    assert.equal(explainSetKeyMismatch(error, postgres), error, message);
  }
});

test("SQLite: the key file's key given as a previous key in another spelling is not named as the key to give", () => {
  // Sealed with a third key: neither HERALD_ENCRYPTION_KEY nor the previous key (the file's, in hex) opens it.
  const third = createSecretCipher(Buffer.alloc(32, 7)).seal('whsec_x');
  let refusal: unknown;
  try {
    createSecretCipher(decodeEncryptionKey(NEW_KEY)!).open(third);
  } catch (error) {
    refusal = error;
  }
  const dir = mkdtempSync(join(tmpdir(), 'herald-key-start-'));
  try {
    writeEncryptionKeyFile(dir, OLD_KEY);
    const sqlite = loadConfig({
      env: {
        HERALD_DATA_DIR: dir,
        HERALD_ENCRYPTION_KEY: NEW_KEY,
        HERALD_ENCRYPTION_KEY_PREVIOUS: decodeEncryptionKey(OLD_KEY)!.toString('hex'),
        HERALD_ADMIN_TOKEN: 'encryption-key-start-test-token-0123456789',
      },
    });
    const explained = explainSetKeyMismatch(refusal, sqlite);
    assert.ok(explained instanceof ConfigError, String(explained));
    // The file's key is given already: telling the operator to give it sends them round in a circle.
    assert.doesNotMatch(explained.message, /holds another key/);
    assert.match(explained.message, /^HERALD_ENCRYPTION_KEY: does not open an endpoint secret of sqlite:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
