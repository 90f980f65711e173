/**
 * Every answer to an /api/ URL says `Cache-Control: no-store`, those made before the token check
 * too: they hold no secret, but a shared cache may keep an answer it was not told about for a URL
 * (RFC 9111 lets it keep a 404 or a 414) and give it to the next caller. Until 2026-12-06 the
 * onRequest hook of the token check set it, so a 414 path segment and a URL Fastify cannot decode
 * (its frameworkErrors, before any hook) said nothing. Real server on listen(0).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
