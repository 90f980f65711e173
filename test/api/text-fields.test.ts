/**
 * Every text field of every route (body, query, path) is refused when it is not well-formed Unicode
 * (a lone surrogate, which both stores keep as U+FFFD): by its schema's pattern (TEXT_PATTERN or a
 * stricter one) or enum, or by the code that parses it. A route added without either fails here.
 * The stores' side of it: test/e2e/well-formed-text.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

/**
 * Text the schema leaves to code that refuses anything but ASCII (parseTime, decodeCursor,
 * parseBucket, checkCustomHeaders, idempotencyKeyHeader).
 */
const PARSED_IN_CODE =
  /^(query\.(cursor|since|until|bucket)|body\.(since|until|headers\.\*)|header\.idempotency-key)$/;
const LONE = 'a\udbff';

describe('text fields', () => {
  let api: TestApi;
  let p: Body;

  before(async () => {
    api = await startApi();
    p = await api.project('text-fields');
  });
  after(() => api.close());

  test('every string a route validates refuses a lone surrogate, by pattern, enum or code', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body;
    const unchecked: string[] = [];
    let strings = 0;
    const walk = (node: Body, field: string, where: string): void => {
      if (!node || typeof node !== 'object') return;
      if ([node.type].flat().includes('string')) {
        strings++;
        const refused =
          node.enum !== undefined ||
          (typeof node.pattern === 'string' && !new RegExp(node.pattern, 'u').test(LONE)) ||
          PARSED_IN_CODE.test(field);
        if (!refused) unchecked.push(`${where} ${field}`);
      }
      for (const [name, schema] of Object.entries(node.properties ?? {}))
        walk(schema, `${field}.${name}`, where);
      if (node.items) walk(node.items, `${field}.0`, where);
      if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${field}.*`, where);
    };
    for (const [path, operations] of Object.entries(doc.paths) as [string, Body][]) {
      for (const [method, operation] of Object.entries(operations) as [string, Body][]) {
        for (const parameter of operation.parameters ?? []) {
          walk(parameter.schema, `${parameter.in}.${parameter.name}`, `${method} ${path}`);
        }
        walk(operation.requestBody?.content?.['application/json']?.schema, 'body', `${method} ${path}`);
      }
    }
    assert.ok(strings > 50, String(strings));
    assert.deepEqual(unchecked, []);
  });

  test('the fields parsed in code refuse one too', async () => {
    const EP = `/api/v1/projects/${p.id}/endpoints`;
    const created = await api.call('POST', EP, { url: 'https://hooks.example/' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assertError(
      await api.call('POST', EP, { url: 'https://hooks.example/', headers: { 'X-A': LONE } }),
      400,
      undefined,
      'body.headers.X-A',
    );
    assertError(
      await api.call('POST', `${EP}/${created.body.id}/recover`, { since: LONE }),
      400,
      undefined,
      'body.since',
    );
  });
});
