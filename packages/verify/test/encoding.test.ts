/**
 * Base64 checks: what they accept, and that large bodies do not overflow the regexp stack. The
 * ASCII JSON that sha256-body base64-encodes, against its definition.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { asciiJsonBytes, base64ToBytes, isBase64 } from '../src/encoding.ts';
import { sign, verify } from '../src/index.ts';

/** The definition as a regular expression (what isBase64 used to run: it overflows on ~6 MB). */
const CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

test('isBase64 accepts exactly padded standard-alphabet base64', () => {
  for (const text of ['', 'QQ==', 'QUI=', 'QUJD', 'QUJDRA==', '+/+/'])
    assert.equal(isBase64(text), true, text);
  for (const text of ['Q', 'QQ', 'QQ=', 'Q===', '====', 'QQ==QQ==', 'QU=I', 'QUJD\n', 'QU-_', ' QUJD']) {
    assert.equal(isBase64(text), false, text);
  }
  const alphabet = fc.constantFrom(...'AZaz09+/=-_ \n'.split(''));
  fc.assert(
    fc.property(fc.string({ unit: alphabet, maxLength: 12 }), (text) => {
      assert.equal(isBase64(text), CANONICAL.test(text));
    }),
    { numRuns: 2000 },
  );
});

test('a sha256-body of 10 MB verifies: the base64 check does not throw RangeError', () => {
  const text = 'QUJD'.repeat(2_500_000);
  assert.equal(isBase64(text), true);
  assert.equal(base64ToBytes(text)?.length, 7_500_000);
  const content = { data: 'é'.repeat(3_600_000) };
  const signed = sign({
    scheme: 'sha256-body',
    secret: 'secret',
    id: 'evt_1',
    timestamp: 0,
    url: 'https://r/',
    content,
  });
  assert.ok((signed.body ?? '').length > 9_600_000);
  assert.deepEqual(
    verify({ scheme: 'sha256-body', secret: 'secret', payload: signed.body ?? '', headers: signed.headers }),
    content,
  );
});

/** The definition, one character at a time (what sha256-body first ran: 0.1-0.9 s per MiB of é, € or 🎮). */
const escapedByDefinition = (text: string) =>
  text.replace(/[\u007f-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);

test('asciiJsonBytes: DEL and every non-ASCII character as a lower-case \\uXXXX escape, the same JSON value', () => {
  const bytes = asciiJsonBytes(JSON.stringify({ name: 'Zoë 🎮 €\u007f\u0080\u07ff\u0800\uffff' }));
  assert.equal(
    new TextDecoder().decode(bytes),
    '{"name":"Zo\\u00eb \\ud83c\\udfae \\u20ac\\u007f\\u0080\\u07ff\\u0800\\uffff"}',
  );
  fc.assert(
    fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
      for (const json of [JSON.stringify(value), JSON.stringify(text)]) {
        const bytes = asciiJsonBytes(json);
        const ascii = new TextDecoder().decode(bytes);
        assert.ok(bytes.every((byte) => byte < 0x7f));
        assert.equal(ascii, escapedByDefinition(json));
        assert.deepEqual(JSON.parse(ascii), JSON.parse(json));
      }
    }),
    { numRuns: 2000 },
  );
});
