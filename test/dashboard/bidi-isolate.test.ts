/**
 * User text put into an option, a title or an aria-label is isolated (FSI … PDI) when it could
 * reorder the words around it, and its own isolate controls cannot end that isolate early.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isolate } from '../../src/dashboard/app/bidi-isolate.ts';

test('text with no right-to-left letter and no bidi control is left as it is', () => {
  for (const text of ['order.paid', 'Game backend', 'x-token 2', '', 'Zürich → 東京']) {
    assert.equal(isolate(text), text);
  }
});

test('right-to-left text, or text with a bidi control, is put in an isolate', () => {
  assert.equal(isolate('מפתח ראשי'), '\u2068מפתח ראשי\u2069');
  assert.equal(isolate('مفتاح'), '\u2068مفتاح\u2069');
  assert.equal(isolate('\u202eReceiver'), '\u2068\u202eReceiver\u2069');
  assert.equal(isolate('a\u200fb'), '\u2068a\u200fb\u2069');
});

test('an isolate the text opens is closed inside; a closing of its own with no opening is left out', () => {
  assert.equal(isolate('\u2067abc'), '\u2068\u2067abc\u2069\u2069');
  assert.equal(isolate('\u2069\u202eabc'), '\u2068\u202eabc\u2069');
  assert.equal(isolate('\u2066a\u2069b\u2069'), '\u2068\u2066a\u2069b\u2069');
});
