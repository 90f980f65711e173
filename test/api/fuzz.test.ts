/**
 * Hostile clients, property-based: every route the app registers gets random and malformed JSON,
 * values of the wrong type, strings at and past their limits, deep nesting, `__proto__` and
 * `constructor.prototype` keys, invalid Unicode (lone surrogates, bytes that are not UTF-8), wrong
 * content types, junk path parameters and query strings — with the admin token, a project key, a
 * portal token and none. Bodies are generated from each route's own JSON Schema (and then broken),
 * so they get past the first check often enough to reach the code behind it.
 *
 * After every request: no 5xx, an /api/ error is `{"error": {"code", "message"}}` naming the field
 * for bad input and never echoing the token, Object.prototype and friends are unchanged; after every
 * route, /healthz still answers. A second part speaks raw bytes over a real socket (node:net): what
 * an HTTP client library would refuse to send.
 *
 * HERALD_FUZZ_RUNS (default 60) sets the runs per route; a failure prints the fast-check seed.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_JSON_DEPTH } from '../../src/api/body-parsers.ts';
import { attemptRecord } from '../store/helpers.ts';
import { ADMIN } from './helpers.ts';
import {
  isApiRoute,
  type RegisteredRoute,
  type RoutedApi,
  type Schema,
  startRoutedApi,
} from './route-table.ts';

const RUNS = Number(process.env.HERALD_FUZZ_RUNS ?? 60);
/** Small, so that "too large" bodies are cheap to make; the 413 path is the same at any size. */
const BODY_LIMIT = 64 * 1024;
const EXAMPLE_TYPE = 'fuzz.example';

// ── fixtures: real resources for parameters to name (recreated when a request deletes them) ─────

interface Fixtures {
  projectId: string;
  projectUid: string | null;
  otherProjectId: string;
  endpointId: string;
  eventId: string;
  deliveryId: string;
  attemptId: string;
  keyId: string;
  key: string;
  portal: string;
  /** The project's portal-link generation when `portal` was asked for: a revocation after it ended it. */
  portalGeneration: number;
}

// ── prototype pollution ────────────────────────────────────────────────────────────────────────

const ownKeys = (o: object) => Reflect.ownKeys(o).map(String).sort().join(',');
const PROTOTYPES: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
];
const PROTOTYPE_KEYS = new Map(PROTOTYPES.map(([name, proto]) => [name, ownKeys(proto)]));

function assertNoPollution(context: string): void {
  // biome-ignore lint/suspicious/noExplicitAny: looking for properties that must not exist
  const probe: any = {};
  assert.equal(probe.polluted, undefined, `${context}: ({}).polluted is set`);
  assert.equal(probe.isAdmin, undefined, `${context}: ({}).isAdmin is set`);
  for (const [name, proto] of PROTOTYPES) {
    assert.equal(ownKeys(proto), PROTOTYPE_KEYS.get(name), `${context}: ${name} changed`);
  }
}

// ── generators ─────────────────────────────────────────────────────────────────────────────────

/** Percent-encodes every byte outside the unreserved set (lone surrogates become U+FFFD). */
const encodeBytes = (bytes: Uint8Array) =>
  [...bytes]
    .map((b) =>
      /[A-Za-z0-9._~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
const encodeText = (text: string) => encodeBytes(Buffer.from(text, 'utf8'));

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\ufeff',
  '\u202e',
  '💥🔥',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\r\nX-Injected: 1',
  '../../etc/passwd',
  '%00',
  '%',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, literally
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '1e999',
  '-0',
  'NaN',
  'null',
  'true',
];

const nastyString = fc.constantFrom(...NASTY_STRINGS);
const anyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: nastyString },
);
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, 0.1),
  anyString,
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { maxLength: 3 }),
);

const validSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Values are generated in two moods. `sane`: what a correct client would send (right types, in
 * range, plausible URLs and times), so requests get past validation to the code behind it.
 * Hostile: mostly the right type but often at or past a limit, nasty strings, now and then a value
 * of the wrong type.
 */
type Mood = 'sane' | 'hostile';

/** A string for a field, guided by its schema and, for a few well-known names, by its meaning. */
function stringFor(s: Schema, name: string, mood: Mood): fc.Arbitrary<string> {
  const maxLength = Math.min(s?.maxLength ?? 24, 24);
  const minLength = Math.min(s?.minLength ?? 0, maxLength);
  const sane: fc.Arbitrary<string>[] = [];
  const hostile: fc.Arbitrary<string>[] = [anyString];
  if (/url$/i.test(name)) {
    sane.push(fc.webUrl({ validSchemes: ['http', 'https'] }), fc.constant('https://receiver.example/hook'));
    hostile.push(
      fc.constantFrom(
        'http://127.0.0.1:1/x',
        'http://169.254.169.254/latest/meta-data',
        'ftp://receiver.example/',
        'javascript:alert(1)',
        'http://user:pw@receiver.example/',
        '//receiver.example',
        'http://[::1',
        'http://receiver.example/\ud800',
        `https://receiver.example/${'a'.repeat(2100)}`,
      ),
    );
  } else if (/^(since|until)$/.test(name)) {
    sane.push(
      fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.integer({ min: 0, max: 4e12 }).map(String),
    );
    hostile.push(
      fc.integer({ min: -1e16, max: 1e16 }).map(String),
      fc.constantFrom(
        '2024-02-30',
        '9999-99-99T99:99',
        '2024-01-01T00:00:00+25:00',
        'yesterday',
        '1e3',
        '0x10',
      ),
    );
  } else if (/secret/i.test(name)) {
    sane.push(fc.constant(validSecret()));
    hostile.push(fc.constantFrom('whsec_', 'whsec_!!!!!!!!', 'short', 'x'.repeat(1025)));
  } else if (/^(type|eventType)$/.test(name)) {
    sane.push(fc.constantFrom(EXAMPLE_TYPE, 'order.created'));
  } else if (name === 'limit') {
    sane.push(fc.integer({ min: 1, max: 1000 }).map(String));
    hostile.push(fc.constantFrom('0', '1001', '-1', '1.5', '999999', '1e3', '0x10'));
  } else if (name === 'cursor') {
    sane.push(fc.constant('cHJqXw'));
    hostile.push(
      fc.constantFrom('AA', '!!!', 'x'.repeat(501)),
      fc.string({ unit: 'binary', maxLength: 12 }).map((t) => Buffer.from(t).toString('base64url')),
    );
  } else if (name === 'bucket') {
    sane.push(fc.constantFrom('1m', '5m', '15m', '1h', '6h', '1d'));
    hostile.push(fc.constantFrom('7d', 'toString', 'valueOf', '__proto__'));
  } else if (typeof s?.pattern === 'string') {
    sane.push(fc.stringMatching(new RegExp(s.pattern), { maxLength }).filter((t) => t.length >= minLength));
  } else {
    sane.push(fc.string({ unit: 'grapheme-ascii', minLength: Math.max(minLength, 1), maxLength }));
  }
  if (typeof s?.maxLength === 'number')
    hostile.push(fc.constantFrom('a'.repeat(s.maxLength), 'a'.repeat(s.maxLength + 1)));
  if (typeof s?.minLength === 'number' && s.minLength > 0)
    hostile.push(fc.constant('a'.repeat(s.minLength - 1)));
  return mood === 'sane' ? fc.oneof(...sane) : fc.oneof(...sane, ...hostile);
}

function numberFor(s: Schema, integer: boolean, mood: Mood): fc.Arbitrary<number> {
  const min = s?.minimum ?? s?.exclusiveMinimum;
  const max = s?.maximum ?? s?.exclusiveMaximum;
  const lo = typeof min === 'number' ? min : -1e6;
  const hi = typeof max === 'number' ? max : 1e6;
  const inRange = integer
    ? fc.integer({ min: Math.ceil(lo) + (s?.exclusiveMinimum === lo ? 1 : 0), max: Math.floor(hi) })
    : fc.double({ min: lo, max: hi, noNaN: true, minExcluded: s?.exclusiveMinimum === lo });
  if (mood === 'sane') return inRange;
  const edges = [0, -1, 1, 2 ** 53, -(2 ** 53), 1e308, 0.5, lo, lo - 1, lo + 0.5, hi, hi + 1, hi - 0.5];
  return fc.oneof(inRange, fc.constantFrom(...edges));
}

/** A value for `s`: of the right shape in the sane mood; in the hostile one, sometimes not. */
function valueFor(s: Schema, name: string, depth: number, mood: Mood): fc.Arbitrary<unknown> {
  const right = rightValueFor(s, name, depth, mood);
  return mood === 'sane'
    ? right
    : fc.oneof({ weight: 6, arbitrary: right }, { weight: 1, arbitrary: wrongValue });
}

function rightValueFor(s: Schema, name: string, depth: number, mood: Mood): fc.Arbitrary<unknown> {
  if (
    s === undefined ||
    s === true ||
    (typeof s === 'object' && s.type === undefined && s.enum === undefined)
  ) {
    return fc.jsonValue({ maxDepth: 3 });
  }
  if (Array.isArray(s.enum)) {
    const known = fc.constantFrom(...s.enum);
    return mood === 'sane'
      ? known
      : fc.oneof({ weight: 4, arbitrary: known }, { weight: 1, arbitrary: anyString });
  }
  const declared: string[] = Array.isArray(s.type) ? s.type : [s.type];
  // A sane client sends the object rather than the null the schema also allows.
  const types = mood === 'sane' && declared.length > 1 ? declared.filter((t) => t !== 'null') : declared;
  return fc.oneof(
    ...types.map((type): fc.Arbitrary<unknown> => {
      switch (type) {
        case 'null':
          return fc.constant(null);
        case 'boolean':
          return fc.boolean();
        case 'integer':
          return numberFor(s, true, mood);
        case 'number':
          return numberFor(s, false, mood);
        case 'string':
          return stringFor(s, name, mood);
        case 'array':
          return arrayFor(s, name, depth, mood);
        case 'object':
          return objectFor(s, depth, mood);
        default:
          return fc.jsonValue({ maxDepth: 2 });
      }
    }),
  );
}

function arrayFor(s: Schema, name: string, depth: number, mood: Mood): fc.Arbitrary<unknown[]> {
  const item = depth > 3 ? fc.constant(null) : valueFor(s.items, name, depth + 1, mood);
  const list = fc.array(item, {
    minLength: Math.min(s.minItems ?? 0, 4),
    maxLength: Math.min(s.maxItems ?? 4, 4),
  });
  if (mood === 'sane')
    return s.uniqueItems
      ? list.map((xs) => [...new Set(xs.map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x)))
      : list;
  const choices: fc.Arbitrary<unknown[]>[] = [list];
  if (typeof s.maxItems === 'number' && s.maxItems <= 1000) {
    // One past the limit, of the simplest item that could be right.
    choices.push(item.map((x) => Array.from({ length: s.maxItems + 1 }, () => x)));
  }
  if (s.uniqueItems) choices.push(item.map((x) => [x, x]));
  return fc.oneof(...choices);
}

function objectFor(s: Schema, depth: number, mood: Mood): fc.Arbitrary<Record<string, unknown>> {
  if (depth > 3) return fc.constant({});
  const properties: Record<string, Schema> = s.properties ?? {};
  const fields = Object.fromEntries(
    Object.entries(properties).map(([k, v]) => [k, valueFor(v, k, depth + 1, mood)]),
  );
  const required: string[] = (s.required ?? []).filter((k: string) => k in fields);
  const choices: fc.Arbitrary<Record<string, unknown>>[] = [fc.record(fields, { requiredKeys: required })];
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const key = s.propertyNames?.pattern
      ? fc.stringMatching(new RegExp(s.propertyNames.pattern), { maxLength: 30 })
      : fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 });
    const value = valueFor(s.additionalProperties, 'value', depth + 1, mood);
    choices.push(fc.dictionary(mood === 'sane' ? key : fc.oneof(key, anyString), value, { maxKeys: 4 }));
    if (mood === 'hostile' && typeof s.maxProperties === 'number') {
      choices.push(
        value.map((v) =>
          Object.fromEntries(Array.from({ length: s.maxProperties + 1 }, (_, i) => [`X-H${i}`, v])),
        ),
      );
    }
  }
  if (mood === 'hostile') {
    choices.push(
      fc.record(fields, { requiredKeys: [] }),
      // An unknown field besides the known ones.
      fc
        .tuple(fc.record(fields, { requiredKeys: required }), anyString, wrongValue)
        .map(([o, k, v]) => ({ ...o, [k || 'extra']: v })),
    );
  }
  return fc.oneof(...choices);
}

/** Inserts `"key": value` as the first member of the object whose `{` is at `at`. */
function insertMember(json: string, at: number, member: string): string {
  const close = json[at + 1] === '}' ? '' : ',';
  return `${json.slice(0, at + 1)}${member}${close}${json.slice(at + 1)}`;
}

type Body = { payload: string | Buffer; contentType: string | null; contentLength?: string };

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON'];
const OTHER_TYPES = [
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json, text/plain',
  'application/problem+json',
  'application/jsonx',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  ';',
  '*/*',
];
const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...JSON_TYPES) },
  { weight: 3, arbitrary: fc.constantFrom(...OTHER_TYPES) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((t) => t.replace(/[^\x20-\x7e]/g, '')),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** Breaks well-formed JSON text in the ways hostile clients do. */
function mutations(text: string): fc.Arbitrary<string | Buffer> {
  const braces = [...text.matchAll(/\{/g)].map((m) => m.index);
  const quotes = [...text.matchAll(/"/g)].map((m) => m.index);
  const choices: fc.Arbitrary<string | Buffer>[] = [
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n)), // cut short
    anyString.map((junk) => text + junk), // trailing junk
    fc.constant(`\ufeff${text}`), // a byte-order mark
    fc.constantFrom(
      'null',
      '[]',
      '""',
      '0',
      'true',
      '1e999',
      '{',
      '}',
      '{}{}',
      '[[[',
      '{"a":}',
      '{"a" 1}',
      "{'a':1}",
      '{a:1}',
      'NaN',
      '[1,]',
      '{"a":1,}',
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
  ];
  if (braces.length > 0) {
    const at = fc.constantFrom(...braces);
    choices.push(
      at.map((i) => insertMember(text, i, '"__proto__":{"polluted":"yes","isAdmin":true}')),
      at.map((i) => insertMember(text, i, '"constructor":{"prototype":{"polluted":"yes"}}')),
      at.map((i) => insertMember(text, i, '"__proto__":null')),
      at.map((i) => insertMember(text, i, '"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":"yes"}')),
    );
  }
  if (quotes.length > 0) {
    const at = fc.constantFrom(...quotes);
    choices.push(
      // Lone surrogates, escaped and raw; a NUL; control characters.
      fc
        .tuple(at, fc.constantFrom('\\ud800', '\\udfff\\ud800', '\ud800', '\\u0000', '\u0001', '\\', '\n'))
        .map(([i, s]) => `${text.slice(0, i + 1)}${s}${text.slice(i + 1)}`),
      // Bytes that are not UTF-8: a lone continuation byte, a truncated sequence, an overlong "/", a
      // UTF-8-encoded surrogate, 0xFF.
      fc
        .tuple(
          at,
          fc.constantFrom(
            [0x80],
            [0xc3],
            [0xc0, 0xaf],
            [0xed, 0xa0, 0x80],
            [0xff, 0xfe],
            [0xf4, 0x90, 0x80, 0x80],
          ),
        )
        .map(([i, bytes]) =>
          Buffer.concat([
            Buffer.from(text.slice(0, i + 1)),
            Buffer.from(bytes),
            Buffer.from(text.slice(i + 1)),
          ]),
        ),
    );
  }
  return fc.oneof(...choices);
}

/** Nesting around the limit, and far past it: deep enough to overflow a recursive JSON.stringify. */
const nesting = fc.oneof(
  fc
    .constantFrom(MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1)
    .map((depth) => nested(depth, true)),
  // Within the body limit: 2 bytes a level for arrays, 6 for objects.
  fc.integer({ min: 5_000, max: BODY_LIMIT / 2 - 100 }).map((depth) => nested(depth, true)),
  fc.integer({ min: 5_000, max: Math.floor(BODY_LIMIT / 6) - 100 }).map((depth) => nested(depth, false)),
);

function nested(depth: number, arrays: boolean): string {
  return arrays
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A deeply nested value alone, or in a field of an otherwise sane body that takes any JSON. */
function deepJson(route: RegisteredRoute): fc.Arbitrary<string> {
  const open: string[] = Object.entries((route.body?.properties ?? {}) as Record<string, Schema>)
    .filter(
      ([, v]) =>
        v.type === undefined || v.type === 'object' || (Array.isArray(v.type) && v.type.includes('object')),
    )
    .map(([k]) => k);
  if (open.length === 0) return nesting;
  const PLACE = '"@@nest@@"';
  const sane = valueFor(route.body, 'body', 0, 'sane').filter(
    (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  );
  return fc.oneof(
    { weight: 1, arbitrary: nesting },
    {
      weight: 4,
      arbitrary: fc
        .tuple(sane, fc.constantFrom(...open), nesting)
        .map(([body, field, nest]) =>
          JSON.stringify({ ...(body as object), [field]: '@@nest@@' }).replace(PLACE, nest),
        ),
    },
  );
}

/** Bodies at and past the size limit. */
const hugeJson = fc
  .constantFrom(BODY_LIMIT - 100, BODY_LIMIT + 1, BODY_LIMIT * 3)
  .map((n) => `{"name":"${'x'.repeat(n)}","payload":1}`);

function bodyFor(route: RegisteredRoute): fc.Arbitrary<Body | null> {
  const json = (mood: Mood) =>
    (route.body ? valueFor(route.body, 'body', 0, mood) : fc.jsonValue({ maxDepth: 3 })).map(
      (v) => JSON.stringify(v) ?? 'null',
    );
  const text: fc.Arbitrary<string | Buffer> = fc.oneof(
    { weight: 6, arbitrary: json('sane') },
    { weight: 4, arbitrary: json('hostile') },
    { weight: 4, arbitrary: json('sane').chain(mutations) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: deepJson(route) },
    { weight: 1, arbitrary: hugeJson },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  );
  const body = fc.record({ payload: text, contentType }).chain((b) =>
    // Now and then a Content-Length that is not the body's.
    fc.oneof(
      { weight: 15, arbitrary: fc.constant<Body>(b) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom('0', '1', '-1', 'abc', '99999999999')
          .map((contentLength) => ({ ...b, contentLength })),
      },
    ),
  );
  return route.body
    ? fc.oneof({ weight: 15, arbitrary: body }, { weight: 1, arbitrary: fc.constant(null) })
    : fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: body });
}

type ParamValue =
  | { ref: 'valid' | 'other' | 'uid' }
  | { raw: string }
  | { bytes: Uint8Array }
  | { verbatim: string };

const paramValue: fc.Arbitrary<ParamValue> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ ref: 'valid' } as const) },
  { weight: 1, arbitrary: fc.constantFrom({ ref: 'other' } as const, { ref: 'uid' } as const) },
  { weight: 3, arbitrary: anyString.map((raw) => ({ raw })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('prj_', 'a'.repeat(200), 'a'.repeat(201), 'a'.repeat(5000))
      .map((raw) => ({ raw })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => ({ bytes })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('%', '%Z', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', '..', '.', '%2e%2e', '%2F')
      .map((verbatim) => ({ verbatim })),
  },
);

function queryFor(route: RegisteredRoute): fc.Arbitrary<string> {
  const known: Record<string, Schema> = route.querystring?.properties ?? {};
  const names = Object.keys(known);
  const pair = (mood: Mood) => {
    const key =
      mood === 'sane' && names.length > 0
        ? fc.constantFrom(...names)
        : fc.oneof(
            { weight: 4, arbitrary: names.length > 0 ? fc.constantFrom(...names) : fc.constant('limit') },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                '__proto__',
                '__proto__[polluted]',
                'constructor[prototype][polluted]',
                'toString',
                'limit',
                'cursor',
              ),
            },
            { weight: 1, arbitrary: anyString },
          );
    return key.chain((k) =>
      rightValueFor(Object.hasOwn(known, k) ? known[k] : { type: 'string' }, k, 1, mood).map(
        (v) => `${encodeText(k)}=${encodeText(String(v))}`,
      ),
    );
  };
  const sane = fc.uniqueArray(pair('sane'), { maxLength: 3, selector: (p) => p.split('=')[0] });
  const hostile = fc.tuple(
    fc.array(pair('hostile'), { maxLength: 4 }),
    fc.constantFrom('', '', '', '&', '=', '&=&', '%', '%ZZ', '&limit', '&limit=1&limit=2', '#frag', '?'),
  );
  return fc
    .oneof(
      sane.map((pairs) => [pairs, ''] as [string[], string]),
      hostile,
    )
    .map(([pairs, tail]) => (pairs.length === 0 && tail === '' ? '' : `?${pairs.join('&')}${tail}`));
}

interface FuzzRequest {
  method: string;
  token: 'admin' | 'key' | 'portal' | 'none' | 'junk';
  params: ParamValue[];
  query: string;
  body: Body | null;
  idempotencyKey: string | null;
}

function requestFor(route: RegisteredRoute): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    method: fc.constant(route.method),
    token: fc.oneof(
      { weight: 4, arbitrary: fc.constant('admin' as const) },
      { weight: 4, arbitrary: fc.constant('key' as const) },
      { weight: 2, arbitrary: fc.constant('portal' as const) },
      { weight: 1, arbitrary: fc.constantFrom('none' as const, 'junk' as const) },
    ),
    params: fc.tuple(...route.params.map(() => paramValue)),
    query: route.querystring
      ? queryFor(route)
      : fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryFor(route) }),
    body: bodyFor(route),
    idempotencyKey: fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc
          .string({ unit: 'binary-ascii', maxLength: 300 })
          .map((t) => t.replace(/[^\x20-\x7e]/g, '')),
      },
    ),
  }) as fc.Arbitrary<FuzzRequest>;
}

// ── the test ───────────────────────────────────────────────────────────────────────────────────

const api: RoutedApi = await startRoutedApi({ maxBodyBytes: BODY_LIMIT });
let fx: Fixtures;

const sha256hex = (text: string) => createHash('sha256').update(text).digest('hex');

async function admin(method: string, url: string, body?: unknown) {
  const r = await api.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  assert.ok(r.status < 300, `fixture ${method} ${url}: ${r.status} ${r.text}`);
  return r.json;
}

/** Creates what is missing: the project (and all in it), the endpoint (and its history), the key. */
async function ensureFixtures(): Promise<void> {
  const project = fx ? await api.store.getProject(fx.projectId) : null;
  if (!project) {
    const created = await admin('POST', '/api/v1/projects', {
      name: 'fuzz',
      uid: `fuzz-${randomBytes(4).toString('hex')}`,
    });
    const other = fx ? await api.store.getProject(fx.otherProjectId) : null;
    fx = {
      projectId: created.id,
      projectUid: created.uid,
      otherProjectId: other?.id ?? (await admin('POST', '/api/v1/projects', { name: 'other' })).id,
      endpointId: '',
      eventId: '',
      deliveryId: '',
      attemptId: '',
      keyId: '',
      key: '',
      portal: '',
      portalGeneration: 0,
    };
  } else {
    fx.projectUid = project.uid;
    // DELETE …/portal-links revoked the links issued before it: a new one.
    if (project.portalLinksGeneration > fx.portalGeneration) fx.portal = '';
    // A random PATCH may have turned the catalog on or set a backlog limit: the fixed tests after
    // the fuzzing send events of any type to this project.
    if (project.enforceCatalog || project.backlogLimit !== null) {
      await admin('PATCH', `/api/v1/projects/${fx.projectId}`, { enforceCatalog: false, backlogLimit: null });
    }
  }
  if (!(await api.store.getProject(fx.otherProjectId))) {
    fx.otherProjectId = (await admin('POST', '/api/v1/projects', { name: 'other' })).id;
  }
  const base = `/api/v1/projects/${fx.projectId}`;
  if (!fx.endpointId || !(await api.store.getEndpoint(fx.projectId, fx.endpointId))) {
    fx.endpointId = (await admin('POST', `${base}/endpoints`, { url: 'https://receiver.example/hook' })).id;
    const event = await admin('POST', `${base}/events`, { type: EXAMPLE_TYPE, payload: { n: 1 } });
    fx.eventId = event.id;
    fx.deliveryId = event.deliveries[0].id;
    const claims = await api.store.claimDueDeliveries({
      limit: 1000,
      leaseMs: 60_000,
      now: Date.now() + 1000,
      workerId: 'fuzz',
    });
    const claim = claims.find((c) => c.event.id === event.id);
    assert.ok(claim);
    const record = attemptRecord(claim.delivery, claim.event, {
      startedAt: Date.now(),
      workerId: 'fuzz',
      outcome: 'failed',
    });
    await api.store.recordAttempts([record], { now: Date.now(), failureThreshold: 1000 });
    fx.attemptId = record.attempt.id;
  }
  if (!fx.key || !(await api.store.findApiKeyByHash(sha256hex(fx.key)))) {
    const key = await admin('POST', `${base}/api-keys`, { name: 'fuzz' });
    fx.keyId = key.id;
    fx.key = key.key;
  }
  if (!fx.portal) {
    fx.portalGeneration = (await api.store.getProject(fx.projectId))?.portalLinksGeneration ?? 0;
    fx.portal = (await admin('POST', `${base}/portal-links`, {})).token;
  }
}

const VALID: Record<string, () => string> = {
  project: () => fx.projectId,
  endpoint: () => fx.endpointId,
  event: () => fx.eventId,
  delivery: () => fx.deliveryId,
  attempt: () => fx.attemptId,
  key: () => fx.keyId,
  name: () => EXAMPLE_TYPE,
};

function urlOf(route: RegisteredRoute, request: FuzzRequest): string {
  let i = 0;
  const path = route.url.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const v = request.params[i++]!;
    if ('ref' in v) {
      if (v.ref === 'other' && name === 'project') return fx.otherProjectId;
      if (v.ref === 'uid' && name === 'project') return fx.projectUid ?? fx.projectId;
      return VALID[name]?.() ?? 'unknown';
    }
    if ('raw' in v) return encodeText(v.raw);
    if ('bytes' in v) return encodeBytes(v.bytes);
    return v.verbatim;
  });
  // Wildcard routes (`/ui/*`, `/docs/static/*`) get a path of their own.
  return path.replace('*', 'x/../%2e%2e/index.html') + request.query;
}

function tokenOf(request: FuzzRequest): string | null {
  switch (request.token) {
    case 'admin':
      return ADMIN;
    case 'key':
      return fx.key;
    case 'portal':
      return fx.portal;
    case 'junk':
      return `hk_${randomBytes(32).toString('base64url')}`;
    default:
      return null;
  }
}

const ERROR_CODE = /^HERALD_ERR_[A-Z_]+$/;

async function send(route: RegisteredRoute, request: FuzzRequest) {
  const url = urlOf(route, request);
  const token = tokenOf(request);
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (request.idempotencyKey !== null) headers['idempotency-key'] = request.idempotencyKey;
  if (request.body?.contentType !== null && request.body?.contentType !== undefined)
    headers['content-type'] = request.body.contentType;
  if (request.body?.contentLength) headers['content-length'] = request.body.contentLength;
  const reply = await api.inject({
    method: request.method,
    url,
    headers,
    ...(request.body ? { payload: request.body.payload } : {}),
  });
  const context = `${request.method} ${url.slice(0, 300)} → ${reply.status} ${reply.text.slice(0, 300)}`;

  assert.ok(reply.status >= 200 && reply.status < 500, `no 5xx: ${context}`);
  assertNoPollution(context);
  if (!url.startsWith('/api/') || request.method === 'HEAD' || reply.status === 204) return reply;

  assert.match(String(reply.headers['content-type']), /^application\/json/, `JSON answer: ${context}`);
  assert.notEqual(reply.json, undefined, `the body parses as JSON: ${context}`);
  if (reply.status >= 400) {
    const error = reply.json?.error;
    assert.match(String(error?.code), ERROR_CODE, `error shape: ${context}`);
    assert.equal(typeof error.message, 'string', `error message: ${context}`);
    if (error.code === 'HERALD_ERR_VALIDATION' || error.code === 'HERALD_ERR_UNPROCESSABLE') {
      assert.match(
        String(error.details?.field),
        /^(body|querystring|params|headers)\b/,
        `the field is named: ${context}`,
      );
    }
    for (const secret of [ADMIN, fx.key, fx.portal]) {
      assert.ok(!reply.text.includes(secret), `an error message repeats a credential: ${context}`);
    }
  }
  return reply;
}

const routesToFuzz = api.routes.filter((r) => r.method !== 'OPTIONS');

describe('fuzzing every route (app.inject, real SQLite store)', () => {
  before(async () => {
    await admin('PUT', `/api/v1/event-types/${EXAMPLE_TYPE}`, { description: 'fuzz', example: { n: 1 } });
    await ensureFixtures();
  });
  after(() => api.close());

  test('the route list is not empty and covers the API', () => {
    assert.ok(routesToFuzz.filter(isApiRoute).length >= 30, `only ${routesToFuzz.length} routes found`);
  });

  for (const route of routesToFuzz) {
    test(`${route.method} ${route.url}`, async () => {
      await fc.assert(
        fc.asyncProperty(requestFor(route), async (request) => {
          await ensureFixtures();
          await send(route, request);
        }),
        { numRuns: isApiRoute(route) ? RUNS : Math.ceil(RUNS / 4) },
      );
      const health = await api.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.status, 200, 'the server still answers /healthz');
    });
  }

  test('any method on any path', async () => {
    const methods = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS');
    const segment = fc.oneof(
      fc.constantFrom('api', 'v1', 'projects', 'endpoints', 'events', 'ui', 'docs', '..', '', '%2e'),
      anyString.map(encodeText),
    );
    await fc.assert(
      fc.asyncProperty(methods, fc.array(segment, { maxLength: 8 }), async (method, segments) => {
        const url = `/${segments.join('/')}`;
        const r = await api.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` } });
        assert.ok(r.status < 500, `${method} ${url} → ${r.status} ${r.text.slice(0, 200)}`);
        assertNoPollution(`${method} ${url}`);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('nesting at the limit is accepted, one level more is refused naming the body', async () => {
    const base = `/api/v1/projects/${fx.projectId}/events`;
    // The body object is level 1: the payload may nest MAX_JSON_DEPTH - 1 more levels.
    const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const ok = await api.inject({
      method: 'POST',
      url: base,
      headers,
      payload: `{"type":"t","payload":${nest(MAX_JSON_DEPTH - 1)}}`,
    });
    assert.equal(ok.status, 202, ok.text);
    const deep = await api.inject({
      method: 'POST',
      url: base,
      headers,
      payload: `{"type":"t","payload":${nest(MAX_JSON_DEPTH)}}`,
    });
    assert.equal(deep.status, 400, deep.text);
    assert.equal(deep.json.error.details.field, 'body');
    // Brackets inside strings are text, not nesting.
    const inString = await api.inject({
      method: 'POST',
      url: base,
      headers,
      payload: `{"type":"t","payload":"${'[{'.repeat(500)}\\"]"}`,
    });
    assert.equal(inString.status, 202, inString.text);
  });

  test('names of Object.prototype members are not values', async () => {
    // `?bucket=toString` once found a function where a bucket size belongs, and answered 200.
    const stats = `/api/v1/projects/${fx.projectId}/endpoints/${fx.endpointId}/stats`;
    for (const name of ['toString', 'valueOf', 'constructor', '__proto__', 'hasOwnProperty']) {
      const r = await api.inject({
        method: 'GET',
        url: `${stats}?bucket=${name}`,
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.equal(r.status, 400, `bucket=${name}: ${r.text}`);
      assert.equal(r.json.error.details.field, 'querystring.bucket');
    }
  });

  test('__proto__ and constructor.prototype keys are refused, and pollute nothing', async () => {
    const base = `/api/v1/projects/${fx.projectId}`;
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    for (const payload of [
      '{"__proto__":{"polluted":"yes"},"name":"p"}',
      `{"type":"t","payload":{"a":[{"__proto__":{"polluted":"yes"}}]}}`,
      `{"type":"t","payload":{"constructor":{"prototype":{"polluted":"yes"}}}}`,
    ]) {
      for (const path of ['', '/events', '/endpoints']) {
        const r = await api.inject({
          method: path === '' ? 'PATCH' : 'POST',
          url: `${base}${path}`,
          headers,
          payload,
        });
        assert.equal(r.status, 400, `${path} ${payload}: ${r.text}`);
        assert.equal(r.json.error.code, 'HERALD_ERR_MALFORMED_JSON');
        assertNoPollution(payload);
      }
    }
  });
});

// ── raw bytes over a real socket ───────────────────────────────────────────────────────────────

interface Exchange {
  /** Status codes of every response, in order. */
  statuses: number[];
  text: string;
}

/** Writes `bytes`, half-closes, and collects whatever comes back until the server closes (or 2 s). */
function exchange(port: number, bytes: Buffer | string, { halfClose = true } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ statuses, text });
    };
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.setTimeout(2_000, () => socket.destroy());
    socket.write(bytes);
    if (halfClose) socket.end();
  });
}

describe('hostile bytes over a real socket', () => {
  let raw: RoutedApi;
  let port: number;
  let base: string;
  const auth = `Authorization: Bearer ${ADMIN}\r\n`;

  before(async () => {
    raw = await startRoutedApi({ maxBodyBytes: BODY_LIMIT });
    await raw.app.listen({ port: 0, host: '127.0.0.1' });
    port = (raw.app.server.address() as AddressInfo).port;
    const r = await raw.inject({
      method: 'POST',
      url: '/api/v1/projects',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: '{"name":"raw"}',
    });
    base = `/api/v1/projects/${r.json.id}`;
  });
  after(() => raw?.close());

  const assertAnswers = async (name: string, result: Exchange) => {
    for (const status of result.statuses) {
      assert.ok(status < 500, `${name}: ${status} ${result.text.slice(0, 300)}`);
    }
    // Errors Herald writes itself (Node's parse errors included) have its error shape.
    const bodies = result.text
      .split(/\r\n\r\n/)
      .slice(1)
      .join('\n');
    for (const m of bodies.matchAll(/\{"error":(\{[^\n]*?\})\}/g)) {
      assert.match(m[1]!, /"code":"HERALD_ERR_[A-Z_]+"/, `${name}: error shape ${m[0]}`);
    }
    assertNoPollution(name);
    const health = await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(health.statuses, [200], `${name}: /healthz afterwards`);
  };

  const post = (path: string, body: Buffer | string, extra = '') =>
    Buffer.concat([
      Buffer.from(
        `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n`,
      ),
      Buffer.isBuffer(body) ? body : Buffer.from(body),
    ]);

  const cases: [string, () => Buffer | string, ((e: Exchange) => void)?][] = [
    [
      'invalid UTF-8 in a JSON body',
      () =>
        post(
          `${base}/events`,
          Buffer.from([
            ...Buffer.from('{"type":"'),
            0xff,
            0xfe,
            0xc3,
            ...Buffer.from('","payload":"'),
            0xed,
            0xa0,
            0x80,
            ...Buffer.from('"}'),
          ]),
        ),
    ],
    [
      'an overlong UTF-8 slash in a JSON body',
      () =>
        post(
          `${base}/endpoints`,
          Buffer.from([...Buffer.from('{"url":"https://x.example/'), 0xc0, 0xaf, ...Buffer.from('"}')]),
        ),
    ],
    [
      'raw non-ASCII bytes in the request path',
      () =>
        Buffer.concat([
          Buffer.from('GET /api/v1/projects/'),
          Buffer.from([0xff, 0xc3, 0x28]),
          Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`),
        ]),
    ],
    [
      'raw non-ASCII bytes in the Authorization header',
      () =>
        Buffer.concat([
          Buffer.from('GET /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer hk_'),
          Buffer.from([0xff, 0xfe, 0x80]),
          Buffer.from('\r\nConnection: close\r\n\r\n'),
        ]),
      (e) => assert.deepEqual(e.statuses, [401]),
    ],
    [
      'a NUL in a header value',
      () => `GET /api/v1/projects HTTP/1.1\r\nHost: x\r\n${auth}X-A: a\u0000b\r\n\r\n`,
      (e) => assert.deepEqual(e.statuses, [400]),
    ],
    [
      'Content-Length and Transfer-Encoding together (smuggling)',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/projects HTTP/1.1\r\nHost: x\r\n\r\n`,
      (e) => assert.deepEqual(e.statuses, [400]),
    ],
    [
      'two different Content-Length headers',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}`,
      (e) => assert.deepEqual(e.statuses, [400]),
    ],
    [
      'a negative Content-Length',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}`,
      (e) => assert.deepEqual(e.statuses, [400]),
    ],
    [
      'a Content-Length that is not a number',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 1e3\r\n\r\n{}`,
      (e) => assert.deepEqual(e.statuses, [400]),
    ],
    [
      'a Content-Length beyond the body, then the end',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":"t"`,
    ],
    [
      'a Content-Length short of the body (the rest is a second, junk request)',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}{"type":"t","payload":1}`,
    ],
    [
      'a huge Content-Length',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}`,
      (e) => assert.ok(e.statuses.every((s) => s === 400 || s === 413)),
    ],
    [
      'an invalid chunk size',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      (e) => assert.deepEqual(e.statuses, [400]),
    ],
    [
      'chunks adding up past the body limit',
      () =>
        `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${`4000\r\n${'x'.repeat(0x4000)}\r\n`.repeat(6)}0\r\n\r\n`,
      (e) => assert.deepEqual(e.statuses, [413]),
    ],
    [
      'a 64 KiB header',
      () => `GET /api/v1/projects HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      (e) => assert.deepEqual(e.statuses, [431]),
    ],
    [
      'a 2 MiB request line',
      () => `GET /api/v1/projects/${'a'.repeat(2 * 1024 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      (e) => assert.ok(e.statuses.every((s) => s === 414 || s === 431 || s === 400)),
    ],
    [
      '2000 small headers',
      () =>
        `GET /api/v1/projects HTTP/1.1\r\nHost: x\r\n${auth}${Array.from({ length: 2000 }, (_, i) => `X-${i}: v\r\n`).join('')}Connection: close\r\n\r\n`,
    ],
    [
      'an unknown HTTP version',
      () => `GET /api/v1/projects HTTP/9.9\r\nHost: x\r\n${auth}\r\n`,
      (e) => assert.ok(e.statuses.every((s) => s === 400 || s === 505)),
    ],
    ['an HTTP/0.9 request line', () => 'GET /healthz\r\n\r\n'],
    [
      'an unknown method',
      () => `BREW /api/v1/projects HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      (e) => assert.ok(e.statuses.every((s) => s === 400 || s === 404 || s === 405)),
    ],
    [
      'no Host header',
      () => `GET /api/v1/projects HTTP/1.1\r\n${auth}Connection: close\r\n\r\n`,
      (e) => assert.deepEqual(e.statuses, [400]),
    ],
    [
      'a bare LF line ending',
      () => `GET /api/v1/projects HTTP/1.1\nHost: x\n${auth.replace('\r\n', '\n')}\n`,
    ],
    [
      'a header line without a colon',
      () => `GET /api/v1/projects HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n`,
      (e) => assert.deepEqual(e.statuses, [400]),
    ],
    [
      'obsolete header folding',
      () => `GET /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n ${ADMIN}\r\n\r\n`,
    ],
    [
      'Expect: 100-continue',
      () => post(`${base}/events`, '{"type":"t","payload":1}', 'Expect: 100-continue\r\n'),
    ],
    [
      'a WebSocket upgrade on an API route',
      () =>
        `GET /api/v1/projects HTTP/1.1\r\nHost: x\r\n${auth}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ],
    [
      '50 pipelined requests',
      () =>
        Array.from(
          { length: 50 },
          (_, i) => `GET /healthz HTTP/1.1\r\nHost: x\r\n${i === 49 ? 'Connection: close\r\n' : ''}\r\n`,
        ).join(''),
      (e) => assert.equal(e.statuses.length, 50),
    ],
    [
      'a TLS ClientHello on the plain port',
      () => Buffer.from('16030100a5010000a10303', 'hex'),
      (e) => assert.ok(e.statuses.every((s) => s === 400)),
    ],
  ];

  for (const [name, bytes, check] of cases) {
    test(name, async () => {
      const result = await exchange(port, bytes());
      check?.(result);
      await assertAnswers(name, result);
    });
  }

  test('random bytes, alone and after a valid request line', async () => {
    const prefix = fc.constantFrom(
      '',
      'POST /api/v1/projects HTTP/1.1\r\n',
      `POST ${base}/events HTTP/1.1\r\nHost: x\r\n${auth}`,
      'GET /healthz HTTP/1.1\r\nHost: x\r\n',
    );
    await fc.assert(
      fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 200 }), async (start, junk) => {
        const result = await exchange(
          port,
          Buffer.concat([Buffer.from(start), Buffer.from(junk), Buffer.from('\r\n\r\n')]),
        );
        for (const status of result.statuses)
          assert.ok(status < 500, `${status}: ${result.text.slice(0, 200)}`);
        assertNoPollution('random bytes');
      }),
      { numRuns: RUNS * 2 },
    );
    const health = await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual(health.statuses, [200]);
  });
});
