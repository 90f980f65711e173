/**
 * src/api/lazy-serializers.ts: Fastify's serializer compiler for response schemas, loaded when a
 * route with one is set up. Herald's routes have none; a route that has one (a plugin's) is
 * answered as Fastify's own compiler answers it (fast-json-stringify: fields the schema does not
 * name are left out).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { lazySerializers } from '../../src/api/lazy-serializers.ts';

test('a route with a response schema is serialized by the compiler loaded for it; one without, as JSON', async (t) => {
  const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: lazySerializers() } } });
  t.after(() => app.close());
  app.get(
    '/described',
    { schema: { response: { 200: { type: 'object', properties: { a: { type: 'integer' } } } } } },
    async () => ({ a: 1, extra: 2 }),
  );
  app.get('/plain', async () => ({ a: 1, extra: 2 }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  assert.equal(await (await fetch(`${url}/described`)).text(), '{"a":1}');
  assert.equal(await (await fetch(`${url}/plain`)).text(), '{"a":1,"extra":2}');
});
