/**
 * The published signing vectors (test/fixtures/signing-vectors.json, written by an independent
 * Python implementation): the server's buildRequest and the SDK's sign produce them byte for byte,
 * the SDK's verify accepts them, and rejects every tampered variant with the right code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  sign,
  type VerifyInput,
  verify,
  verifyWebhook,
  WebhookVerificationError,
} from '../../packages/verify/src/index.ts';
import { loadVectors, receivedHeaders, type SigningVector } from '../../packages/verify/test/vectors.ts';
import { buildRequest } from '../../src/domain/build-request.ts';
import type { BuildRequestInput } from '../../src/domain/build-request-types.ts';

const vectors = loadVectors();
const TIMESTAMPED = new Set(['standard', 'hmac-sha256', 'stripe']);

/** The buildRequest input a vector describes. */
function buildInput(vector: SigningVector): BuildRequestInput {
  return {
    event: {
      id: vector.event.id,
      projectId: 'prj_vectors',
      type: vector.event.type,
      payload: vector.event.payload,
      test: false,
      idempotencyKey: null,
      callbackUrl: null,
      createdAt: Date.parse(vector.event.createdAt),
    },
    url: vector.url,
    endpoint: {
      method: vector.method,
      headers: vector.headers,
      envelope: vector.envelope,
      signature: vector.signature,
    },
    secrets: vector.secrets.map((secret) => ({ secret })),
    now: vector.nowMs,
  };
}

/** The verify input for the request a vector expects, as its receiver sees it. */
function verifyInput(vector: SigningVector, overrides: Partial<VerifyInput> = {}): VerifyInput {
  return {
    scheme: vector.signature.scheme,
    payload: vector.expected.body ?? '',
    headers: receivedHeaders(vector),
    secrets: vector.secrets,
    url: vector.expected.url,
    options: vector.signature,
    now: vector.nowMs,
    ...overrides,
  };
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(
      error instanceof WebhookVerificationError,
      `expected WebhookVerificationError, got ${String(error)}`,
    );
    assert.equal(error.code, code);
    return true;
  });
}

test('the vector file covers every scheme, rotation, GET, form bodies, base64, custom headers and static keys', () => {
  const names = vectors.map((v) => v.name);
  for (const scheme of [
    'standard',
    'hmac-sha256',
    'stripe',
    'github',
    'sha256-body',
    'hmac-sha1-url',
    'none',
  ]) {
    assert.ok(
      vectors.some((v) => v.signature.scheme === scheme),
      `no vector for ${scheme}`,
    );
  }
  assert.ok(vectors.some((v) => v.secrets.length === 2));
  assert.ok(vectors.some((v) => v.method === 'GET'));
  assert.ok(vectors.some((v) => v.signature.encoding === 'base64'));
  assert.ok(vectors.some((v) => v.signature.key !== undefined));
  assert.ok(vectors.some((v) => v.signature.signatureHeader !== undefined));
  assert.equal(new Set(names).size, names.length, 'vector names are unique');
});

for (const vector of vectors) {
  describe(`vector ${vector.name}`, () => {
    test('buildRequest produces the exact request', () => {
      const built = buildRequest(buildInput(vector));
      assert.equal(built.method, vector.expected.method);
      assert.equal(built.url, vector.expected.url);
      assert.deepEqual(built.headers, receivedHeaders(vector));
      assert.equal(built.body, vector.expected.body);
    });

    test('the SDK sign() produces the same method, URL, signature headers and body', () => {
      const signed = sign({
        scheme: vector.signature.scheme,
        options: vector.signature,
        secrets: vector.secrets,
        id: vector.event.id,
        timestamp: vector.timestamp,
        method: vector.method,
        url: vector.url,
        content: vector.content,
      });
      assert.deepEqual(signed, {
        method: vector.expected.method,
        url: vector.expected.url,
        headers: vector.expected.headers,
        body: vector.expected.body,
      });
    });

    test('the SDK verify() accepts it and returns the content', () => {
      const verified = verifyWebhook(verifyInput(vector));
      assert.deepEqual(verified.payload, vector.payload);
      assert.equal(verified.id, vector.event.id);
      assert.equal(verified.timestamp, TIMESTAMPED.has(vector.signature.scheme) ? vector.timestamp : null);
      // Bytes in, same answer.
      const bytes = new TextEncoder().encode(vector.expected.body ?? '');
      assert.deepEqual(verify(verifyInput(vector, { payload: bytes })), vector.payload);
      // Any one of the valid secrets is enough, newest or older.
      for (const secret of vector.secrets) {
        if (vector.signature.key === undefined && signsWithEverySecret(vector)) {
          assert.deepEqual(verify(verifyInput(vector, { secret, secrets: undefined })), vector.payload);
        }
      }
    });

    if (vector.signature.scheme === 'none') return;

    test('a tampered body or URL fails with BAD_SIGNATURE', () => {
      if (vector.expected.body !== null) {
        const body = vector.expected.body;
        const tampered =
          vector.signature.scheme === 'sha256-body'
            ? `${body.slice(0, 8)}${body[8] === 'A' ? 'B' : 'A'}${body.slice(9)}`
            : body.replace(/.$/, (c) => (c === '}' ? ' }' : c === '0' ? '1' : '0'));
        assert.notEqual(tampered, body);
        assertCode(() => verify(verifyInput(vector, { payload: tampered })), 'HERALD_VERIFY_BAD_SIGNATURE');
      } else if (vector.signature.scheme === 'hmac-sha1-url') {
        const url = vector.expected.url.replace('token=', 'token=x');
        assertCode(() => verify(verifyInput(vector, { url })), 'HERALD_VERIFY_BAD_SIGNATURE');
      } else {
        // GET on a body-signing scheme: a body that was not sent breaks the signature.
        assertCode(() => verify(verifyInput(vector, { payload: '{}' })), 'HERALD_VERIFY_BAD_SIGNATURE');
      }
    });

    test('a wrong secret (or key) fails with BAD_SIGNATURE', () => {
      const wrong =
        vector.signature.scheme === 'standard'
          ? 'whsec_d3JvbmcgYnV0IHZhbGlkIGJhc2U2NCBrZXkhIQ=='
          : 'wrong secret';
      const options =
        vector.signature.key !== undefined ? { ...vector.signature, key: 'wrong key' } : vector.signature;
      assertCode(
        () => verify(verifyInput(vector, { secrets: [wrong], options })),
        'HERALD_VERIFY_BAD_SIGNATURE',
      );
    });

    if (TIMESTAMPED.has(vector.signature.scheme)) {
      test('a stale timestamp fails with TIMESTAMP_TOO_OLD, a future one with TIMESTAMP_TOO_NEW', () => {
        assertCode(
          () => verify(verifyInput(vector, { now: vector.nowMs + 301_000 })),
          'HERALD_VERIFY_TIMESTAMP_TOO_OLD',
        );
        assertCode(
          () => verify(verifyInput(vector, { now: vector.nowMs - 301_000 })),
          'HERALD_VERIFY_TIMESTAMP_TOO_NEW',
        );
        // Within the tolerance either way, and a custom tolerance widens it.
        assert.deepEqual(verify(verifyInput(vector, { now: vector.nowMs + 299_000 })), vector.payload);
        assert.deepEqual(
          verify(verifyInput(vector, { now: vector.nowMs + 3_600_000, toleranceSeconds: 7200 })),
          vector.payload,
        );
      });
    }
  });
}

/** Schemes that carry one signature per valid secret; the others sign with the newest only. */
function signsWithEverySecret(vector: SigningVector): boolean {
  return (
    vector.signature.scheme === 'standard' ||
    vector.signature.scheme === 'stripe' ||
    vector.secrets.length === 1
  );
}

test('schemes with one signature are signed with the newest secret only', () => {
  for (const vector of vectors.filter((v) => v.secrets.length === 2 && !signsWithEverySecret(v))) {
    const [newest, older] = vector.secrets as [string, string];
    assert.deepEqual(verify(verifyInput(vector, { secrets: [newest] })), vector.payload, vector.name);
    assertCode(() => verify(verifyInput(vector, { secrets: [older] })), 'HERALD_VERIFY_BAD_SIGNATURE');
  }
});
