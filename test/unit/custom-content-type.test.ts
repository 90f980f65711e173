/**
 * A custom Content-Type: which media types fit which body (custom-content-type.ts). What
 * buildRequest sends with one is in build-request.test.ts ("custom headers").
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCHEMES, SIGNATURE_SCHEMES } from '../../packages/verify/src/index.ts';
import { bodyFormatOf, contentTypeProblem } from '../../src/domain/custom-content-type.ts';

describe('which Content-Types fit', () => {
  test('the body format is the scheme’s own (a GET has none)', () => {
    for (const scheme of SIGNATURE_SCHEMES) {
      assert.equal(bodyFormatOf('POST', scheme), SCHEMES[scheme].bodyFormat, scheme);
      assert.equal(bodyFormatOf('GET', scheme), null, scheme);
    }
  });

  test('JSON: application/json or application/<name>+json, any case, any parameters, charset utf-8', () => {
    const fit = [
      'application/json',
      'APPLICATION/JSON',
      'application/json; charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/json ; charset=Utf-8 ; profile="https://x.example/a;b"',
      'application/json;',
      'application/vnd.gamify+json',
      'application/merge-patch+json; charset=utf-8',
    ];
    for (const value of fit) assert.equal(contentTypeProblem(value, 'POST', 'standard'), null, value);
    const misfit = [
      'text/html',
      'text/json',
      'application/+json',
      'application/jsonx',
      'application/json+xml',
      'application/x-www-form-urlencoded',
      'application/json; charset=iso-8859-1',
      // Not the registered name: Express's express.json() answers 415 to it.
      'application/json; charset=utf8',
      'application/json; charset="utf-16"',
      'application/json, text/plain',
      'application/json; charset',
      'application/json; charset="utf-8',
      'application/json; a=b c',
      'application /json',
      '',
      // Only space and tab are HTTP whitespace (OWS): a no-break space (U+00A0, as text copied from
      // a web page holds it) is sent as byte A0, and Express's express.json() leaves such a body unparsed.
      'application/json\u00a0',
      '\u00a0application/json',
      'application/json;\u00a0charset=utf-8',
      'application/json; charset=utf-8\u00a0',
    ];
    for (const value of misfit) assert.notEqual(contentTypeProblem(value, 'POST', 'standard'), null, value);
  });

  test('form and text bodies: their own media type only; GET: none at all', () => {
    const form = 'application/x-www-form-urlencoded; charset=UTF-8';
    assert.equal(contentTypeProblem(form, 'POST', 'hmac-sha1-url'), null);
    assert.match(contentTypeProblem('application/json', 'PUT', 'hmac-sha1-url') ?? '', /form/);
    assert.notEqual(contentTypeProblem(form, 'POST', 'standard'), null);
    assert.equal(contentTypeProblem('text/plain;charset=utf-8', 'POST', 'sha256-body'), null);
    assert.notEqual(contentTypeProblem('application/json', 'POST', 'sha256-body'), null);
    assert.match(contentTypeProblem('application/json', 'GET', 'none') ?? '', /a GET carries no body/);
  });
});
