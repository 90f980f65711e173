/**
 * The API's close of connections without traffic (inactivity-close.ts), here an idle keep-alive
 * connection's (5 s, shortened): a request its client sent on it in time is read and answered,
 * even when the server's thread was held past the timeout when it came. Until 2026-12-07 the
 * timeout's callback ran first in the event loop's turn, before the poll that would have read the
 * request, found no request on the socket and destroyed it over the unread bytes: the client got
 * ECONNRESET and could not tell whether its events were taken (a client reusing a connection 4 s
 * after its last answer, the thread held 2.1 s, with the 5 s of production). A connection that
 * stays idle is still closed.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { idleConnection, writeThenHold } from '../support/idle-keep-alive.ts';
import { startApi, type TestApi } from './helpers.ts';

const REQUEST = 'GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n';
const KEEP_ALIVE_MS = 200;

/** A listening API whose idle keep-alive connections are closed after KEEP_ALIVE_MS (no buffer). */
async function listening(t: TestContext): Promise<{ api: TestApi; port: number }> {
  const api = await startApi();
  t.after(() => api.close());
  api.app.server.keepAliveTimeout = KEEP_ALIVE_MS;
  api.app.server.keepAliveTimeoutBuffer = 0;
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  return { api, port: (api.app.server.address() as { port: number }).port };
}

const answered = (text: string) => (text.match(/HTTP\/1\.1 200 OK/g) ?? []).length;

test('a request sent on an idle keep-alive connection in time is answered, though the thread was held past the timeout when it came', async (t) => {
  const { port } = await listening(t);
  const { socket, answers } = await idleConnection(port, REQUEST);
  // The next request written, then this thread held past the keep-alive timeout: its timer is due
  // before the request is read.
  await writeThenHold(
    socket,
    'GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n',
    KEEP_ALIVE_MS * 5,
  );
  const { text, error } = await answers;
  assert.equal(error, null, `the connection was reset under the request: ${text}`);
  assert.equal(answered(text), 2, text);
});

test('an idle keep-alive connection is still closed after its timeout', async (t) => {
  const { port } = await listening(t);
  const { answers } = await idleConnection(port, REQUEST);
  const { text, error } = await answers; // closed by the server: nothing more was sent
  assert.equal(error, null);
  assert.equal(answered(text), 1, text);
});
