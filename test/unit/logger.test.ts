/** The logger never throws on what it is given, and never writes credentials or raw bytes. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), lines };
}

test('binary data is summarised, not written (and does not make the logger throw)', () => {
  const { logger, lines } = capture();
  // Node's HTTP parse errors carry the raw request, Authorization header included.
  const parseError = Object.assign(new Error('Parse Error: Invalid header value char'), {
    code: 'HPE_INVALID_HEADER_TOKEN',
    rawPacket: Buffer.from('GET / HTTP/1.1\r\nAuthorization: Bearer hk_secret-in-the-packet\r\n'),
  });
  logger.trace({ err: parseError }, 'client error');
  logger.info(
    { data: Buffer.from('abc'), nested: { bytes: new Uint8Array(4), buffer: new ArrayBuffer(2) } },
    'bytes',
  );
  const text = lines.join('');
  assert.ok(!text.includes('hk_secret-in-the-packet'), text);
  const [first, second] = lines.map((l) => JSON.parse(l));
  assert.equal(first.err.code, 'HPE_INVALID_HEADER_TOKEN');
  assert.equal(first.err.type, 'Error');
  assert.match(first.err.rawPacket, /^\[binary data, \d+ bytes\]$/);
  assert.equal(second.data, '[binary data, 3 bytes]');
  assert.equal(second.nested.bytes, '[binary data, 4 bytes]');
});

test('credentials are redacted at any depth, errors keep their cause, cycles are cut', () => {
  const { logger, lines } = capture();
  const error = Object.assign(new Error('outer', { cause: new TypeError('inner') }), { token: 'value-T0' });
  (error as unknown as { self: unknown }).self = error;
  logger.error(
    {
      err: error,
      req: { headers: { authorization: 'Bearer value-A1', cookie: 'value-C1', 'x-api-key': 'value-X1' } },
      deep: {
        a: { b: { c: { d: { e: { secret: 'value-S1', apiKey: 'value-K1', Password: 'value-P1' } } } } },
      },
      when: new Date(0),
    },
    'failed',
  );
  const text = lines.join('');
  for (const value of ['value-T0', 'value-A1', 'value-C1', 'value-X1', 'value-S1', 'value-K1', 'value-P1'])
    assert.ok(!text.includes(value), `${value} in ${text}`);
  const line = JSON.parse(text);
  assert.equal(line.err.message, 'outer');
  assert.equal(line.err.cause.type, 'TypeError');
  assert.equal(line.err.self, '[circular]');
  assert.equal(line.when, '1970-01-01T00:00:00.000Z');
  assert.equal(line.deep.a.b.c.d.e.secret, '[redacted]');
});
