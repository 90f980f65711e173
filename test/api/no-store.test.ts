/**
 * Every answer to an /api/ URL says `Cache-Control: no-store`, those made before the token check
 * too: they hold no secret, but a shared cache may keep an answer it was not told about for a URL
 * (RFC 9111 lets it keep a 404 or a 414) and give it to the next caller. Until 2026-12-06 the
 * onRequest hook of the token check set it, so a 414 path segment and a URL Fastify cannot decode
 * (its frameworkErrors, before any hook) said nothing. Real server on listen(0).
 * So do the answers Herald writes on the socket before a request exists (malformed HTTP, headers
 * too large, a connection past its address's share): until 2026-12-06 they said nothing either.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { limitConnections } from '../../src/api/connection-limits.ts';
import { rawRequest } from '../support/raw-http.ts';
import { ADMIN, startApi, type TestApi } from './helpers.ts';

let api: TestApi;
let url: string;
before(async () => {
  api = await startApi();
  url = await api.app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => api.close());

async function cacheControl(path: string, token: string | null = ADMIN): Promise<string> {
  const response = await fetch(`${url}${path}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return `${response.status} ${response.headers.get('cache-control')}`;
}

test('answers to /api/ URLs made before the token check say no-store, as those after it do', async () => {
  assert.deepEqual(
    {
      'a path segment over 200 characters': await cacheControl(`/api/v1/projects/${'p'.repeat(201)}`),
      'a URL that cannot be decoded': await cacheControl('/api/v1/projects/%E0%A4'),
      'no token': await cacheControl('/api/v1/projects', null),
      'a wrong token': await cacheControl('/api/v1/projects', 'not-the-token'),
      'no such route': await cacheControl('/api/v1/nothing-here'),
      projects: await cacheControl('/api/v1/projects'),
    },
    {
      'a path segment over 200 characters': '414 no-store',
      'a URL that cannot be decoded': '400 no-store',
      'no token': '401 no-store',
      'a wrong token': '401 no-store',
      'no such route': '404 no-store',
      projects: '200 no-store',
    },
  );
});

/** The status line and the Cache-Control header of a raw answer. */
function statusAndCacheControl(answer: string): string {
  const head = answer.slice(0, answer.indexOf('\r\n\r\n'));
  const status =
    /^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? `no status in ${JSON.stringify(answer.slice(0, 80))}`;
  const cache = /^cache-control: *(.*)$/im.exec(head)?.[1] ?? null;
  return `${status} ${cache}`;
}

test('answers written on the socket before a request exists say no-store: malformed HTTP, headers too large', async () => {
  const port = Number(new URL(url).port);
  assert.deepEqual(
    {
      'malformed HTTP': statusAndCacheControl(await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n')),
      'a bad header line': statusAndCacheControl(
        await rawRequest(port, 'GET /api/v1/projects HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n'),
      ),
      'headers too large': statusAndCacheControl(
        await rawRequest(
          port,
          `GET /api/v1/projects HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
        ),
      ),
    },
    {
      'malformed HTTP': '400 no-store',
      'a bad header line': '400 no-store',
      'headers too large': '431 no-store',
    },
  );
});

test("a connection past its address's share is answered 503 with no-store", async () => {
  const server = createServer((_request, response) => response.end('ok'));
  limitConnections(server, { total: null, perAddress: 1 }, []);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  // The address's one connection, held open…
  const held = connect(port, '127.0.0.1');
  await once(held, 'connect');
  try {
    // …so the next one is refused before anything it sends is read.
    const answer = await rawRequest(port, 'GET /api/v1/projects HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(answer, /HERALD_ERR_BUSY/);
    assert.equal(statusAndCacheControl(answer), '503 no-store');
  } finally {
    held.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** The status and Cache-Control of the answer to `target` sent as the request line's target as is (fetch sends only a path). */
function rawCacheControl(target: string): Promise<string> {
  const { port } = new URL(url);
  return rawRequest(
    Number(port),
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${ADMIN}\r\nConnection: close\r\n\r\n`,
  ).then(statusAndCacheControl);
}

test('an /api/ URL given in absolute form (http://host/api/…) says no-store too', async () => {
  // Routed and answered with the API's data by its path, it said no Cache-Control: the check
  // looked for a request target starting with /api/.
  assert.deepEqual(
    {
      projects: await rawCacheControl(`${url}/api/v1/projects`),
      'no such route': await rawCacheControl(`${url}/api/v1/nothing-here`),
      'the path form': await rawCacheControl('/api/v1/projects'),
    },
    { projects: '200 no-store', 'no such route': '404 no-store', 'the path form': '200 no-store' },
  );
});
