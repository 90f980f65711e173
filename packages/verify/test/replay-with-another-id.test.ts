/**
 * What de-duplicating on `webhook-id` stops: Herald's own retries, always; a replay by someone who
 * captured a delivery, only where the signature covers the id. `standard` signs "id.ts.body"; every
 * other scheme leaves `webhook-id` unsigned, so a replay may carry any id and verifies all the same
 * (docs/signatures.md, "Replays"). Until 2026-12-07 the docs said de-duplicating on `webhook-id`
 * stops replays of `github` deliveries, which have no timestamp either.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createDeduplicator,
  type SignatureScheme,
  sign,
  verifyWebhook,
  WebhookVerificationError,
} from '../src/index.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const NOW_S = 1_718_000_000;
const URL_ = 'https://receiver.example/hook';

function delivery(scheme: SignatureScheme) {
  return sign({ scheme, secret: SECRET, id: 'evt_1', timestamp: NOW_S, url: URL_, content: { a: 1 } });
}

function check(scheme: SignatureScheme, request: ReturnType<typeof delivery>, id: string) {
  return verifyWebhook({
    scheme,
    payload: request.body ?? '',
    headers: { ...request.headers, 'webhook-id': id },
    secret: SECRET,
    url: request.url,
    method: request.method,
    now: NOW_S * 1000,
  });
}

test('standard signs webhook-id: the same request with another id is refused', () => {
  const request = delivery('standard');
  assert.equal(check('standard', request, 'evt_1').id, 'evt_1');
  assert.throws(
    () => check('standard', request, 'evt_2'),
    (error) => error instanceof WebhookVerificationError && error.code === 'HERALD_VERIFY_BAD_SIGNATURE',
  );
});

test('the other schemes leave webhook-id unsigned: a replay with another id verifies and is not a duplicate', async () => {
  for (const scheme of ['hmac-sha256', 'stripe', 'github', 'sha256-body', 'hmac-sha1-url'] as const) {
    const request = delivery(scheme);
    const dedupe = createDeduplicator();
    let handled = 0;
    const first = check(scheme, request, 'evt_1');
    assert.equal((await dedupe.once(first.id, () => handled++)).duplicate, false, scheme);
    // Herald's retry carries the same id: caught.
    assert.equal((await dedupe.once(check(scheme, request, 'evt_1').id, () => handled++)).duplicate, true);
    // A replay with an id of its own: the signature still matches, and the id is new.
    const replay = check(scheme, request, 'evt_replayed');
    assert.deepEqual(replay.payload, first.payload, scheme);
    assert.equal((await dedupe.once(replay.id, () => handled++)).duplicate, false, scheme);
    assert.equal(handled, 2, scheme);
  }
});

// Until 2026-12-07 verifyWebhook returned `webhook-id` as received while `standard` signed it
// trimmed: a captured delivery replayed with ' evt_1' (a record of headers, as a serverless event
// gives, keeps the spaces that Node's parser and fetch's Headers strip) verified, and its id was
// new to a de-duplicator that had seen 'evt_1'.
test('the id returned is the id verified: trimmed, so a padded replay of a standard delivery is a duplicate', async () => {
  const request = delivery('standard');
  const dedupe = createDeduplicator();
  let handled = 0;
  assert.equal((await dedupe.once(check('standard', request, 'evt_1').id, () => handled++)).duplicate, false);
  for (const padded of [' evt_1', 'evt_1 ', '\tevt_1\t']) {
    const replay = check('standard', request, padded);
    assert.equal(replay.id, 'evt_1', JSON.stringify(padded));
    assert.equal((await dedupe.once(replay.id, () => handled++)).duplicate, true, JSON.stringify(padded));
  }
  assert.equal(handled, 1);
  // An id of spaces only is no id: missing for standard, which signs it; null for the others.
  assert.throws(
    () => check('standard', request, '  '),
    (error) => error instanceof WebhookVerificationError && error.code === 'HERALD_VERIFY_MISSING_HEADER',
  );
  assert.equal(check('github', delivery('github'), ' evt_1 ').id, 'evt_1');
  assert.equal(check('github', delivery('github'), '  ').id, null);
});
