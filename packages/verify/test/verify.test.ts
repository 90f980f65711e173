/** verify(): every refusal has its stable code, and the inputs receivers actually have are accepted. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runInNewContext } from 'node:vm';
import {
  type HashProvider,
  nodeHash,
  type SignatureScheme,
  type SignInput,
  sign,
  type VerifyInput,
  verify,
  verifyWebhook,
  WebhookVerificationError,
} from '../src/index.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const NOW = 1_718_000_000_000;
const URL_ = 'https://receiver.example/hook?x=1';
const content = { type: 'slot.submitted', data: { slotId: 's1' } };

function signed(scheme: SignatureScheme, extra: Partial<SignInput> = {}) {
  return sign({ scheme, secret: SECRET, id: 'evt_1', timestamp: NOW / 1000, url: URL_, content, ...extra });
}

function input(
  scheme: SignatureScheme,
  extra: Partial<SignInput> = {},
  over: Partial<VerifyInput> = {},
): VerifyInput {
  const request = signed(scheme, extra);
  return {
    scheme,
    payload: request.body ?? '',
    headers: request.headers,
    secret: SECRET,
    url: request.url,
    options: extra.options,
    now: NOW,
    ...over,
  };
}

function rejects(fn: () => unknown, code: string, status?: number): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WebhookVerificationError, String(error));
    assert.equal(error.code, code);
    if (status !== undefined) assert.equal(error.status, status);
    assert.ok(!error.message.includes(SECRET), 'the secret never appears in a message');
    return true;
  });
}

function without(headers: Record<string, string>, name: string): Record<string, string> {
  const copy = { ...headers };
  delete copy[name];
  return copy;
}

describe('MISSING_HEADER', () => {
  const cases: [SignatureScheme, string, Partial<SignInput>?][] = [
    ['standard', 'webhook-id'],
    ['standard', 'webhook-timestamp'],
    ['standard', 'webhook-signature'],
    ['hmac-sha256', 'x-webhook-signature'],
    ['hmac-sha256', 'x-webhook-timestamp'],
    [
      'hmac-sha256',
      'x-wpg-timestamp',
      { options: { signatureHeader: 'X-WPG-Signature', timestampHeader: 'X-WPG-Timestamp' } },
    ],
    ['stripe', 'stripe-signature'],
    ['github', 'x-hub-signature-256'],
    ['hmac-sha1-url', 'x-signature'],
  ];
  for (const [scheme, header, extra] of cases) {
    test(`${scheme} without ${header}`, () => {
      const base = input(scheme, extra);
      rejects(
        () => verify({ ...base, headers: without(base.headers as Record<string, string>, header) }),
        'HERALD_VERIFY_MISSING_HEADER',
        400,
      );
    });
  }
  test('an empty header counts as missing', () => {
    const base = input('github');
    rejects(
      () => verify({ ...base, headers: { 'x-hub-signature-256': '' } }),
      'HERALD_VERIFY_MISSING_HEADER',
    );
  });
});

describe('MALFORMED', () => {
  test('a timestamp that is not Unix seconds', () => {
    const base = input('standard');
    const headers = {
      ...(base.headers as Record<string, string>),
      'webhook-timestamp': '2024-06-10T06:13:20Z',
    };
    rejects(() => verify({ ...base, headers }), 'HERALD_VERIFY_MALFORMED');
  });
  test('Stripe-Signature without t= or v1=', () => {
    const base = input('stripe');
    rejects(() => verify({ ...base, headers: { 'stripe-signature': 'v1=abc' } }), 'HERALD_VERIFY_MALFORMED');
    rejects(
      () => verify({ ...base, headers: { 'stripe-signature': 't=1718000000' } }),
      'HERALD_VERIFY_MALFORMED',
    );
  });
  // Until 2026-12-07 the message named Stripe-Signature whatever header was configured, sending a
  // receiver of X-Acme-Signature to look at a header it never reads.
  test('Stripe-Signature without t= or v1= is named as the header actually read', () => {
    const custom = input('stripe', { options: { signatureHeader: 'X-Acme-Signature' } });
    assert.throws(
      () => verify({ ...custom, headers: { 'x-acme-signature': 'v1=abc' } }),
      (error: unknown) =>
        error instanceof WebhookVerificationError &&
        error.code === 'HERALD_VERIFY_MALFORMED' &&
        error.message === 'X-Acme-Signature needs t= and v1=',
    );
    assert.throws(
      () => verify({ ...input('stripe'), headers: { 'stripe-signature': 't=1718000000' } }),
      (error: unknown) =>
        error instanceof WebhookVerificationError && error.message === 'Stripe-Signature needs t= and v1=',
    );
  });
  // Until 2026-12-07 these said "Timestamp is not Unix seconds" and "Signature must start with
  // sha256=", naming no header: with configured names (X-WPG-Timestamp) the receiver had to guess.
  test('a malformed timestamp or GitHub signature names the header read', () => {
    const message = (base: VerifyInput, headers: Record<string, string>): string => {
      try {
        verify({ ...base, headers: { ...(base.headers as Record<string, string>), ...headers } });
      } catch (error) {
        assert.ok(error instanceof WebhookVerificationError, String(error));
        return `${error.code}: ${error.message}`;
      }
      assert.fail('verify() accepted a malformed header');
    };
    const wpg = { signatureHeader: 'X-WPG-Signature', timestampHeader: 'X-WPG-Timestamp' };
    assert.equal(
      message(input('hmac-sha256', { options: wpg }), { 'x-wpg-timestamp': '1718000000.5' }),
      'HERALD_VERIFY_MALFORMED: X-WPG-Timestamp is not Unix seconds',
    );
    assert.equal(
      message(input('hmac-sha256'), { 'x-webhook-timestamp': 'soon' }),
      'HERALD_VERIFY_MALFORMED: X-Webhook-Timestamp is not Unix seconds',
    );
    assert.equal(
      message(input('standard'), { 'webhook-timestamp': '2024-06-10T06:13:20Z' }),
      'HERALD_VERIFY_MALFORMED: webhook-timestamp is not Unix seconds',
    );
    const acme = { signatureHeader: 'X-Acme-Signature' };
    assert.equal(
      message(input('stripe', { options: acme }), { 'x-acme-signature': 't=soon,v1=abc' }),
      'HERALD_VERIFY_MALFORMED: X-Acme-Signature t= is not Unix seconds',
    );
    const github = input('github');
    const sha1 = (github.headers as Record<string, string>)['x-hub-signature-256']?.replace(
      'sha256=',
      'sha1=',
    );
    assert.equal(
      message(github, { 'x-hub-signature-256': sha1 ?? '' }),
      'HERALD_VERIFY_MALFORMED: X-Hub-Signature-256 must start with sha256=',
    );
    const custom = input('github', { options: { signatureHeader: 'X-Acme-Signature' } });
    assert.equal(
      message(custom, { 'x-acme-signature': 'abc' }),
      'HERALD_VERIFY_MALFORMED: X-Acme-Signature must start with sha256=',
    );
  });
  test('a GitHub signature without sha256=', () => {
    const base = input('github');
    const value =
      (base.headers as Record<string, string>)['x-hub-signature-256']?.replace('sha256=', 'sha1=') ?? '';
    rejects(() => verify({ ...base, headers: { 'x-hub-signature-256': value } }), 'HERALD_VERIFY_MALFORMED');
  });
  test('webhook-signature with no v1 entry', () => {
    const base = input('standard');
    const headers = { ...(base.headers as Record<string, string>), 'webhook-signature': 'v1a,abc v2,def' };
    rejects(() => verify({ ...base, headers }), 'HERALD_VERIFY_MALFORMED');
  });
  test('a sha256-body body without "."', () => {
    rejects(() => verify({ ...input('sha256-body'), payload: 'eyJ9' }), 'HERALD_VERIFY_MALFORMED');
  });
  test('a genuine signature over a body that is not JSON', () => {
    for (const scheme of ['standard', 'github', 'none'] as const) {
      rejects(() => verify(input(scheme, { body: 'not json' })), 'HERALD_VERIFY_MALFORMED', 400);
    }
  });
});

// Until 2026-12-07 a refused timestamp said only "Message timestamp too old" (or "too new"): a
// receiver debugging clock skew could not tell an hour from a second, nor which tolerance applied.
describe('TIMESTAMP_TOO_OLD / TOO_NEW say how far off the timestamp is, and the tolerance', () => {
  for (const scheme of ['standard', 'hmac-sha256', 'stripe'] as const) {
    test(scheme, () => {
      const base = input(scheme);
      const message = (over: Partial<VerifyInput>): string => {
        try {
          verify({ ...base, ...over });
        } catch (error) {
          assert.ok(error instanceof WebhookVerificationError, String(error));
          assert.ok(!error.message.includes(SECRET), 'the secret never appears in a message');
          return `${error.code}: ${error.message}`;
        }
        assert.fail('verify() accepted a timestamp outside the tolerance');
      };
      assert.equal(
        message({ now: NOW + 3_600_000 }),
        "HERALD_VERIFY_TIMESTAMP_TOO_OLD: Message timestamp too old: 3600 s behind this receiver's clock (tolerance 300 s)",
      );
      assert.equal(
        message({ now: NOW - 400_000, toleranceSeconds: 60 }),
        "HERALD_VERIFY_TIMESTAMP_TOO_NEW: Message timestamp too new: 400 s ahead of this receiver's clock (tolerance 60 s)",
      );
      assert.equal(
        message({ now: NOW + 1_000, toleranceSeconds: 0 }),
        "HERALD_VERIFY_TIMESTAMP_TOO_OLD: Message timestamp too old: 1 s behind this receiver's clock (tolerance 0 s)",
      );
    });
  }
});

describe('BAD_SIGNATURE', () => {
  test('a signature from another secret, for every signing scheme', () => {
    for (const scheme of [
      'standard',
      'hmac-sha256',
      'stripe',
      'github',
      'sha256-body',
      'hmac-sha1-url',
    ] as const) {
      const other = 'whsec_b3RoZXIgc2VjcmV0IGJ5dGVzIGZvciB0ZXN0cyE=';
      rejects(() => verify(input(scheme, { secret: other })), 'HERALD_VERIFY_BAD_SIGNATURE', 401);
    }
  });
  test('the hmac-sha1-url signature covers the URL, query string included', () => {
    rejects(
      () => verify({ ...input('hmac-sha1-url'), url: 'https://receiver.example/hook?x=2' }),
      'HERALD_VERIFY_BAD_SIGNATURE',
    );
    rejects(
      () => verify({ ...input('hmac-sha1-url'), url: 'https://other.example/hook?x=1' }),
      'HERALD_VERIFY_BAD_SIGNATURE',
    );
  });
  test('a signature truncated or padded', () => {
    const base = input('hmac-sha256');
    const sig = (base.headers as Record<string, string>)['x-webhook-signature'] ?? '';
    for (const value of [sig.slice(0, -1), `${sig}0`]) {
      const headers = { ...(base.headers as Record<string, string>), 'x-webhook-signature': value };
      rejects(() => verify({ ...base, headers }), 'HERALD_VERIFY_BAD_SIGNATURE');
    }
  });
});

describe('CONFIG', () => {
  test('no secret, an empty secret, an unknown scheme, a non-base64 standard secret', () => {
    const base = input('standard');
    rejects(() => verify({ ...base, secret: undefined }), 'HERALD_VERIFY_CONFIG', 500);
    rejects(() => verify({ ...base, secret: undefined, secrets: [] }), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify({ ...base, secret: '' }), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify({ ...base, scheme: 'md5' as SignatureScheme }), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify({ ...base, secret: 'not base64 at all' }), 'HERALD_VERIFY_CONFIG');
  });
  test('hmac-sha1-url without the request URL', () => {
    rejects(() => verify({ ...input('hmac-sha1-url'), url: undefined }), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify({ ...input('hmac-sha1-url'), url: '/relative' }), 'HERALD_VERIFY_CONFIG');
  });
  test('a tolerance or a clock that is not a number is refused, not taken as "no timestamp check"', () => {
    // Signed a day before `now`: NaN compared with anything is false, so the age check let it through.
    for (const scheme of ['standard', 'hmac-sha256', 'stripe'] as const) {
      const stale = { ...input(scheme), now: NOW + 86_400_000 };
      rejects(() => verify({ ...stale, toleranceSeconds: Number(undefined) }), 'HERALD_VERIFY_CONFIG', 500);
      rejects(() => verify({ ...stale, toleranceSeconds: -1 }), 'HERALD_VERIFY_CONFIG');
      rejects(() => verify({ ...stale, now: new Date('not a date') }), 'HERALD_VERIFY_CONFIG');
      rejects(() => verify({ ...stale, now: Number.NaN }), 'HERALD_VERIFY_CONFIG');
    }
  });
  // From JavaScript: a string (an ISO date, an environment variable) or null threw a bare TypeError
  // from `.getTime()` until 2026-12-06.
  test('a clock that is neither a Date nor a number is a configuration error naming now', () => {
    const base = input('standard');
    for (const now of [new Date(NOW).toISOString(), String(NOW), null, {}]) {
      rejects(() => verify({ ...base, now: now as unknown as number }), 'HERALD_VERIFY_CONFIG', 500);
      assert.throws(() => verify({ ...base, now: now as unknown as number }), /now must be a Date or epoch/);
    }
    assert.deepEqual(verify({ ...base, now: new Date(NOW) }), content);
  });
  // From JavaScript, or past a cast: until 2026-12-06 these threw a bare TypeError (no code, not a
  // WebhookVerificationError), which the adapters' callers and `instanceof` checks did not expect.
  test('a missing input, headers or a secret that is not a string is a configuration error', () => {
    const base = input('github');
    const cast = (value: unknown) => value as VerifyInput;
    rejects(() => verify(cast(undefined)), 'HERALD_VERIFY_CONFIG', 500);
    rejects(() => verify(cast(null)), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify(cast({ ...base, headers: undefined })), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify(cast({ ...base, headers: null })), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify(cast({ ...base, secret: 12345678 })), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify(cast({ ...base, secret: undefined, secrets: SECRET })), 'HERALD_VERIFY_CONFIG');
    rejects(() => verify(cast({ ...base, secret: undefined, secrets: [SECRET, 7] })), 'HERALD_VERIFY_CONFIG');
  });
  // `key: process.env.PPG_PROJECT_ID` set but empty (`PPG_PROJECT_ID=` in a .env file) was taken as
  // the HMAC key until 2026-12-07: anyone computes HMAC-SHA1('', URL + fields) from the request
  // itself, and a forged request was accepted, where an empty secret is refused. Herald refuses an
  // empty key for an endpoint, so no genuine delivery is signed with one.
  test('hmac-sha1-url: an empty or non-string key is a configuration error, not a key anyone can sign with', () => {
    const url = 'https://receiver.example/ppg/webhook';
    const forged = sign({
      scheme: 'hmac-sha1-url',
      options: { key: 'placeholder' },
      id: 'evt_1',
      timestamp: NOW / 1000,
      url,
      content: { projectId: 'p1', ppgId: 'x' },
    });
    // What a forger sends: the same request, signed with the empty key.
    const text = `${url}ppgIdxprojectIdp1`;
    const headers = { ...forged.headers, 'x-signature': nodeHash.hmac('sha1', '', [text], 'base64') };
    const base = { scheme: 'hmac-sha1-url' as const, payload: forged.body ?? '', headers, url, now: NOW };
    for (const key of ['', null, 42]) {
      for (const secret of [undefined, SECRET]) {
        rejects(
          () => verify({ ...base, secret, options: { key: key as string } }),
          'HERALD_VERIFY_CONFIG',
          500,
        );
        assert.throws(() => verify({ ...base, secret, options: { key: key as string } }), /options\.key/);
      }
    }
  });
  test('a parsed body instead of the raw one', () => {
    const base = input('standard');
    rejects(() => verify({ ...base, payload: content as unknown as string }), 'HERALD_VERIFY_CONFIG');
  });
});

describe('what receivers have', () => {
  test('Fetch Headers, mixed-case records and header arrays all work', () => {
    const base = input('standard');
    const record = base.headers as Record<string, string>;
    assert.deepEqual(verify({ ...base, headers: new Headers(record) }), content);
    const mixed = Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toUpperCase(), [v]]));
    assert.deepEqual(verify({ ...base, headers: mixed }), content);
  });

  // A body made in another realm (a vm context: Jest's test environment, whose globals are not
  // Node's) is not `instanceof Uint8Array` here; until 2026-12-07 it was refused as a parsed object.
  test('bytes from another realm (a vm context, as Jest has) are the raw body, as any ArrayBufferView', () => {
    for (const scheme of ['standard', 'sha256-body', 'hmac-sha1-url'] as const) {
      const base = input(scheme);
      const bytes = [...new TextEncoder().encode(String(base.payload))];
      const foreign = runInNewContext('new Uint8Array(bytes)', { bytes }) as Uint8Array;
      assert.equal(foreign instanceof Uint8Array, false, 'made in another realm');
      const expected = verify(base);
      assert.deepEqual(verify({ ...base, payload: foreign }), expected);
      // A view into a larger buffer (a pooled Buffer, a DataView) is read for its own bytes only.
      const view = runInNewContext(
        'const all = new Uint8Array([123, ...bytes, 125]); new DataView(all.buffer, 1, bytes.length)',
        { bytes },
      ) as Uint8Array;
      assert.deepEqual(verify({ ...base, payload: view }), expected);
      const tampered = runInNewContext('new Uint8Array(bytes)', { bytes: [...bytes.slice(0, -1), 32] });
      rejects(() => verify({ ...base, payload: tampered as Uint8Array }), 'HERALD_VERIFY_BAD_SIGNATURE');
    }
    // An object from another realm is still a parsed body, not bytes.
    const parsed = runInNewContext('({ type: "slot.submitted" })') as unknown as string;
    rejects(() => verify({ ...input('standard'), payload: parsed }), 'HERALD_VERIFY_CONFIG');
  });

  // What `await request.arrayBuffer()` gives in fetch-style runtimes (Workers, Deno, Bun, Next.js
  // route handlers); until 2026-12-08 it was refused as a parsed object.
  test('an ArrayBuffer (of any realm) is the raw body, and so is any typed array by its bytes', () => {
    for (const scheme of ['standard', 'sha256-body', 'hmac-sha1-url'] as const) {
      const base = input(scheme);
      const bytes = new TextEncoder().encode(String(base.payload));
      const expected = verify(base);
      assert.deepEqual(verify({ ...base, payload: bytes.slice().buffer }), expected);
      const foreign = runInNewContext('new Uint8Array(bytes).buffer', { bytes: [...bytes] }) as ArrayBuffer;
      assert.equal(foreign instanceof ArrayBuffer, false, 'made in another realm');
      assert.deepEqual(verify({ ...base, payload: foreign }), expected);
      const shared = new SharedArrayBuffer(bytes.length);
      new Uint8Array(shared).set(bytes);
      assert.deepEqual(verify({ ...base, payload: shared }), expected);
      // A typed array of wider elements is read by its bytes (here an even-length copy).
      if (bytes.length % 2 === 0) {
        assert.deepEqual(verify({ ...base, payload: new Uint16Array(bytes.slice().buffer) }), expected);
      }
      const tampered = bytes.slice();
      tampered[tampered.length - 1] = 32;
      rejects(() => verify({ ...base, payload: tampered.buffer }), 'HERALD_VERIFY_BAD_SIGNATURE');
    }
    // Something that only says it is an ArrayBuffer is still a parsed body.
    const pretender = { [Symbol.toStringTag]: 'ArrayBuffer', byteLength: 2 } as unknown as ArrayBuffer;
    rejects(() => verify({ ...input('standard'), payload: pretender }), 'HERALD_VERIFY_CONFIG');
  });

  test('several secrets: any one may match, a non-matching one first is fine', () => {
    const base = input('hmac-sha256');
    assert.deepEqual(verify({ ...base, secret: undefined, secrets: ['old one', SECRET] }), content);
  });

  test('standard: unknown versions beside v1 are ignored', () => {
    const base = input('standard');
    const record = base.headers as Record<string, string>;
    const headers = { ...record, 'webhook-signature': `v1a,ZmFrZQ== ${record['webhook-signature']}` };
    assert.deepEqual(verify({ ...base, headers }), content);
  });

  test('hex signatures are accepted in upper case', () => {
    const base = input('github');
    const record = base.headers as Record<string, string>;
    const upper = `sha256=${record['x-hub-signature-256']?.slice(7).toUpperCase()}`;
    assert.deepEqual(verify({ ...base, headers: { 'x-hub-signature-256': upper } }), content);
  });

  test('verifyWebhook returns id and timestamp; now accepts a Date; toleranceSeconds widens the window', () => {
    const base = input('stripe');
    const verified = verifyWebhook({ ...base, now: new Date(NOW + 10_000) });
    assert.deepEqual(verified, { id: 'evt_1', timestamp: NOW / 1000, payload: content });
    rejects(() => verify({ ...base, now: NOW + 3_600_000 }), 'HERALD_VERIFY_TIMESTAMP_TOO_OLD');
    assert.deepEqual(
      verify({ ...base, now: NOW + 3_600_000, toleranceSeconds: Number.POSITIVE_INFINITY }),
      content,
    );
  });

  test('a GET yields the query fields of the URL where the scheme signs it (hmac-sha1-url)', () => {
    const base = input('hmac-sha1-url', { method: 'GET' });
    assert.equal(base.payload, '');
    assert.deepEqual(verify(base), { x: '1', type: 'slot.submitted', data: '{"slotId":"s1"}' });
  });

  test('a GET signed over its empty body only yields null, not the unsigned query fields', () => {
    const base = input('hmac-sha256', { method: 'GET' });
    assert.equal(base.payload, '');
    assert.equal(verify(base), null);
    assert.equal(verify({ ...base, url: undefined }), null);
  });

  test('a POST whose form body is empty (payload {}) yields {}, not the query fields of its URL; only a GET takes the query', () => {
    const post = input('hmac-sha1-url', { content: {}, url: 'https://receiver.example/hook?a=1' });
    assert.equal(post.payload, '');
    assert.equal(post.url, 'https://receiver.example/hook?a=1');
    assert.deepEqual(verify({ ...post, method: 'POST' }), {});
    assert.deepEqual(verify({ ...post, method: 'put' }), {});
    // The same bytes as a GET (sign() adds no field to the query: there is none).
    assert.deepEqual(verify({ ...post, method: 'GET' }), { a: '1' });
    assert.deepEqual(verify({ ...post, method: 'get' }), { a: '1' });
    // Without the method an empty body is read as a GET's, as before (the adapters pass it).
    assert.deepEqual(verify(post), { a: '1' });
    // none: a POST's empty body is no JSON, not the query.
    const none = input('none', { content: {}, url: 'https://receiver.example/hook?a=1' });
    rejects(() => verify({ ...none, payload: '', method: 'POST' }), 'HERALD_VERIFY_MALFORMED');
    assert.deepEqual(verify({ ...none, payload: '', method: 'GET' }), { a: '1' });
  });

  test('a custom HashProvider is used for verification', () => {
    const calls: string[] = [];
    const counting: HashProvider = {
      hmac: (algorithm, key, parts, encoding) => {
        calls.push(algorithm);
        return nodeHash.hmac(algorithm, key, parts, encoding);
      },
      sha256: (parts, encoding) => nodeHash.sha256(parts, encoding),
    };
    assert.deepEqual(verify({ ...input('hmac-sha1-url'), hash: counting }), {
      type: 'slot.submitted',
      data: '{"slotId":"s1"}',
    });
    assert.deepEqual(calls, ['sha1']);
  });
});
