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
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { type TestContext, test } from 'node:test';
import { startApi, type TestApi } from './helpers.ts';

const REQUEST = 'GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n';
const KEEP_ALIVE_MS = 200;

/** What comes back on `socket` until it closes: the bytes, and the error it ended with, if any. */
function collect(socket: Socket): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    let text = '';
    let error: string | null = null;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => resolve({ text, error }));
  });
}

/** A listening API whose idle keep-alive connections are closed after KEEP_ALIVE_MS (no buffer). */
async function listening(t: TestContext): Promise<{ api: TestApi; port: number }> {
  const api = await startApi();
  t.after(() => api.close());
  api.app.server.keepAliveTimeout = KEEP_ALIVE_MS;
  api.app.server.keepAliveTimeoutBuffer = 0;
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  return { api, port: (api.app.server.address() as { port: number }).port };
}

/** A connection to `port` whose first request has been answered: idle, kept alive. */
async function idleConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const answers = collect(socket);
  socket.write(REQUEST);
  await new Promise<void>((resolve) => {
    const seen = () => {
      socket.off('data', seen);
      resolve();
    };
    socket.on('data', seen);
  });
  return { socket, answers };
}

const answered = (text: string) => (text.match(/HTTP\/1\.1 200 OK/g) ?? []).length;

test('a request sent on an idle keep-alive connection in time is answered, though the thread was held past the timeout when it came', async (t) => {
  const { port } = await listening(t);
  const { socket, answers } = await idleConnection(port);
  // In a check-phase callback (as the tail of a busy turn): the next request is written (on
  // loopback, in the server socket's buffer at once), then this thread is held past the
  // keep-alive timeout, so its timer is due before the request is read.
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, KEEP_ALIVE_MS * 5);
      resolve();
    }),
  );
  const { text, error } = await answers;
  assert.equal(error, null, `the connection was reset under the request: ${text}`);
  assert.equal(answered(text), 2, text);
});

test('an idle keep-alive connection is still closed after its timeout', async (t) => {
  const { port } = await listening(t);
  const { answers } = await idleConnection(port);
  const { text, error } = await answers; // closed by the server: nothing more was sent
  assert.equal(error, null);
  assert.equal(answered(text), 1, text);
});
