/**
 * A closing server's idle keep-alive connections (drain-idle-connections.ts): a request its client
 * sent on one within the drain window is read and answered, even when this process was too busy to
 * read it before the window's timer came due. Until 2026-12-07 the timer's callback ran first in
 * the event loop's turn, before the poll that would have read the request, and closing the socket
 * over its unread bytes reset it (ECONNRESET: a client that cannot tell whether its event was
 * accepted; test/e2e/sigterm-under-load.test.ts saw 7 of 33 requests so on a loaded machine).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { drainIdleConnectionsOnClose } from '../../src/api/drain-idle-connections.ts';
import { idleConnection, writeThenHold } from '../support/idle-keep-alive.ts';

const REQUEST = 'GET /next HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n';

test('a request sent on an idle connection within the window is answered, though the process was busy past the window when it came', async () => {
  const windowMs = 20;
  const server = createServer((req, res) => {
    res.end(req.url);
  });
  server.keepAliveTimeout = 60_000;
  drainIdleConnectionsOnClose(server, windowMs);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const { socket, answers } = await idleConnection(port, 'GET /first HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // The next request written, then this process busy past the window: its timer is due before the
  // request is read.
  await writeThenHold(socket, REQUEST, windowMs * 10);
  const { text, error } = await answers;
  await closed;
  assert.equal(error, null, `the connection was reset under the request: ${text}`);
  assert.match(text, /\/first[\s\S]*HTTP\/1\.1 200 OK[\s\S]*\/next$/, text);
});
