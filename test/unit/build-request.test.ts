/**
 * buildRequest: envelopes, methods, custom-header protection and signing errors. The byte-exact
 * wire format of each scheme is pinned by signing-vectors.test.ts; this file covers the rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { verify, WebhookSigningError } from '../../packages/verify/src/index.ts';
import { createSender } from '../../src/delivery/sender.ts';
import { buildRequest, USER_AGENT } from '../../src/domain/build-request.ts';
import type { BuildRequestInput } from '../../src/domain/build-request-types.ts';
import { buildEnvelope, envelopeJson } from '../../src/domain/envelope.ts';
import { isReservedHeader } from '../../src/domain/reserved-headers.ts';
import { generateSecret, secretProblem } from '../../src/domain/secret.ts';
import type { Endpoint, HeraldEvent } from '../../src/domain/types.ts';
import { startReceiver } from '../delivery/receiver.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const CREATED = Date.parse('2024-06-10T06:00:00.000Z');
const NOW = Date.parse('2024-06-10T06:13:20.789Z');

const event: HeraldEvent = {
  id: 'evt_01j0example',
  projectId: 'prj_1',
  type: 'slot.submitted',
  payload: { slotId: 's1', tags: ['a', 'b'], nested: { ok: true } },
  test: false,
  idempotencyKey: null,
  callbackUrl: null,
  createdAt: CREATED,
};

function input(
  endpoint: Partial<Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'>> = {},
  more: Partial<BuildRequestInput> = {},
): BuildRequestInput {
  return {
    event,
    url: 'https://receiver.example/hook',
    endpoint: {
      method: 'POST',
      headers: {},
      envelope: 'standard',
      signature: { scheme: 'standard' },
      ...endpoint,
    },
    secrets: [{ secret: SECRET }],
    now: NOW,
    ...more,
  };
}

describe('envelopes', () => {
  test('standard is {type, timestamp, data} with the event creation time', () => {
    assert.equal(
      buildRequest(input()).body,
      '{"type":"slot.submitted","timestamp":"2024-06-10T06:00:00.000Z","data":{"slotId":"s1","tags":["a","b"],"nested":{"ok":true}}}',
    );
  });

  test('event-data is {event, data, id, time}', () => {
    assert.equal(
      buildRequest(input({ envelope: 'event-data' })).body,
      '{"event":"slot.submitted","data":{"slotId":"s1","tags":["a","b"],"nested":{"ok":true}},"id":"evt_01j0example","time":"2024-06-10T06:00:00.000Z"}',
    );
  });

  test('raw is the payload exactly as given, scalars included', () => {
    assert.equal(buildRequest(input({ envelope: 'raw' })).body, JSON.stringify(event.payload));
    const scalar = buildRequest(input({ envelope: 'raw' }, { event: { ...event, payload: 'just text' } }));
    assert.equal(scalar.body, '"just text"');
    assert.equal(buildEnvelope('raw', { ...event, payload: null }), null);
  });

  test('the same event built at two attempt times differs only in the signature timestamp', () => {
    const first = buildRequest(input());
    const retry = buildRequest(input({}, { now: NOW + 300_000 }));
    assert.equal(first.body, retry.body);
    assert.equal(first.headers['webhook-id'], retry.headers['webhook-id']);
    assert.equal(
      Number(retry.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp']),
      300,
    );
  });
});

describe('requests built from the stored payload text (claimed deliveries)', () => {
  const ENVELOPES = ['standard', 'event-data', 'raw'] as const;

  test('envelopeJson gives the bytes of JSON.stringify(buildEnvelope) for any JSON payload', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom(...ENVELOPES),
        fc.string(),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (payload, envelope, type, createdAt) => {
          const e = { ...event, payload: payload as HeraldEvent['payload'], type, createdAt };
          const stored = JSON.stringify(payload);
          assert.equal(envelopeJson(envelope, e, stored), JSON.stringify(buildEnvelope(envelope, e)));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('with payloadJson every method, envelope and scheme sends what it sends from the payload', () => {
    const methods = ['POST', 'PUT', 'GET'] as const;
    const schemes = [
      { scheme: 'standard' },
      { scheme: 'github' },
      { scheme: 'sha256-body' },
      { scheme: 'hmac-sha1-url' },
      { scheme: 'none' },
    ] as const;
    for (const method of methods)
      for (const envelope of ENVELOPES)
        for (const signature of schemes) {
          if (method === 'GET' && signature.scheme === 'sha256-body') continue;
          const settings = { method, envelope, signature: { ...signature } };
          const fromObject = buildRequest(input(settings));
          // The getter counts reads: a JSON body must not need the payload; GET and form bodies do.
          let read = 0;
          const lazy = {
            ...event,
            get payload() {
              read++;
              return event.payload;
            },
          };
          const fromText = buildRequest(
            input(settings, { event: lazy, payloadJson: JSON.stringify(event.payload) }),
          );
          const { bodyEnvelope, ...sent } = fromText;
          assert.deepEqual(sent, fromObject, `${method} ${envelope} ${signature.scheme}`);
          const needsObject = method === 'GET' || signature.scheme === 'hmac-sha1-url';
          assert.equal(read > 0, needsObject, `${method} ${envelope} ${signature.scheme} read the payload`);
          // A body that is the envelope text says so (attempts then store it by reference), and only then.
          assert.equal(fromObject.bodyEnvelope, undefined);
          // (sha256-body sends its own encoding of the envelope, not the envelope text)
          const sendsEnvelopeText = !needsObject && signature.scheme !== 'sha256-body';
          assert.equal(
            bodyEnvelope,
            sendsEnvelopeText ? envelope : undefined,
            `${method} ${envelope} ${signature.scheme}`,
          );
          if (bodyEnvelope)
            assert.equal(envelopeJson(bodyEnvelope, event, JSON.stringify(event.payload)), fromText.body);
        }
  });
});

describe('methods', () => {
  for (const method of ['PUT', 'PATCH'] as const) {
    test(`${method} sends the same JSON body as POST`, () => {
      const built = buildRequest(input({ method }));
      assert.equal(built.method, method);
      assert.equal(built.body, buildRequest(input()).body);
    });
  }

  test('GET sends no body and no content-type; fields join the existing query; hmac-sha1-url signs that URL', () => {
    const built = buildRequest(
      input(
        { method: 'GET', signature: { scheme: 'hmac-sha1-url' } },
        { url: 'https://receiver.example/hook?token=t%20x&a=1#frag' },
      ),
    );
    assert.equal(built.body, null);
    assert.equal(built.headers['content-type'], undefined);
    const url = new URL(built.url);
    assert.equal(url.hash, '');
    assert.deepEqual(
      [...url.searchParams],
      [
        ['token', 't x'],
        ['a', '1'],
        ['type', 'slot.submitted'],
        ['timestamp', '2024-06-10T06:00:00.000Z'],
        ['data', '{"slotId":"s1","tags":["a","b"],"nested":{"ok":true}}'],
      ],
    );
    const payload = verify({
      scheme: 'hmac-sha1-url',
      payload: '',
      headers: built.headers,
      secret: SECRET,
      url: built.url,
      now: NOW,
    });
    assert.equal((payload as Record<string, string>)['type'], 'slot.submitted');
    const forged = new URL(built.url);
    forged.searchParams.set('type', 'forged');
    assert.throws(
      () =>
        verify({
          scheme: 'hmac-sha1-url',
          payload: '',
          headers: built.headers,
          secret: SECRET,
          url: forged.href,
        }),
      /signature/i,
      'the query is signed',
    );
  });

  test('GET with sha256-body is refused: the scheme signs a body and GET has none', () => {
    assert.throws(
      () => buildRequest(input({ method: 'GET', signature: { scheme: 'sha256-body' } })),
      (error: unknown) => error instanceof WebhookSigningError && error.code === 'HERALD_SIGN_UNSUPPORTED',
    );
  });
});

describe('test events', () => {
  test('a test event carries webhook-test: true on every scheme and method; a live one does not', () => {
    const schemes: Endpoint['signature'][] = [
      { scheme: 'standard' },
      { scheme: 'hmac-sha256' },
      { scheme: 'github' },
      { scheme: 'none' },
    ];
    for (const signature of schemes) {
      for (const method of ['POST', 'GET'] as const) {
        const secrets = [
          { secret: signature.scheme === 'standard' ? SECRET : 'plain-secret-0123456789abcdef' },
        ];
        const live = buildRequest(input({ signature, method }, { secrets }));
        const test = buildRequest(input({ signature, method }, { secrets, event: { ...event, test: true } }));
        assert.equal(live.headers['webhook-test'], undefined, `${signature.scheme} ${method}`);
        assert.equal(test.headers['webhook-test'], 'true', `${signature.scheme} ${method}`);
        // Nothing else changes: the body and its signature are those of the same live event.
        assert.equal(test.body, live.body);
      }
    }
  });
});

describe('custom headers', () => {
  test('are added as given, beside user-agent and webhook-id', () => {
    const built = buildRequest(input({ headers: { 'X-Tenant': 'acme', Authorization: 'Bearer t' } }));
    assert.equal(built.headers['X-Tenant'], 'acme');
    assert.equal(built.headers['Authorization'], 'Bearer t');
    assert.equal(built.headers['user-agent'], USER_AGENT);
    assert.equal(built.headers['webhook-id'], event.id);
  });

  test('can never replace or forge signature, timestamp, webhook-*, content or host headers, in any case', () => {
    const forged: Record<string, string> = {
      'Webhook-Signature': 'v1,forged',
      'WEBHOOK-ID': 'evt_forged',
      'webhook-timestamp': '1',
      'webhook-anything': 'x',
      'Svix-Signature': 'v1,forged',
      'Stripe-Signature': 't=1,v1=00',
      'X-Hub-Signature-256': 'sha256=00',
      'X-Hub-Signature': 'sha1=00',
      'X-Webhook-Signature': 'ff',
      'x-signature': 'AA==',
      'Content-Type': 'text/html',
      'Content-Length': '1',
      Host: 'evil.example',
      'Transfer-Encoding': 'chunked',
      'User-Agent': 'spoof',
    };
    for (const scheme of ['standard', 'hmac-sha256', 'github', 'stripe', 'hmac-sha1-url', 'none'] as const) {
      const signature =
        scheme === 'hmac-sha256'
          ? { scheme, signatureHeader: 'X-WPG-Signature', timestampHeader: 'X-WPG-Timestamp' }
          : { scheme };
      // The endpoint's own configured names are protected too.
      const configured: Record<string, string> =
        scheme === 'hmac-sha256' ? { 'x-wpg-SIGNATURE': 'ff', 'X-Wpg-Timestamp': '1' } : {};
      const built = buildRequest(input({ signature, headers: { ...forged, ...configured } }));
      const legit = buildRequest(input({ signature }));
      assert.deepEqual(built, legit, `${scheme}: no custom header survived`);
    }
  });

  test('a custom header named like the configured signature header is refused for that endpoint', () => {
    const signature = { scheme: 'hmac-sha1-url' as const, signatureHeader: 'X-PPG-Signature' };
    assert.equal(isReservedHeader('x-ppg-signature', signature), true);
    assert.equal(isReservedHeader('X-PPG-Signature', { scheme: 'none' }), false);
    const built = buildRequest(input({ signature, headers: { 'X-Ppg-Signature': 'forged' } }));
    assert.equal(built.headers['X-Ppg-Signature'], undefined);
    assert.notEqual(built.headers['x-ppg-signature'], 'forged');
  });

  test('invalid names or values and case-duplicates are skipped instead of breaking every attempt', () => {
    const built = buildRequest(
      input({
        headers: { 'Bad Name': 'x', 'X-Inject': 'a\r\nX-Evil: 1', 'X-Dup': 'first', 'x-dup': 'second' },
      }),
    );
    assert.equal(built.headers['Bad Name'], undefined);
    assert.equal(built.headers['X-Inject'], undefined);
    assert.equal(built.headers['X-Dup'], 'first');
    assert.equal(built.headers['x-dup'], undefined);
  });

  test('values HTTP cannot carry (above U+00FF, control characters) are dropped and the request goes out', async () => {
    // Endpoints stored before the API refused such values: undici would throw `invalid X-E header`
    // on every attempt, and the endpoint would be disabled for it.
    const built = buildRequest(
      input({
        headers: {
          'X-E': '😀',
          'X-Cjk': '東京',
          'X-Bell': 'a\u0007b',
          'X-Tab': 'a\tb',
          'X-Latin1': 'café',
          'X-Ok': '1',
        },
      }),
    );
    const receiver = await startReceiver();
    const sender = createSender({
      allowNetworks: ['127.0.0.0/8'],
      maxResponseBytes: 1024,
      userAgent: 'test',
    });
    try {
      const result = await sender.send({ ...built, url: receiver.url, timeoutMs: 5_000 });
      assert.equal(result.error, null, JSON.stringify(result.error));
      assert.equal(result.response?.status, 200);
      const got = receiver.requests[0]!.headers;
      assert.equal(got['x-ok'], '1');
      assert.equal(got['x-tab'], 'a\tb');
      assert.equal(got['x-latin1'], 'café', 'U+0080–U+00FF go as Latin-1 bytes');
      for (const dropped of ['X-E', 'X-Cjk', 'X-Bell']) {
        assert.equal(built.headers[dropped], undefined, dropped);
        assert.equal(got[dropped.toLowerCase()], undefined, dropped);
      }
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  test('a header named like an Object.prototype member (Constructor, toString) is sent', () => {
    const built = buildRequest(input({ headers: { Constructor: 'c', toString: 't' } }));
    assert.equal(built.headers.Constructor, 'c');
    assert.equal(built.headers.toString, 't');
  });
});

describe('secrets and signing', () => {
  test('during a rotation standard carries one signature per valid secret, and each verifies alone', () => {
    const old = generateSecret();
    const built = buildRequest(input({}, { secrets: [{ secret: SECRET }, { secret: old }] }));
    assert.equal(built.headers['webhook-signature']?.split(' ').length, 2);
    for (const secret of [SECRET, old]) {
      verify({ scheme: 'standard', payload: built.body ?? '', headers: built.headers, secret, now: NOW });
    }
  });

  test('a signing scheme without any secret is a signing error; none needs no secret', () => {
    assert.throws(
      () => buildRequest(input({}, { secrets: [] })),
      (error: unknown) => error instanceof WebhookSigningError && error.code === 'HERALD_SIGN_NO_SECRET',
    );
    const built = buildRequest(input({ signature: { scheme: 'none' } }, { secrets: [] }));
    assert.deepEqual(Object.keys(built.headers).sort(), ['content-type', 'user-agent', 'webhook-id']);
  });

  test('a retired secret the scheme cannot use is left out; the current one signs; a repeated secret signs once', () => {
    // A github endpoint switched to standard during a rotation: its old plain secret is no
    // standard key (no Standard Webhooks receiver could check it either).
    const built = buildRequest(
      input({}, { secrets: [{ secret: SECRET }, { secret: 'plain-github-secret' }] }),
    );
    assert.equal(built.headers['webhook-signature']?.split(' ').length, 1);
    verify({
      scheme: 'standard',
      payload: built.body ?? '',
      headers: built.headers,
      secret: SECRET,
      now: NOW,
    });
    const old = generateSecret();
    const repeated = buildRequest(
      input({}, { secrets: [{ secret: SECRET }, { secret: old }, { secret: SECRET }] }),
    );
    assert.equal(repeated.headers['webhook-signature']?.split(' ').length, 2);
    // The same standard key without its whsec_ prefix is the same key: one signature.
    const unprefixed = buildRequest(
      input({}, { secrets: [{ secret: SECRET }, { secret: SECRET.slice('whsec_'.length) }] }),
    );
    assert.equal(unprefixed.headers['webhook-signature']?.split(' ').length, 1);
    // The current secret is never skipped: one the scheme cannot use stays a signing error on record.
    assert.throws(
      () => buildRequest(input({}, { secrets: [{ secret: 'not base64!' }, { secret: SECRET }] })),
      (error: unknown) => error instanceof WebhookSigningError && error.code === 'HERALD_SIGN_INVALID_SECRET',
    );
  });

  test('a standard secret that is not base64 is a signing error', () => {
    assert.throws(
      () => buildRequest(input({}, { secrets: [{ secret: 'not base64!' }] })),
      (error: unknown) => error instanceof WebhookSigningError && error.code === 'HERALD_SIGN_INVALID_SECRET',
    );
  });

  test('hmac-sha1-url with a static key signs without any secret', () => {
    const built = buildRequest(
      input({ signature: { scheme: 'hmac-sha1-url', key: 'project-id' }, envelope: 'raw' }, { secrets: [] }),
    );
    assert.equal(built.headers['content-type'], 'application/x-www-form-urlencoded');
    const payload = verify({
      scheme: 'hmac-sha1-url',
      payload: built.body ?? '',
      headers: built.headers,
      url: built.url,
      options: { key: 'project-id' },
    });
    assert.deepEqual(payload, { slotId: 's1', tags: '["a","b"]', nested: '{"ok":true}' });
  });
});

describe('secrets', () => {
  test('generateSecret gives whsec_ + base64 of 32 random bytes, different every time', () => {
    const a = generateSecret();
    const b = generateSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(a.slice(6), 'base64').length, 32);
    assert.notEqual(a, b);
    assert.equal(secretProblem('standard', a), null);
    assert.equal(secretProblem('github', a), null);
  });

  test('secretProblem enforces the standard format and accepts imported raw secrets elsewhere', () => {
    assert.equal(secretProblem('standard', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), null);
    assert.match(secretProblem('standard', 'wpg_whsec_abc') ?? '', /base64/);
    assert.match(secretProblem('standard', `whsec_${Buffer.alloc(8).toString('base64')}`) ?? '', /24–64/);
    assert.equal(secretProblem('hmac-sha256', 'wpg_whsec_3f9a1c7e5b2d'), null);
    assert.equal(secretProblem('sha256-body', 'Be$T_Pr0jeCt'), null);
    assert.match(secretProblem('github', 'short') ?? '', /8–1024/);
    assert.match(secretProblem('github', 'has a\nnewline') ?? '', /control/);
  });
});

describe('a custom Content-Type', () => {
  test('a fitting one replaces Herald’s; body, URL and signature headers are unchanged', () => {
    const cases: [Endpoint['signature'], string][] = [
      [{ scheme: 'standard' }, 'application/json; charset=utf-8'],
      [{ scheme: 'hmac-sha256' }, 'application/vnd.gamify+json'],
      [{ scheme: 'stripe' }, 'application/json;charset=UTF-8'],
      [{ scheme: 'github' }, 'application/json; charset=utf-8'],
      [{ scheme: 'none' }, 'application/json; charset=utf-8'],
      [{ scheme: 'hmac-sha1-url' }, 'application/x-www-form-urlencoded; charset=utf-8'],
      [{ scheme: 'sha256-body' }, 'text/plain; charset=utf-8'],
    ];
    for (const [signature, contentType] of cases) {
      const legit = buildRequest(input({ signature }));
      const built = buildRequest(
        input({ signature, headers: { 'Content-Type': contentType, 'X-Token': 't' } }),
      );
      assert.equal(built.headers['content-type'], contentType, signature.scheme);
      assert.equal(built.headers['Content-Type'], undefined, 'one Content-Type, under Herald’s own key');
      const { 'content-type': _, 'X-Token': token, ...rest } = built.headers;
      const { 'content-type': __, ...legitRest } = legit.headers;
      assert.equal(token, 't');
      assert.deepEqual(rest, legitRest, `${signature.scheme}: the same signature headers`);
      assert.equal(built.body, legit.body);
      assert.equal(built.url, legit.url);
    }
  });

  test('a misfitting one (stored before the API checked it) is dropped; Herald’s stays', () => {
    const misfits: [Partial<Pick<Endpoint, 'method' | 'signature'>>, string][] = [
      [{}, 'text/html'],
      [{}, 'application/json; charset=latin1'],
      [{}, 'application/json; charset=utf8'],
      [{ signature: { scheme: 'hmac-sha1-url' } }, 'application/json'],
      [{ method: 'GET' }, 'application/json'],
    ];
    for (const [endpoint, contentType] of misfits) {
      const legit = buildRequest(input(endpoint));
      assert.deepEqual(buildRequest(input({ ...endpoint, headers: { 'content-type': contentType } })), legit);
    }
  });
});
