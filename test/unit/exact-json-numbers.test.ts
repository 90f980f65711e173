/**
 * Numbers JSON.parse would change: which ones (src/domain/json-text.ts, against an exact BigInt
 * reference), which bodies the API parser parses again to keep them (src/api/parse.ts), and the
 * GET query and form body built from a payload holding them (src/domain/build-request.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import Fastify, { type FastifyRequest } from 'fastify';
import { depthLimitedJsonParser, MAX_JSON_DEPTH } from '../../src/api/body-parsers.ts';
import { buildRequest } from '../../src/domain/build-request.ts';
import {
  isRawJSON,
  JSON_LOSSY_NUMBER,
  JSON_TOO_DEEP,
  numberLosesInformation,
  parseJsonExact,
  scanJsonText,
} from '../../src/domain/json-text.ts';
import type { Endpoint } from '../../src/domain/types.ts';

type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;
const { rawJSON } = JSON as unknown as { rawJSON(text: string): object };

/** A decimal's exact value: sign, digits as a BigInt, power of ten. */
function decimal(text: string): { negative: boolean; digits: bigint; exponent: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  assert.ok(m, text);
  const fraction = m[3] ?? '';
  return {
    negative: m[1] === '-',
    digits: BigInt(m[2]! + fraction),
    exponent: Number(m[4] ?? 0) - fraction.length,
  };
}

function sameValue(a: string, b: string): boolean {
  const x = decimal(a);
  const y = decimal(b);
  if (x.digits === 0n || y.digits === 0n) return x.digits === y.digits;
  if (x.negative !== y.negative) return false;
  const low = Math.min(x.exponent, y.exponent);
  return x.digits * 10n ** BigInt(x.exponent - low) === y.digits * 10n ** BigInt(y.exponent - low);
}

/** The reference: JSON.stringify(JSON.parse(source)) is not the same number (or -0 lost). */
function referenceLoses(source: string): boolean {
  const value = Number(source);
  if (!Number.isFinite(value) || Object.is(value, -0)) return true;
  return !sameValue(source, String(value));
}

const digitString = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

/** JSON number texts of every shape, weighted to the 15–19 digit edge the fast decision covers. */
const numberText = fc.oneof(
  fc
    .tuple(
      fc.boolean(),
      fc.oneof(
        fc.constant('0'),
        fc.tuple(fc.constantFrom(...'123456789'), digitString(0, 24)).map(([a, b]) => a + b),
      ),
      fc.option(digitString(1, 24), { nil: undefined }),
      fc.option(fc.tuple(fc.constantFrom('e', 'E', 'e+', 'e-', 'E-'), fc.integer({ min: 0, max: 420 })), {
        nil: undefined,
      }),
    )
    .map(
      ([negative, int, frac, exp]) =>
        `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}${exp ? `${exp[0]}${exp[1]}` : ''}`,
    ),
  // 15 to 19 significant digits with the point anywhere: 2^52 and 2^53 lie among them.
  fc
    .tuple(fc.bigInt({ min: 10n ** 14n, max: 10n ** 19n }), fc.integer({ min: 0, max: 19 }), fc.boolean())
    .map(([n, point, negative]) => {
      const s = n.toString();
      const at = Math.min(point, s.length - 1);
      return `${negative ? '-' : ''}${at === 0 ? s : `${s.slice(0, s.length - at)}.${s.slice(s.length - at)}`}`;
    }),
  fc.bigInt({ min: 2n ** 52n - 1000n, max: 2n ** 54n + 1000n }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => String(v).replace(/^-?Infinity$/, '1e999')),
);

describe('numberLosesInformation', () => {
  test('the cases that matter, and other spellings of the same value', () => {
    const loses = [
      '9007199254740993',
      '18446744073709551615',
      '123456789012345678901234567890',
      '0.10000000000000000555',
      '1234567890123456.7',
      '-0',
      '-0.0',
      '-0e10',
      '1e400',
      '-1e400',
      '1e-400',
      '4.9e-324',
      `0.${'0'.repeat(400)}1`,
    ];
    const keeps = [
      '0',
      '0.0',
      '-5',
      '1.0',
      '1.50',
      '1e3',
      '1E+2',
      '0.1',
      '1700000000000.123',
      '9007199254740991',
      '9007199254740992',
      '9007199254740994',
      '1e21',
      '100000000000000000000000',
      '5e-324',
    ];
    for (const n of loses) assert.equal(numberLosesInformation(n), true, n);
    for (const n of keeps) assert.equal(numberLosesInformation(n), false, n);
  });

  test('agrees with an exact BigInt comparison of the text and the shortest double form', () => {
    fc.assert(
      fc.property(numberText, (n) => {
        assert.equal(numberLosesInformation(n), referenceLoses(n), n);
      }),
      { numRuns: 30_000 },
    );
  });
});

/** A number leaf, written as its text by `toText`. */
class Num {
  text: string;
  constructor(text: string) {
    this.text = text;
  }
}
const toText = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof Num ? rawJSON(x.text) : x));
const jsonText = fc
  .letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      numberText.map((t) => new Num(t)),
      fc.string(),
      digitString(16, 30),
      fc.constantFrom(true, false, null),
      fc.array(tie('node'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string(), digitString(16, 20)), tie('node'), { maxKeys: 4 }),
    ),
  }))
  .node.map(toText);

/** The source text of every number in `text`, in order. */
function numberSources(text: string): string[] {
  const out: string[] = [];
  JSON.parse(text, ((_k, v, context) => {
    if (typeof v === 'number') out.push(context!.source!);
    return v;
  }) as Reviver as (k: string, v: unknown) => unknown);
  return out;
}

describe('scanJsonText and parseJsonExact', () => {
  test('numbers are read outside strings only; nesting is counted', () => {
    assert.equal(scanJsonText('{"a":"9007199254740993","9007199254740993":1}', 64, true), 0);
    assert.equal(scanJsonText('{"a":"\\"","b":[9007199254740993]}', 64, true), JSON_LOSSY_NUMBER);
    assert.equal(scanJsonText('[-0.0]', 64, true), JSON_LOSSY_NUMBER);
    assert.equal(scanJsonText('[-0.5, 0, 0.0, 1700000000000.123]', 64, true), 0);
    assert.equal(scanJsonText('[9007199254740993]', 64, false), 0, 'numbers only when asked');
    assert.equal(scanJsonText('[9007199254740993,[[[1]]]]', 2, true), JSON_LOSSY_NUMBER | JSON_TOO_DEEP);
    assert.equal(scanJsonText('[[[9007199254740993]]]', 2, true), JSON_TOO_DEEP, 'too deep: stops there');
  });

  test('flags exactly the texts holding a number that changes; parseJsonExact keeps every value', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        const sources = numberSources(text);
        const changes = sources.some(referenceLoses);
        assert.equal(
          (scanJsonText(text, Number.POSITIVE_INFINITY, true) & JSON_LOSSY_NUMBER) !== 0,
          changes,
          text,
        );
        const again = toText(parseJsonExact(text));
        const kept = numberSources(again);
        assert.equal(kept.length, sources.length);
        sources.forEach((s, i) => {
          assert.ok(
            sameValue(s, kept[i]!) && (decimal(s).negative || !decimal(kept[i]!).negative),
            `${s} → ${kept[i]}`,
          );
          if (Object.is(Number(s), -0)) assert.equal(kept[i], s, '-0 keeps its text');
        });
        if (!changes)
          assert.equal(again, JSON.stringify(JSON.parse(text)), 'plain parse when nothing changes');
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('the API body parser', () => {
  const parser = depthLimitedJsonParser(Fastify().getDefaultJsonParser('error', 'error'));
  const EVENTS = '/api/v1/projects/:project/events';
  const BATCH = '/api/v1/projects/:project/events/batch';
  const ENDPOINTS = '/api/v1/projects/:project/endpoints';

  /** Parses `body` as a request to `route`; counts the parses with a reviver (the slow path). */
  function parse(route: string, body: string): { error: Error | null; value: unknown; revived: number } {
    const original = JSON.parse;
    let revived = 0;
    JSON.parse = ((text: string, reviver?: Reviver) => {
      if (typeof reviver === 'function') revived++;
      return original(text, reviver as (k: string, v: unknown) => unknown);
    }) as typeof JSON.parse;
    try {
      let out: { error: Error | null; value: unknown } | undefined;
      parser({ routeOptions: { url: route } } as unknown as FastifyRequest, body, (error, value) => {
        out = { error, value };
      });
      assert.ok(out, 'done is called synchronously');
      return { ...out, revived };
    } finally {
      JSON.parse = original;
    }
  }

  test('an ordinary event body is parsed once, as before', () => {
    const body =
      '{"type":"a","payload":{"seq":1,"sentAt":1700000000000.123,"ratio":0.5,"id":"9007199254740993"}}';
    const r = parse(EVENTS, body);
    assert.equal(r.error, null);
    assert.equal(r.revived, 0);
    assert.deepEqual(r.value, JSON.parse(body));
  });

  test('an event or batch body with a number that would change is parsed again, keeping it as text', () => {
    const body = '{"type":"a","payload":{"playerId":9007199254740993,"neg":-0.0,"score":1.0,"n":1e3}}';
    const one = parse(EVENTS, body);
    assert.equal(one.error, null);
    assert.equal(one.revived, 1);
    const payload = (one.value as { payload: Record<string, unknown> }).payload;
    assert.ok(isRawJSON(payload.playerId));
    assert.equal(payload.score, 1, 'numbers that do not change stay numbers');
    assert.equal(
      JSON.stringify(one.value),
      '{"type":"a","payload":{"playerId":9007199254740993,"neg":-0.0,"score":1,"n":1000}}',
    );
    const outside = parse(EVENTS, '{"type":"a","payload":{"id":9007199254740993},"test":9007199254740993}');
    const fields = outside.value as { payload: { id: unknown }; test: unknown };
    assert.ok(isRawJSON(fields.payload.id));
    assert.equal(fields.test, 9007199254740992, 'only payloads keep numbers as text');
    const batch = parse(BATCH, `{"events":[${body},{"type":"b","payload":123456789012345678901234567890}]}`);
    assert.equal(batch.revived, 1);
    assert.match(JSON.stringify(batch.value), /"payload":123456789012345678901234567890\}\]\}$/);
  });

  test('other routes parse such a number as JSON.parse does (their numbers are typed and stored)', () => {
    const r = parse(ENDPOINTS, '{"url":"https://x.example","timeoutMs":9007199254740993}');
    assert.equal(r.revived, 0);
    assert.deepEqual(r.value, { url: 'https://x.example', timeoutMs: 9007199254740992 });
  });

  test('__proto__ and constructor.prototype are still refused, also in a body parsed again', () => {
    for (const route of [EVENTS, ENDPOINTS]) {
      for (const body of [
        '{"type":"a","payload":{"__proto__":{"admin":true},"id":9007199254740993}}',
        '{"type":"a","payload":{"constructor":{"prototype":{"admin":true}},"id":9007199254740993}}',
        '{"type":"a","payload":{"__proto__":{"admin":true}}}',
      ]) {
        const r = parse(route, body);
        // 400 HERALD_ERR_MALFORMED_JSON naming body, saying what is refused (test/api/events.test.ts).
        assert.equal(
          (r.error as { code?: string } | null)?.code,
          'HERALD_ERR_MALFORMED_JSON',
          `${route} ${body}`,
        );
        assert.equal(r.revived, 0);
        assert.equal(parse(route, body.replace(/__proto__|constructor/, 'other')).error, null);
      }
    }
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  test('nesting deeper than the limit is refused before any parse', () => {
    const deep = `{"type":"a","payload":${'['.repeat(MAX_JSON_DEPTH)}9007199254740993${']'.repeat(MAX_JSON_DEPTH)}}`;
    const r = parse(EVENTS, deep);
    assert.match(String(r.error?.message), /must not nest objects and arrays more than 64 deep/);
    assert.equal(r.revived, 0);
  });
});

describe('GET queries and form bodies from a payload holding such numbers', () => {
  const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
  const payloadJson =
    '{"playerId":9007199254740993,"neg":-0.0,"order":{"ids":[18446744073709551615]},"s":"x"}';
  const build = (
    endpoint: Partial<Pick<Endpoint, 'method' | 'envelope' | 'signature'>>,
    payload = payloadJson,
  ) =>
    buildRequest({
      event: {
        id: 'evt_1',
        projectId: 'prj_1',
        type: 'bigid',
        // What a store decodes: the digits are gone; the request must not use it.
        get payload() {
          return JSON.parse(payload);
        },
        test: false,
        idempotencyKey: null,
        callbackUrl: null,
        createdAt: 0,
      },
      payloadJson: payload,
      url: 'https://receiver.example/hook',
      endpoint: {
        method: 'POST',
        headers: {},
        envelope: 'raw',
        signature: { scheme: 'standard' },
        ...endpoint,
      },
      secrets: [{ secret: SECRET }],
      now: 0,
    });
  const fields = (text: string) => Object.fromEntries(new URLSearchParams(text));

  test('each field holds the number as sent', () => {
    const expected = {
      playerId: '9007199254740993',
      neg: '-0.0',
      order: '{"ids":[18446744073709551615]}',
      s: 'x',
    };
    assert.deepEqual(fields(new URL(build({ method: 'GET' }).url).search), expected);
    const form = build({ signature: { scheme: 'hmac-sha1-url', key: 'k' } });
    assert.deepEqual(fields(String(form.body)), expected);
    const standard = fields(new URL(build({ method: 'GET', envelope: 'standard' }).url).search);
    assert.equal(
      standard.data,
      '{"playerId":9007199254740993,"neg":-0.0,"order":{"ids":[18446744073709551615]},"s":"x"}',
    );
  });

  test('a raw payload that is such a number alone is the data field', () => {
    assert.deepEqual(fields(new URL(build({ method: 'GET' }, '9007199254740993').url).search), {
      data: '9007199254740993',
    });
    assert.equal(build({}, '9007199254740993').body, '9007199254740993');
  });
});
