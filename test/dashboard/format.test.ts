/** Labels the dashboard makes from the API's values (src/dashboard/app/format.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  attemptErrorText,
  disabledReasonText,
  errorKindLabel,
  formatAxisCount,
  formatCount,
  formatDuration,
  formatRate,
  formatRelative,
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

  test('a success rate never rounds to 100 % with a failure, nor to 0 % with a success', () => {
    assert.equal(formatRate(300, 395), '75.9 %');
    assert.equal(formatRate(5, 5), '100 %');
    assert.equal(formatRate(0, 5), '0 %');
    assert.equal(formatRate(0, 0), '—');
    // 99.96 % and 0.04 %: one decimal would say 100.0 % and 0.0 %.
    assert.equal(formatRate(2_499, 2_500), '>99.9 %');
    assert.equal(formatRate(1_234_567, 1_234_568), '>99.9 %');
    assert.equal(formatRate(1, 2_500), '<0.1 %');
    assert.equal(formatRate(999, 1_000), '99.9 %');
  });

  test('a time ago or a duration rounded up to its next unit says that unit', () => {
    const now = Date.parse('2030-01-05T12:00:00Z');
    const ago = (ms: number) => formatRelative(new Date(now - ms).toISOString(), now);
    assert.equal(ago(59_400), '59 s ago');
    assert.equal(ago(59_600), '1 min ago');
    assert.equal(ago(3_599_000), '1 h ago');
    assert.equal(ago(86_399_000), '1 d ago');
    assert.equal(formatRelative(new Date(now + 3_590_000).toISOString(), now), 'in 1 h');
    assert.equal(ago(90 * 60_000), '2 h ago');
    assert.equal(formatDuration(999.4), '999 ms');
    assert.equal(formatDuration(999.6), '1.00 s');
    assert.equal(formatDuration(9_996), '10.0 s');
    assert.equal(formatDuration(9_994), '9.99 s');
    assert.equal(formatDuration(12_345), '12.3 s');
  });

  test("a count on a chart's axis in five characters at most", () => {
    assert.equal(formatAxisCount(0), '0');
    assert.equal(formatAxisCount(5_000), '5,000');
    assert.equal(formatAxisCount(20_000), '20K');
    assert.equal(formatAxisCount(1_000_000), '1M');
    assert.equal(formatAxisCount(2_500_000), '2.5M');
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
