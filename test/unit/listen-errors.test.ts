/**
 * A listen that fails for a reason the operator's settings explain ends the start with one line
 * naming the setting (listen.ts listenError); the errors are the shapes Node's net module gives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { listenError } from '../../src/listen.ts';

const errno = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

for (const [code, setting, words] of [
  ['EADDRINUSE', 'HERALD_PORT (--port)', /^HERALD_PORT \(--port\): 127\.0\.0\.1:8080 is already in use/],
  ['EACCES', 'HERALD_PORT (--port)', /may not listen on 127\.0\.0\.1:8080 \(ports under 1024/],
  ['EADDRNOTAVAIL', 'HERALD_HOST (--host)', /127\.0\.0\.1 is not an address of this machine/],
  ['ENOTFOUND', 'HERALD_HOST (--host)', /"127\.0\.0\.1" does not resolve/],
  ['EAI_AGAIN', 'HERALD_HOST (--host)', /does not resolve/],
] as const) {
  test(`a listen refused with ${code} names ${setting}`, () => {
    const cause = errno(code);
    const error = listenError(cause, '127.0.0.1', 8080);
    assert.ok(error instanceof ConfigError);
    assert.equal(error.setting, setting);
    assert.match(error.message, words);
    assert.equal(error.cause, cause, 'the system error stays as the cause');
  });
}

test('an IPv6 host is written in brackets before its port', () => {
  const error = listenError(errno('EADDRINUSE'), '::1', 8080) as Error;
  assert.match(error.message, /\[::1\]:8080 is already in use/);
});

test('any other failure comes back as it was', () => {
  const other = errno('EMFILE');
  assert.equal(listenError(other, '127.0.0.1', 8080), other);
  assert.equal(listenError('not an error', '127.0.0.1', 8080), 'not an error');
});
