/**
 * src/api/lazy-validators.ts: Fastify's validators, compiled at their first call. What Fastify
 * reads of them (the result, and `errors` after a failure) is what Ajv's compiled function gives;
 * a headers schema with a capital letter is refused when the route is added, as Fastify would
 * otherwise have lowercased it for its own compiler.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lazyValidators } from '../../src/api/lazy-validators.ts';

type Validate = ((data: unknown) => unknown) & { errors?: Array<{ instancePath: string; message?: string }> };
const compileWith = lazyValidators() as unknown as (
  external: unknown,
  options: unknown,
) => (route: { schema: unknown; method: string; url: string; httpPart?: string }) => Validate;
const compile = compileWith({}, { customOptions: { coerceTypes: false } }); // as build-app.ts

test('a lazy validator validates as Ajv does and passes its errors on', () => {
  const validate = compile({
    schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    method: 'POST',
    url: '/x',
    httpPart: 'body',
  });
  assert.equal(validate({ name: 'a' }), true);
  assert.equal(validate.errors ?? null, null);
  assert.equal(validate({ name: 5 }), false);
  assert.equal(validate.errors?.[0]?.instancePath, '/name');
  assert.equal(validate.errors?.[0]?.message, 'must be string');
});

test('a headers schema naming a header with a capital letter is refused when the route is added', () => {
  assert.throws(
    () =>
      compile({
        schema: { type: 'object', properties: { 'Idempotency-Key': { type: 'string' } } },
        method: 'POST',
        url: '/x',
        httpPart: 'headers',
      }),
    /POST \/x: the headers schema names Idempotency-Key/,
  );
  const lower = compile({
    schema: { type: 'object', properties: { 'idempotency-key': { type: 'string' } } },
    method: 'POST',
    url: '/x',
    httpPart: 'headers',
  });
  assert.equal(lower({ 'idempotency-key': 5 }), false);
});
