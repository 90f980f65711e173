/** What a start refused while resealing the endpoint secrets says (encryption-key-start.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
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
