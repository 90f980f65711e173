/**
 * A connection past the connection bounds (connection-limits.ts) is answered 503 at once, then kept
 * for REFUSED_LINGER_MS while what its client sends is thrown away, so that the client reads the
 * answer rather than a reset. That time is a bound from the answer, not a quiet spell: a client that
 * keeps sending (here 1 KiB every 100 ms after the server's FIN) is closed all the same.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { limitConnections, REFUSED_LINGER_MS } from '../../src/api/connection-limits.ts';

test('a refused connection whose client keeps sending is closed after REFUSED_LINGER_MS all the same', async () => {
  const server = createServer((_request, response) => response.end('ok'));
  limitConnections(server, { total: 0, perAddress: 1 }, []); // every connection refused
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  // Half-open allowed: it goes on writing after the server's FIN.
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
  });
  let closed = false;
  socket.once('close', () => {
    closed = true;
  });
  try {
    await once(socket, 'connect');
    // 1 KiB every 100 ms, for up to 10 times REFUSED_LINGER_MS.
    for (let i = 0; i < REFUSED_LINGER_MS / 10 && !closed; i++) {
      socket.write(Buffer.alloc(1024, 'x'));
      await sleep(100);
    }
    assert.match(answer, /^HTTP\/1\.1 503 .*HERALD_ERR_BUSY/s);
    assert.ok(closed, 'the server closed the refused connection of a client that kept sending');
  } finally {
    socket.destroy();
    server.close();
  }
});
