/**
 * Errors a client gets for a body it sent wrong say it in Herald's shape and words, naming the field
 * (`details.field`): malformed JSON says where parsing failed, a 415 which type to send, a schema's
 * `pattern` and `enum` what they mean (not the regular expression; the allowed values listed), and a
 * PATCH with `secret` where a secret is changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { patternMessage } from '../../src/api/validation-words.ts';
import { ADMIN, assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('error wording', () => {
  let api: TestApi;
  let p: Body;
  let EP: string;

  before(async () => {
    api = await startApi({ maxBodyBytes: 4096 });
    p = await api.project('wording');
    EP = `/api/v1/projects/${p.id}/endpoints`;
  });
  after(() => api.close());

  test('malformed JSON: 400 naming body, saying why and where parsing failed', async () => {
    const cases: [string, string, { line: number; column: number; position: number }][] = [
      [
        '{"url" "https://a.example/"}',
        "expected ':' after property name",
        { line: 1, column: 8, position: 7 },
      ],
      // V8 does not say where an unexpected character is: Herald finds it.
      [
        '{"url": "https://a.example/",\n "name": x}',
        'unexpected character "x"',
        { line: 2, column: 10, position: 39 },
      ],
      ['[1,2,]', 'unexpected character "]"', { line: 1, column: 6, position: 5 }],
      ['url=https://a.example/', 'unexpected character "u"', { line: 1, column: 1, position: 0 }],
      ['{"url": "https://a.example/"', 'expected', { line: 1, column: 29, position: 28 }],
      ['{"url": "https://a.exa', 'unterminated string', { line: 1, column: 23, position: 22 }],
      // Text after a complete value: two objects (NDJSON) or a stray brace.
      [
        '{"url": "https://a.example/"}\n{"url": "https://b.example/"}',
        'unexpected non-whitespace character',
        { line: 2, column: 1, position: 30 },
      ],
      [
        '{"url": "https://a.example/"}}',
        'unexpected non-whitespace character',
        { line: 1, column: 30, position: 29 },
      ],
    ];
    for (const [raw, reason, where] of cases) {
      const error = assertError(
        await api.call('POST', EP, undefined, { raw }),
        400,
        'HERALD_ERR_MALFORMED_JSON',
        'body',
      );
      assert.ok(error.message.startsWith(`body: is not valid JSON: ${reason}`), `${raw}: ${error.message}`);
      assert.match(error.message, new RegExp(`at line ${where.line}, column ${where.column}$`), raw);
      assert.deepEqual(error.details, { field: 'body', ...where }, raw);
      assert.doesNotMatch(error.message, /Body is not valid JSON but content-type/);
    }
    // The text of the body is not quoted back (V8's own message would quote it).
    const quoted = assertError(
      await api.call('POST', EP, undefined, { raw: '{"secret": "s3cr3t-value" x}' }),
      400,
      'HERALD_ERR_MALFORMED_JSON',
      'body',
    );
    assert.doesNotMatch(quoted.message, /s3cr3t/);
    // A body that ends too soon says so.
    const short = assertError(await api.call('POST', EP, undefined, { raw: '{"url":' }), 400);
    assert.match(short.message, /^body: is not valid JSON: the text ends before the JSON value is complete/);
  });

  test('415: names the Content-Type header and the type accepted', async () => {
    const want = (reply: Awaited<ReturnType<TestApi['call']>>) => {
      const error = assertError(reply, 415, 'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE', 'headers.content-type');
      assert.match(error.message, /^headers\.content-type: must be application\/json/);
      assert.deepEqual(error.details.accepted, ['application/json']);
    };
    want(
      await api.call('POST', EP, undefined, {
        raw: 'url=https://a.example/',
        contentType: 'application/x-www-form-urlencoded',
      }),
    );
    want(
      await api.call('POST', EP, undefined, {
        raw: '{"url":"https://a.example/"}',
        contentType: 'text/plain',
      }),
    );
    // A body without any Content-Type.
    const bare = await api.app.inject({
      method: 'POST',
      url: EP,
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: Buffer.from('{"url":"https://a.example/"}'),
    });
    assert.equal(bare.headers['content-type']?.toString().startsWith('application/json'), true);
    want({ status: bare.statusCode, body: bare.json(), headers: bare.headers });
  });

  test('413: names body and gives the limit', async () => {
    const error = assertError(
      await api.call('POST', EP, { url: 'https://a.example/', description: 'x'.repeat(5000) }),
      413,
      'HERALD_ERR_BODY_TOO_LARGE',
      'body',
    );
    assert.equal(error.details.limitBytes, 4096);
    assert.match(error.message, /^body: larger than the limit of 4096 bytes/);
  });

  test('enum: lists the allowed values, in the message and in details.allowedValues', async () => {
    const method = assertError(
      await api.call('POST', EP, { url: 'https://a.example/', method: 'DELETE' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.method',
    );
    assert.equal(method.message, 'body.method: must be one of POST, PUT, PATCH, GET');
    assert.deepEqual(method.details.allowedValues, ['POST', 'PUT', 'PATCH', 'GET']);

    const encoding = assertError(
      await api.call('POST', EP, {
        url: 'https://a.example/',
        signature: { scheme: 'hmac-sha256', encoding: 'base32' },
      }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.signature.encoding',
    );
    assert.equal(encoding.message, 'body.signature.encoding: must be one of hex, base64');

    const e = (await api.call('POST', EP, { url: 'https://a.example/' })).body;
    const status = assertError(
      await api.call('GET', `${EP}/${e.id}/attempts?status=ok`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.status',
    );
    assert.equal(status.message, 'querystring.status: must be one of succeeded, failed');
    assert.deepEqual(status.details.allowedValues, ['succeeded', 'failed']);

    // The stats bucket is a fixed set too, whatever the value's length (before 2026-12-07 one of
    // up to 8 characters was refused without details.allowedValues, a longer one as too long).
    for (const bucket of ['2m', 'fortnight']) {
      const size = assertError(
        await api.call('GET', `${EP}/${e.id}/stats?bucket=${bucket}`),
        400,
        'HERALD_ERR_VALIDATION',
        'querystring.bucket',
      );
      assert.equal(size.message, 'querystring.bucket: must be one of 1m, 5m, 15m, 1h, 6h, 1d');
      assert.deepEqual(size.details.allowedValues, ['1m', '5m', '15m', '1h', '6h', '1d']);
    }
  });

  test('pattern: says what the value must be, not the regular expression', async () => {
    const limit = assertError(
      await api.call('GET', `${EP}?limit=-5`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.limit',
    );
    assert.equal(limit.message, 'querystring.limit: must be an integer from 1 to 1000');

    const uid = assertError(
      await api.call('POST', '/api/v1/projects', { name: 'x', uid: '-leading-dash' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.uid',
    );
    assert.match(uid.message, /^body\.uid: must start with a letter or a digit/);

    const header = assertError(
      await api.call('POST', EP, {
        url: 'https://a.example/',
        signature: { scheme: 'hmac-sha256', signatureHeader: 'X Sig' },
      }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.signature.signatureHeader',
    );
    assert.match(header.message, /^body\.signature\.signatureHeader: must be an HTTP header name/);

    const nul = assertError(
      await api.call('POST', EP, { url: 'https://a.example/\u0000' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.url',
    );
    assert.equal(
      nul.message,
      'body.url: must not contain NUL characters or lone surrogates (text must be well-formed Unicode)',
    );

    const control = assertError(
      await api.call('POST', EP, { url: 'https://a.example/', name: 'a\u0000b' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.name',
    );
    assert.match(control.message, /^body\.name: must not contain control characters/);

    for (const error of [limit, uid, header, nul, control]) {
      assert.doesNotMatch(error.message, /must match pattern|"\^/, error.message);
    }
  });

  test('every pattern of every route has words', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body;
    // Request schemas only (parameters and bodies): responses are not validated.
    const patterns = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        assert.ok(!('$ref' in node), 'a request schema by reference: walk components too');
        for (const [key, value] of Object.entries(node)) {
          if (key === 'pattern' && typeof value === 'string') patterns.add(value);
          else walk(value);
        }
      }
    };
    for (const operations of Object.values(doc.paths) as Body[]) {
      for (const operation of Object.values(operations) as Body[]) {
        walk(operation.parameters);
        walk(operation.requestBody);
      }
    }
    assert.ok(patterns.size >= 4, [...patterns].join(' '));
    for (const pattern of patterns) assert.ok(patternMessage(pattern), `no words for the pattern ${pattern}`);
  });

  test('size and range limits: in words, with details.limit', async () => {
    const headers = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-h${i}`, 'v']));
    const many = assertError(
      await api.call('POST', EP, { url: 'https://a.example/hook', headers }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.headers',
    );
    assert.equal(many.message, 'body.headers: must have at most 50 entries');
    assert.deepEqual(many.details, { field: 'body.headers', limit: 50 });
    const long = assertError(
      await api.call('POST', EP, { url: 'https://a.example/hook', name: 'n'.repeat(201) }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.name',
    );
    assert.equal(long.message, 'body.name: must be at most 200 characters long');
    const slow = assertError(
      await api.call('POST', EP, { url: 'https://a.example/hook', timeoutMs: 10_000_000 }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.timeoutMs',
    );
    assert.match(slow.message, /^body\.timeoutMs: must be at most \d+$/);
    assert.doesNotMatch(`${many.message} ${long.message} ${slow.message}`, /NOT|<=/);
  });

  test('PATCH with secret: points to the rotate route', async () => {
    const e = (await api.call('POST', EP, { url: 'https://a.example/' })).body;
    const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const error = assertError(
      await api.call('PATCH', `${EP}/${e.id}`, { name: 'renamed', secret: SECRET }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.secret',
    );
    const route = '/api/v1/projects/:project/endpoints/:endpoint/secret/rotate';
    assert.ok(error.message.includes(`POST ${route}`), error.message);
    // Nothing of that PATCH applied.
    assert.equal((await api.call('GET', `${EP}/${e.id}`)).body.name, e.name);
    // The route it names is the one that changes the secret, taking `secret`.
    const rotated = await api.call('POST', route.replace(':project', p.id).replace(':endpoint', e.id), {
      secret: SECRET,
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.secret, SECRET);
    // Other unknown fields keep their wording.
    assertError(
      await api.call('PATCH', `${EP}/${e.id}`, { colour: 'red' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.colour',
    );
  });

  test('an unknown field is said with the fields its object takes, a refused uid with its rule', async () => {
    const project = assertError(
      await api.call('POST', '/api/v1/projects', { name: 'x', colour: 'red' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.colour',
    );
    assert.equal(
      project.message,
      'body.colour: is not a known field (known: name, uid, retrySchedule, enforceCatalog, backlogLimit)',
    );
    const e = await api.call('POST', EP, { url: 'https://a.example/' });
    const testSend = assertError(
      await api.call('POST', `${EP}/${e.body.id}/test`, { type: 'order.created' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.type',
    );
    assert.equal(testSend.message, 'body.type: is not a known field (known: eventType)');
    // A uid refused for its form says what the form is, not only that it "looks like" something.
    const uid = assertError(
      await api.call('POST', '/api/v1/projects', { name: 'x', uid: 'prj_mine' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.uid',
    );
    assert.match(uid.message, /^body\.uid: must not start with prj_: project ids do/);
    const nested = assertError(
      await api.call('POST', EP, { url: 'https://a.example/', rateLimit: { perSecond: 5, perMinute: 100 } }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.rateLimit.perMinute',
    );
    assert.match(
      nested.message,
      /^body\.rateLimit\.perMinute: is not a known field \(known: perSecond, burst\)$/,
    );
  });

  test('a wrong JSON type is said in words, not as the validator type list', async () => {
    const error = assertError(
      await api.call('POST', EP, { url: 'https://a.example/', retrySchedule: '5,10' }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.retrySchedule',
    );
    assert.equal(error.message, 'body.retrySchedule: must be an array or null');
    const name = assertError(
      await api.call('POST', EP, { url: 'https://a.example/', name: 5 }),
      400,
      'HERALD_ERR_VALIDATION',
      'body.name',
    );
    assert.equal(name.message, 'body.name: must be a string');
  });

  test('a query parameter given more than once says so, on any route', async () => {
    const ep = await api.call('POST', EP, { url: 'https://a.example/' });
    for (const url of [
      `/api/v1/projects/${p.id}/events?limit=1&limit=2`,
      `${EP}/${ep.body.id}/attempts?status=failed&status=succeeded&status=failed`,
      `${EP}/${ep.body.id}/stats?bucket=1m&bucket=1h`,
    ]) {
      const error = assertError(await api.call('GET', url), 400, 'HERALD_ERR_VALIDATION');
      assert.match(
        error.message,
        /^querystring\.(limit|status|bucket): was given [23] times: send it once$/,
        url,
      );
    }
  });

  test('too many stats buckets: the limit in the message and in details.limit', async () => {
    const ep = await api.call('POST', EP, { url: 'https://a.example/' });
    const until = Date.now();
    const since = until - 35 * 86_400_000;
    const error = assertError(
      await api.call('GET', `${EP}/${ep.body.id}/stats?bucket=1m&since=${since}&until=${until}`),
      422,
      'HERALD_ERR_UNPROCESSABLE',
      'querystring.bucket',
    );
    assert.equal(
      error.message,
      'querystring.bucket: too many buckets for this range: 50400, over the limit of 10000; choose a larger bucket or a shorter range',
    );
    assert.equal(error.details.limit, 10_000);
    assert.equal(error.details.buckets, 50_400);
    const range = assertError(
      await api.call('GET', `${EP}/${ep.body.id}/stats?since=${until - 91 * 86_400_000}&until=${until}`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.since',
    );
    assert.equal(range.details.limit, 90);
  });
});
