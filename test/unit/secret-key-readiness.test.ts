/**
 * A process whose key no longer opens the endpoint secrets (another process resealed them with a
 * new key): the cipher reports it, readiness turns it into a /readyz status and one log line, and
 * the dispatcher's error log says it once per interval instead of a stack per claim.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  createSecretKeyReadiness,
  OPENED_LATELY_MS,
  onSecretKeyChange,
  SEALED_WITH_ANOTHER_KEY,
} from '../../src/delivery/secret-key-readiness.ts';
import { storeErrorLog } from '../../src/delivery/store-error-log.ts';
import {
  createSecretCipher,
  isSecretKeyMismatch,
  PLAINTEXT_SECRETS,
  reportingOpens,
} from '../../src/store/secret-cipher.ts';

type Line = { level: string; fields: Record<string, unknown>; message: string };
function recordingLogger() {
  const lines: Line[] = [];
  const at = (level: string) => (fields: object, message: string) => {
    lines.push({ level, fields: { ...fields }, message });
  };
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info') } };
}

test('a secret sealed with another key is a SecretKeyMismatchError, with or without a key', () => {
  const sealed = createSecretCipher(randomBytes(32)).seal('whsec_x');
  for (const cipher of [createSecretCipher(randomBytes(32)), PLAINTEXT_SECRETS]) {
    assert.throws(
      () => cipher.open(sealed),
      (error: unknown) => isSecretKeyMismatch(error),
    );
  }
  assert.equal(isSecretKeyMismatch(new Error('cannot decrypt')), false);
});

test('reportingOpens reports each sealed secret opened or refused, and nothing for plaintext', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const reports: boolean[] = [];
  const cipher = reportingOpens(createSecretCipher(oldKey), (opened) => reports.push(opened));
  const mine = cipher.seal('mine');
  assert.equal(cipher.open(mine), 'mine');
  assert.equal(cipher.open('legacy-plaintext'), 'legacy-plaintext');
  assert.throws(() => cipher.open(createSecretCipher(newKey).seal('theirs')), isSecretKeyMismatch);
  assert.deepEqual(reports, [true, false]);
  assert.equal(cipher.stale(mine), false);
  assert.equal(createSecretCipher(oldKey).open(mine), 'mine', 'seals with the wrapped cipher');
});

test('onSecretKeyChange passes changes only, starting from opened', () => {
  const seen: boolean[] = [];
  let now = 1_000_000;
  const report = onSecretKeyChange(
    (opened) => seen.push(opened),
    () => now,
  );
  for (const opened of [true, true]) report(opened);
  now += OPENED_LATELY_MS;
  for (const opened of [false, false, false, true, true]) report(opened);
  now += OPENED_LATELY_MS;
  report(false);
  assert.deepEqual(seen, [false, true, false]);
});

test('onSecretKeyChange: a refusal while secrets opened lately is one endpoint, not the key', () => {
  const seen: boolean[] = [];
  let now = 1_000_000;
  const report = onSecretKeyChange(
    (opened) => seen.push(opened),
    () => now,
  );
  // Never opened anything: the first refusal is the change (an old-key process after a reseal).
  report(false);
  report(true);
  // Claims that mix both, a second apart: no flip each time.
  for (let i = 0; i < 20; i++) {
    now += 1_000;
    report(false);
    report(true);
    report(false);
  }
  assert.deepEqual(seen, [false, true]);
  // Nothing opened for OPENED_LATELY_MS: refusals are this process's key again.
  now += OPENED_LATELY_MS - 1;
  report(false);
  assert.deepEqual(seen, [false, true]);
  now += 1;
  report(false);
  assert.deepEqual(seen, [false, true, false]);
});

test('readiness: unready naming the cause, one error line saying what to do, ready again on an open', () => {
  const { lines, logger } = recordingLogger();
  const readiness = createSecretKeyReadiness(logger);
  readiness.report(true);
  assert.equal(readiness.notReady(), null);
  assert.equal(lines.length, 0);
  for (let i = 0; i < 5; i++) readiness.report(false);
  assert.equal(readiness.notReady(), SEALED_WITH_ANOTHER_KEY);
  assert.equal(SEALED_WITH_ANOTHER_KEY, 'secrets sealed with another key');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 'error');
  assert.match(lines[0]!.message, /restart this process with the current HERALD_ENCRYPTION_KEY/);
  assert.match(lines[0]!.message, /HERALD_ENCRYPTION_KEY_PREVIOUS/);
  assert.match(lines[0]!.message, /handed back, unattempted/);
  readiness.report(true);
  assert.equal(readiness.notReady(), null);
  assert.deepEqual(
    lines.map((l) => l.level),
    ['error', 'info'],
  );
});

test("the dispatcher's error log says a key mismatch once per interval, without a stack", () => {
  const { lines, logger } = recordingLogger();
  let now = 1_000_000;
  const onError = storeErrorLog(logger, 10_000, () => now);
  let mismatch: unknown;
  try {
    createSecretCipher(randomBytes(32)).open(createSecretCipher(randomBytes(32)).seal('s'));
  } catch (error) {
    mismatch = error;
  }
  for (let i = 0; i < 20; i++) onError(mismatch, 'claim');
  now += 10_000;
  onError(mismatch, 'handoff');
  assert.deepEqual(
    lines.map((l) => l.level),
    ['error', 'error'],
  );
  assert.equal(lines[0]!.fields.err, undefined, 'no stack');
  assert.match(lines[0]!.message, /HERALD_ENCRYPTION_KEY/);
  assert.equal(lines[1]!.fields.failedSinceLastLine, 19);
  // Any other failure still gets its own line with the stack.
  const bug = new TypeError('not a function');
  onError(bug, 'claim');
  assert.equal(lines[2]!.fields.err, bug);
});
