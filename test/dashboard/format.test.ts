/** Labels the dashboard makes from the API's values (src/dashboard/app/format.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  attemptErrorText,
  disabledReasonText,
  errorKindLabel,
  formatCount,
  headersText,
  prettyBody,
  shortUrl,
} from '../../src/dashboard/app/format.ts';

describe('dashboard labels', () => {
  test('headers as lines, a line per value of a header sent more than once', () => {
    assert.equal(
      headersText({ 'content-type': 'text/plain', 'set-cookie': 'a=1; Path=/\nb=2' }),
      'content-type: text/plain\nset-cookie: a=1; Path=/\nset-cookie: b=2',
    );
    assert.equal(headersText(null), '');
  });

  test('a JSON body pretty-printed with its numbers as sent', () => {
    assert.equal(prettyBody('{"id":9007199254740993,"n":1}'), '{\n  "id": 9007199254740993,\n  "n": 1\n}');
    assert.equal(prettyBody('not json'), 'not json');
  });

  test('a URL as host and path, cut in the middle to 40 characters', () => {
    assert.equal(shortUrl('https://hooks.example.com/'), 'hooks.example.com');
    assert.equal(shortUrl('http://127.0.0.1:8080/shop/a?x=1'), '127.0.0.1:8080/shop/a');
    const long = shortUrl(`https://crm.example.com/${'deep/'.repeat(20)}contacts`);
    assert.equal(long.length, 40);
    assert.match(long, /^crm\.example\.com\/.+….+\/contacts$/);
    assert.equal(shortUrl('not a url'), 'not a url');
  });

  test('a count with thousands separators, and a + once it reached the most the server counts', () => {
    assert.equal(formatCount(214, 10_000), '214');
    assert.equal(formatCount(9_999, 10_000), '9,999');
    assert.equal(formatCount(10_000, 10_000), '10,000+');
    assert.equal(formatCount(10_000), '10,000');
  });

  test('why an endpoint is disabled, finishing "Disabled …"', () => {
    assert.equal(disabledReasonText('consecutive_failures', 10), 'after 10 failed attempts in a row');
    assert.equal(disabledReasonText('gone', 0), 'because the receiver answered 410 Gone');
    assert.equal(disabledReasonText('manual', 0), 'by hand');
    assert.equal(disabledReasonText(null, 0), '');
  });

  test("an attempt's error in words; unknown kinds as they are", () => {
    assert.equal(
      attemptErrorText({ kind: 'http_status', message: 'HTTP 500' }, 500),
      'The receiver answered HTTP 500: only a 2xx status counts as delivered.',
    );
    // A redirect's message says more than its status: that Herald does not follow it, and where to.
    const moved = 'HTTP 301: Herald does not follow redirects; the receiver points to https://b.example/';
    assert.equal(
      attemptErrorText({ kind: 'http_status', message: moved }, 301),
      `The receiver answered ${moved}. Only a 2xx status counts as delivered.`,
    );
    assert.equal(
      attemptErrorText({ kind: 'connect', message: 'connect ECONNREFUSED 127.0.0.1:1' }),
      'Could not connect: connect ECONNREFUSED 127.0.0.1:1',
    );
    assert.equal(errorKindLabel('constructor'), 'constructor');
  });
});
