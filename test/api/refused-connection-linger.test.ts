/**
 * A connection past the connection bounds (connection-limits.ts) is answered 503 at once, then kept
 * for REFUSED_LINGER_MS while what its client sends is thrown away, so that the client reads the
 * answer rather than a reset. That time is a bound from the answer, not a quiet spell: a client that
 * keeps sending (here 1 KiB every 100 ms after the server's FIN) is closed all the same.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { limitConnections, REFUSED_LINGER_MS } from '../../src/api/connection-limits.ts';
import { keepSending } from '../support/raw-http.ts';

test('a refused connection whose client keeps sending is closed after REFUSED_LINGER_MS all the same', async () => {
  const server = createServer((_request, response) => response.end('ok'));
  limitConnections(server, { total: 0, perAddress: 1 }, []); // every connection refused
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  try {
    // 1 KiB every 100 ms, for up to 10 times REFUSED_LINGER_MS, after the server's FIN too.
    const { answer, closed } = await keepSending(port, { everyMs: 100, times: REFUSED_LINGER_MS / 10 });
    assert.match(answer, /^HTTP\/1\.1 503 .*HERALD_ERR_BUSY/s);
    assert.ok(closed, 'the server closed the refused connection of a client that kept sending');
  } finally {
    server.close();
  }
});
