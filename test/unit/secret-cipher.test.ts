import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  createSecretCipher,
  PLAINTEXT_SECRETS,
  SecretKeyMismatchError,
} from '../../src/store/secret-cipher.ts';

test('sealed secrets open with the same key, differ every time, and hide the plaintext', () => {
  const cipher = createSecretCipher(randomBytes(32));
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const a = cipher.seal(secret);
  const b = cipher.seal(secret);
  assert.notEqual(a, b);
  assert.ok(!a.includes(secret) && !a.includes('MfKQ9r8'));
  assert.equal(cipher.open(a), secret);
  assert.equal(cipher.open(b), secret);
});

test('a wrong key or a tampered value is refused; plaintext from before a key was set still reads', () => {
  const sealed = createSecretCipher(randomBytes(32)).seal('s3cret-value');
  assert.throws(
    () => createSecretCipher(randomBytes(32)).open(sealed),
    /sealed with neither HERALD_ENCRYPTION_KEY nor/,
  );
  const raw = Buffer.from(sealed.slice(7), 'base64');
  raw[raw.length - 1]! ^= 1;
  const key = randomBytes(32);
  const c = createSecretCipher(key);
  const tampered = `enc:v1:${Buffer.concat([Buffer.from(c.seal('x').slice(7), 'base64').subarray(0, 28), raw.subarray(28)]).toString('base64')}`;
  assert.throws(() => c.open(tampered));
  assert.equal(c.open('legacy-plaintext'), 'legacy-plaintext');
  assert.throws(() => PLAINTEXT_SECRETS.open(sealed), /HERALD_ENCRYPTION_KEY: is unset/);
  assert.throws(() => createSecretCipher(randomBytes(16)), /32 bytes/);
});

test('rotation: previous keys still open old values, which are reported stale until sealed again', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const sealedOld = createSecretCipher(oldKey).seal('rotate-me');
  const rotating = createSecretCipher(newKey, [oldKey]);
  assert.equal(rotating.open(sealedOld), 'rotate-me');
  assert.equal(rotating.stale(sealedOld), true);
  assert.equal(rotating.stale('legacy-plaintext'), true, 'plaintext gets sealed too');
  const resealed = rotating.seal(rotating.open(sealedOld));
  assert.equal(rotating.stale(resealed), false);
  assert.equal(createSecretCipher(newKey).open(resealed), 'rotate-me', 'the old key is no longer needed');
  assert.throws(() => createSecretCipher(newKey).open(sealedOld), /HERALD_ENCRYPTION_KEY_PREVIOUS/);
  assert.equal(PLAINTEXT_SECRETS.stale('anything'), false);
  // Without a key, a sealed value is stale: resealing it fails with the reason (a refused start).
  const sealed = createSecretCipher(new Uint8Array(32).fill(7)).seal('whsec_x');
  assert.equal(PLAINTEXT_SECRETS.stale(sealed), true);
  assert.throws(
    () => PLAINTEXT_SECRETS.open(sealed),
    /^Error: HERALD_ENCRYPTION_KEY: is unset, but the database holds/,
  );
});

test('a value whose GCM tag is cut short is refused, without a DEP0182 warning', async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const cipher = createSecretCipher(randomBytes(32));
    // An empty secret has no ciphertext: iv ‖ tag, and the first 4..15 bytes of its tag would pass
    // a check of a tag that short.
    const raw = Buffer.from(cipher.seal('').slice('enc:v1:'.length), 'base64');
    assert.equal(raw.length, 28);
    for (const tagBytes of [4, 8, 12, 15]) {
      const cut = `enc:v1:${raw.subarray(0, 12 + tagBytes).toString('base64')}`;
      assert.throws(() => cipher.open(cut), SecretKeyMismatchError, `${tagBytes}-byte tag`);
      assert.equal(cipher.stale(cut), true);
    }
    for (const cut of ['enc:v1:', `enc:v1:${raw.subarray(0, 6).toString('base64')}`]) {
      assert.throws(() => cipher.open(cut), SecretKeyMismatchError, cut);
    }
    assert.equal(cipher.open(cipher.seal('')), '');
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(
    warnings.map((w) => `${(w as { code?: string }).code}: ${w.message}`),
    [],
  );
});
