/**
 * Malformed HTTP is logged at debug level only, and anyone who can reach the port can send it:
 * with a line per request, 32 clients sending garbage made `HERALD_LOG_LEVEL=debug` write 99,189
 * lines (12.5 MB) in 15 s. The line is now written at most once per 10 s per kind of error, with
 * the number since, so debug stays safe to turn on in production.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { type HeraldProcess, startHerald } from './harness.ts';

let herald: HeraldProcess | undefined;
after(() => herald?.dispose());

/** Sends bytes that are not HTTP and waits for the answer and the close. */
const garbage = (port: number) =>
  new Promise<string>((resolve) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.end('NOT HTTP AT ALL\r\n\r\n');
  });

test('a storm of malformed requests writes one debug line per 10 s, not one per request', async () => {
  herald = await startHerald({
    env: { HERALD_ADMIN_TOKEN: 'e2e-client-error-token-0123456789ab', HERALD_LOG_LEVEL: 'debug' },
  });
  const port = Number(new URL(herald.url).port);
  const from = herald.logLines().length;
  for (let i = 0; i < 200; i++) {
    assert.match(await garbage(port), /^HTTP\/1\.1 400 /);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const lines = herald
    .logLines()
    .slice(from)
    .filter((l) => String(l.msg).startsWith('client error'));
  assert.equal(lines.length, 1, `${lines.length} lines for 200 malformed requests`);
  assert.equal(lines[0]!.level, 20);
  assert.equal(lines[0]!.code, 'HPE_INVALID_METHOD');
});
