/** Fields, form encoding, URL canonicalisation and the hmac-sha1-url signing string. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  appendQuery,
  canonicalUrl,
  formEncode,
  parseForm,
  sha1UrlSigningString,
  sign,
  topLevelFields,
  verify,
} from '../src/index.ts';

test('topLevelFields keeps strings and JSON-encodes everything else; non-objects become one data field', () => {
  assert.deepEqual(topLevelFields({ s: 'x y', n: 1, b: false, z: null, o: { a: [1] } }), [
    ['s', 'x y'],
    ['n', '1'],
    ['b', 'false'],
    ['z', 'null'],
    ['o', '{"a":[1]}'],
  ]);
  assert.deepEqual(topLevelFields([1, 2]), [['data', '[1,2]']]);
  assert.deepEqual(topLevelFields('text'), [['data', 'text']]);
  assert.deepEqual(topLevelFields(null), [['data', 'null']]);
});

test('form encoding is WHATWG urlencoded and round-trips', () => {
  const fields: [string, string][] = [['a b', "x+y&z=~*'é"]];
  assert.equal(formEncode(fields), 'a+b=x%2By%26z%3D%7E*%27%C3%A9');
  assert.deepEqual(parseForm(formEncode(fields)), fields);
});

test('canonicalUrl lower-cases scheme and host, drops default port and fragment, keeps path case and query', () => {
  assert.equal(canonicalUrl('HTTPS://Example.COM:443/A/b?Q=1#x'), 'https://example.com/A/b?Q=1');
  assert.equal(canonicalUrl('http://example.com'), 'http://example.com/');
  assert.equal(canonicalUrl('http://example.com:8080/p?a=%7e'), 'http://example.com:8080/p?a=%7e');
  // An empty query is not sent (the request target is `/p`), so it is not signed either.
  assert.equal(canonicalUrl('http://example.com/p?'), 'http://example.com/p');
  assert.equal(canonicalUrl('http://example.com/p?#x'), 'http://example.com/p');
});

test('appendQuery keeps the existing query untouched and appends the fields', () => {
  assert.equal(
    appendQuery('https://e.example/p?t=a%20b&flag#f', [['x', '1 2']]),
    'https://e.example/p?t=a%20b&flag&x=1+2',
  );
  assert.equal(appendQuery('https://e.example/p?', [['x', '1']]), 'https://e.example/p?x=1');
  assert.equal(appendQuery('https://e.example/p', []), 'https://e.example/p');
});

test('the hmac-sha1-url string: URL, then fields sorted by name in code point order, name+value', () => {
  assert.equal(
    sha1UrlSigningString('https://e.example/p?z=1', [
      ['b', '2'],
      ['a', '1'],
      ['B', '3'],
    ]),
    'https://e.example/p?z=1B3a1b2',
  );
  // U+FFFF sorts before U+1F600 by code point (UTF-16 code units would put the emoji first).
  assert.equal(
    sha1UrlSigningString('https://e.example/', [
      ['😀', '1'],
      ['\uffff', '2'],
    ]),
    'https://e.example/\uffff2😀1',
  );
  // Repeated names sort by value.
  assert.equal(
    sha1UrlSigningString('https://e.example/', [
      ['a', '2'],
      ['a', '1'],
    ]),
    'https://e.example/a1a2',
  );
});

test('a lone surrogate sorts as U+FFFD, what it is sent as: Herald signs what the receiver parses', () => {
  // U+D800 < U+E000 < U+FFFD: sorted as sent, the U+E000 field comes first.
  assert.equal(
    sha1UrlSigningString('https://e.example/', [
      ['\ud800', 'a'],
      ['\ue000', 'b'],
    ]),
    'https://e.example/\ue000b\ud800a',
  );
  const url = 'https://e.example/hook';
  const content = { '\ud800': 'a', '\ue000': 'b', '\ufffd': 'c' };
  const signed = sign({
    scheme: 'hmac-sha1-url',
    secret: 'form-secret',
    id: 'evt_1',
    timestamp: 1,
    url,
    content,
  });
  const fields = parseForm(signed.body ?? '');
  assert.deepEqual(fields, [
    ['\ufffd', 'a'],
    ['\ue000', 'b'],
    ['\ufffd', 'c'],
  ]);
  assert.deepEqual(
    verify({
      scheme: 'hmac-sha1-url',
      secret: 'form-secret',
      payload: signed.body ?? '',
      headers: signed.headers,
      url,
    }),
    { '\ufffd': 'c', '\ue000': 'b' },
  );
});
