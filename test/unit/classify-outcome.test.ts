import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classifyResult,
  classifyStatus,
  disableReason,
  errorKindFromError,
} from '../../src/domain/classify-outcome.ts';

describe('classifyStatus', () => {
  test('2xx succeeds and resets the endpoint', () => {
    for (const s of [200, 201, 202, 204, 299])
      assert.deepEqual(classifyStatus(s), { outcome: 'succeeded', retryable: false, effect: 'success' });
  });
  test('3xx, 4xx, 5xx and no response fail and are retried', () => {
    for (const s of [
      100,
      199,
      300,
      301,
      302,
      304,
      307,
      308,
      400,
      401,
      404,
      408,
      409,
      429,
      500,
      502,
      503,
      504,
      null,
    ])
      assert.deepEqual(
        classifyStatus(s),
        { outcome: 'failed', retryable: true, effect: 'failure' },
        String(s),
      );
  });
  test('410 fails for good and marks the endpoint gone', () => {
    assert.deepEqual(classifyStatus(410), { outcome: 'failed', retryable: false, effect: 'gone' });
  });
});

describe('errorKindFromError', () => {
  const withCode = (code: string, name = 'Error') => Object.assign(new Error(code), { code, name });
  test('the code table', () => {
    const table: [string, string][] = [
      ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
      ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
      ['UND_ERR_BODY_TIMEOUT', 'timeout'],
      ['ETIMEDOUT', 'timeout'],
      ['ECONNREFUSED', 'connect'],
      ['EHOSTUNREACH', 'connect'],
      ['ENETUNREACH', 'connect'],
      ['EADDRNOTAVAIL', 'connect'],
      ['ENOTFOUND', 'dns'],
      ['EAI_AGAIN', 'dns'],
      ['ECONNRESET', 'reset'],
      ['EPIPE', 'reset'],
      ['UND_ERR_SOCKET', 'reset'],
      ['UND_ERR_CLOSED', 'reset'],
      ['UND_ERR_ABORTED', 'timeout'],
      ['ENETDOWN', 'connect'],
      ['EAI_FAIL', 'dns'],
      ['EAI_NONAME', 'dns'],
      ['ESERVFAIL', 'dns'],
      ['ECONNABORTED', 'reset'],
      ['EPROTO', 'tls'],
      ['ERR_TLS_HANDSHAKE_TIMEOUT', 'tls'],
      ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls'],
      ['UND_ERR_HEADERS_OVERFLOW', 'protocol'],
      ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'protocol'],
      ['UND_ERR_INVALID_ARG', 'protocol'],
      ['HPE_INVALID_CONSTANT', 'protocol'],
      ['HPE_INVALID_HEADER_TOKEN', 'protocol'],
      ['HERALD_ERR_BLOCKED', 'blocked'],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
      ['SELF_SIGNED_CERT_IN_CHAIN', 'tls'],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
      ['CERT_HAS_EXPIRED', 'tls'],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
    ];
    for (const [code, kind] of table) assert.equal(errorKindFromError(withCode(code)), kind, code);
  });
  test('names: TimeoutError and AbortError are timeouts, HTTPParserError is protocol', () => {
    assert.equal(errorKindFromError(new DOMException('t', 'TimeoutError')), 'timeout');
    assert.equal(errorKindFromError(Object.assign(new Error('a'), { name: 'AbortError' })), 'timeout');
    // undici's parser error often carries no code at all
    const parser = Object.assign(new Error('Expected HTTP/'), { name: 'HTTPParserError', code: undefined });
    assert.equal(errorKindFromError(parser), 'protocol');
  });
  test('looks through cause chains; a code wins over an outer unknown error', () => {
    const inner = withCode('ECONNREFUSED');
    assert.equal(errorKindFromError(new Error('fetch failed', { cause: inner })), 'connect');
    const deep = new Error('a', { cause: new Error('b', { cause: withCode('ENOTFOUND') }) });
    assert.equal(errorKindFromError(deep), 'dns');
  });
  test('codes that are Object.prototype keys are unknown, not crashes', () => {
    assert.equal(errorKindFromError(withCode('constructor')), 'connect');
    assert.equal(errorKindFromError(withCode('toString')), 'connect');
  });
  test('unknown errors and non-errors fall back to connect', () => {
    assert.equal(errorKindFromError(new Error('???')), 'connect');
    assert.equal(errorKindFromError('text'), 'connect');
    assert.equal(errorKindFromError(null), 'connect');
  });
});

describe('classifyResult', () => {
  const response = (status: number) => ({ response: { status }, error: null });
  test('2xx: succeeded, no error', () => {
    assert.deepEqual(classifyResult(response(200)), {
      outcome: 'succeeded',
      retryable: false,
      effect: 'success',
      error: null,
    });
  });
  test('non-2xx responses record http_status; 3xx is a failure, 410 is final', () => {
    for (const status of [400, 429, 500, 503]) {
      const c = classifyResult(response(status));
      assert.equal(c.outcome, 'failed', String(status));
      assert.equal(c.retryable, true, String(status));
      assert.equal(c.effect, 'failure', String(status));
      assert.deepEqual(c.error, { kind: 'http_status', message: `HTTP ${status}` });
    }
    assert.deepEqual(classifyResult(response(410)), {
      outcome: 'failed',
      retryable: false,
      effect: 'gone',
      error: { kind: 'http_status', message: 'HTTP 410' },
    });
  });
  test('a redirect says it is not followed, and where it points, so the sender can act on it', () => {
    const redirect = (status: number, headers: Record<string, string>) =>
      classifyResult({ response: { status, headers }, error: null });
    for (const status of [301, 302, 307, 308]) {
      const c = redirect(status, { location: 'https://hooks.example.com/v2/' });
      assert.deepEqual([c.outcome, c.retryable, c.effect], ['failed', true, 'failure']);
      assert.deepEqual(c.error, {
        kind: 'http_status',
        message: `HTTP ${status}: Herald does not follow redirects; the receiver points to https://hooks.example.com/v2/ (if the endpoint moved there, change its URL)`,
      });
    }
    // A 304 is no redirect: it answers a conditional request, which Herald never makes (until
    // 2026-12-08 it said 'HTTP 304: Herald does not follow redirects', as did a 3xx without a
    // Location, which points nowhere).
    for (const headers of [{}, { location: 'https://hooks.example.com/v2/' }] as Record<string, string>[]) {
      assert.deepEqual(redirect(304, headers).error, {
        kind: 'http_status',
        message:
          'HTTP 304 Not Modified: an answer to a conditional request, which Herald never sends (no If-None-Match or If-Modified-Since); only a 2xx is a delivery',
      });
    }
    for (const status of [300, 302, 399]) {
      assert.deepEqual(redirect(status, { location: ' ' }).error, {
        kind: 'http_status',
        message: `HTTP ${status} without a Location: it points nowhere, and only a 2xx is a delivery`,
      });
    }
    // A Location sent twice is one value with a line each; a long one is cut.
    const long = redirect(302, { location: `https://a.example/${'x'.repeat(1000)}\nhttps://b.example/` });
    const shown = /points to (\S+) \(/.exec(long.error!.message)![1]!;
    assert.equal(shown, `https://a.example/${'x'.repeat(200 - 18)}…`);
  });
  test('transport errors keep their kind and are retried, blocked included', () => {
    for (const kind of ['timeout', 'connect', 'dns', 'tls', 'reset', 'blocked', 'protocol'] as const) {
      const c = classifyResult({ response: null, error: { kind, message: 'x' } });
      assert.deepEqual(c, {
        outcome: 'failed',
        retryable: true,
        effect: 'failure',
        error: { kind, message: 'x' },
      });
    }
  });
});

describe('disableReason', () => {
  test('410 disables at once; other failures at the threshold of consecutive ones; success never', () => {
    assert.equal(disableReason('gone', 1, 10), 'gone');
    assert.equal(disableReason('failure', 9, 10), null);
    assert.equal(disableReason('failure', 10, 10), 'consecutive_failures');
    assert.equal(disableReason('failure', 11, 10), 'consecutive_failures');
    assert.equal(disableReason('success', 50, 10), null);
  });
});
