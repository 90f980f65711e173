/** sign() input rules and signatureConfigProblem(). Wire formats are pinned by the vectors. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type SignErrorCode,
  sign,
  signatureConfigProblem,
  verify,
  WebhookSigningError,
} from '../src/index.ts';

const base = { id: 'evt_1', timestamp: 1_718_000_000, url: 'https://r.example/h', secret: 'a secret value' };

function failsWith(fn: () => unknown, code: SignErrorCode): void {
  assert.throws(fn, (error: unknown) => error instanceof WebhookSigningError && error.code === code);
}

describe('sign', () => {
  test('exact JSON text can be given instead of content, with the same result', () => {
    const fromContent = sign({ ...base, scheme: 'github', content: { a: 1 } });
    const fromText = sign({ ...base, scheme: 'github', body: '{"a":1}' });
    assert.deepEqual(fromText, fromContent);
  });

  test('webhook-id and content-type are sent on every scheme (content-type except for GET)', () => {
    for (const scheme of [
      'standard',
      'hmac-sha256',
      'stripe',
      'github',
      'sha256-body',
      'hmac-sha1-url',
      'none',
    ] as const) {
      const secret =
        scheme === 'standard' ? 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=' : base.secret;
      const post = sign({ ...base, secret, scheme, content: { a: 1 } });
      assert.equal(post.headers['webhook-id'], 'evt_1', scheme);
      assert.ok(post.headers['content-type'], scheme);
      if (scheme !== 'sha256-body') {
        const get = sign({ ...base, secret, scheme, method: 'GET', content: { a: 1 } });
        assert.equal(get.headers['webhook-id'], 'evt_1');
        assert.equal(get.headers['content-type'], undefined);
        assert.equal(get.body, null);
      }
    }
  });

  // The README's example signs with a time of the test's own: Date.now() (milliseconds) or a Date
  // made a request whose timestamp verify() refused as too new, or as not a number, with nothing
  // saying the input was the cause.
  test('refuses a timestamp that is not Unix seconds, naming milliseconds when it looks like them', () => {
    for (const timestamp of [Date.now(), 1_718_000_000.5, -1, Number.NaN, new Date() as unknown as number]) {
      assert.throws(
        () => sign({ ...base, timestamp, scheme: 'stripe', content: 1 }),
        (error: unknown) =>
          error instanceof WebhookSigningError &&
          error.code === 'HERALD_SIGN_INVALID_INPUT' &&
          /Unix seconds/.test(error.message),
        String(timestamp),
      );
    }
    assert.throws(() => sign({ ...base, timestamp: 1_718_000_000_000, scheme: 'stripe' }), /milliseconds/);
    assert.match(
      sign({ ...base, timestamp: 0, scheme: 'stripe' }).headers['stripe-signature'] ?? '',
      /^t=0,v1=/,
    );
  });

  test('refuses what cannot be signed', () => {
    failsWith(() => sign({ ...base, scheme: 'rot13' as 'none' }), 'HERALD_SIGN_INVALID_INPUT');
    failsWith(
      () => sign({ ...base, secret: undefined, scheme: 'github', content: 1 }),
      'HERALD_SIGN_NO_SECRET',
    );
    failsWith(() => sign({ ...base, scheme: 'standard', content: 1 }), 'HERALD_SIGN_INVALID_SECRET');
    failsWith(
      () => sign({ ...base, scheme: 'sha256-body', method: 'GET', content: 1 }),
      'HERALD_SIGN_UNSUPPORTED',
    );
    failsWith(
      () => sign({ ...base, scheme: 'none', method: 'GET', body: '{}' }),
      'HERALD_SIGN_INVALID_INPUT',
    );
    failsWith(() => sign({ ...base, scheme: 'hmac-sha1-url', body: '{}' }), 'HERALD_SIGN_INVALID_INPUT');
  });

  // Until 2026-12-07 an empty key with a secret signed with '' (a request verify() refuses as a
  // misconfiguration, and no Herald sends), and without one was "needs a secret".
  test('hmac-sha1-url: an empty or non-string key is refused, as verify() refuses it', () => {
    for (const key of ['', null, 42]) {
      for (const secret of [base.secret, undefined]) {
        const input = { ...base, secret, scheme: 'hmac-sha1-url' as const, content: { a: 1 } };
        failsWith(() => sign({ ...input, options: { key: key as string } }), 'HERALD_SIGN_INVALID_INPUT');
      }
    }
  });

  test('standard: each secret signs with its own key, again and again (keys are decoded once)', () => {
    const secrets = Array.from(
      { length: 3 },
      (_, i) => `whsec_${Buffer.alloc(24, i + 1).toString('base64')}`,
    );
    for (let round = 0; round < 2; round++) {
      const signatures = new Set<string>();
      for (const secret of secrets) {
        const request = sign({ ...base, secret, scheme: 'standard', body: '{"a":1}' });
        signatures.add(request.headers['webhook-signature']!);
        const check = (secrets: string[]) =>
          verify({
            scheme: 'standard',
            secrets,
            headers: request.headers,
            payload: request.body!,
            now: base.timestamp * 1000,
          });
        assert.deepEqual(check([secret]), { a: 1 });
        for (const other of secrets.filter((s) => s !== secret)) {
          assert.throws(() => check([other]));
        }
      }
      assert.equal(signatures.size, secrets.length);
      // An invalid secret stays refused on every call.
      failsWith(() => sign({ ...base, scheme: 'standard', content: 1 }), 'HERALD_SIGN_INVALID_SECRET');
    }
  });
});

describe('signatureConfigProblem', () => {
  test('accepts every scheme with its own options', () => {
    assert.equal(signatureConfigProblem({ scheme: 'standard' }), null);
    assert.equal(
      signatureConfigProblem({
        scheme: 'hmac-sha256',
        signatureHeader: 'X-WPG-Signature',
        timestampHeader: 'X-WPG-Timestamp',
        encoding: 'base64',
      }),
      null,
    );
    assert.equal(
      signatureConfigProblem(
        { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: 'p1' },
        'GET',
      ),
      null,
    );
    assert.equal(signatureConfigProblem({ scheme: 'none' }, 'GET'), null);
  });

  test('names what is wrong', () => {
    const problems: [Parameters<typeof signatureConfigProblem>[0], RegExp, ('GET' | 'POST')?][] = [
      [{ scheme: 'md5' }, /unknown/],
      [{ scheme: 'sha256-body' }, /GET/, 'GET'],
      [{ scheme: 'hmac-sha256', encoding: 'base32' as 'hex' }, /encoding/],
      [{ scheme: 'github', encoding: 'base64' }, /hmac-sha256 scheme only/],
      [{ scheme: 'standard', key: 'k' }, /key/],
      [{ scheme: 'hmac-sha1-url', key: '' }, /key/],
      [{ scheme: 'stripe', timestampHeader: 'X-T' }, /timestampHeader/],
      [{ scheme: 'standard', signatureHeader: 'X-Sig' }, /no configurable/],
      [{ scheme: 'hmac-sha256', signatureHeader: 'Bad Header' }, /valid header name/],
      [{ scheme: 'hmac-sha256', signatureHeader: 'Content-Type' }, /cannot carry/],
      [{ scheme: 'hmac-sha256', timestampHeader: 'Connection' }, /cannot carry/],
      [{ scheme: 'hmac-sha1-url', signatureHeader: 'transfer-encoding' }, /cannot carry/],
      [{ scheme: 'hmac-sha256', signatureHeader: 'X-A', timestampHeader: 'x-a' }, /differ/],
      // One header set to the other's default: the request would carry one of the two values.
      [
        { scheme: 'hmac-sha256', signatureHeader: 'X-Webhook-Timestamp' },
        /differ: both are x-webhook-timestamp/,
      ],
      [
        { scheme: 'hmac-sha256', timestampHeader: 'x-webhook-signature' },
        /differ: both are x-webhook-signature/,
      ],
    ];
    for (const [config, pattern, method] of problems) {
      assert.match(signatureConfigProblem(config, method) ?? '', pattern, JSON.stringify(config));
    }
  });
});
