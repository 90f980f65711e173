/**
 * An empty path segment where a route takes an id (`/projects//events`) is 400 naming the parameter,
 * on every route and for every parameter alike: the project's is looked up before the params schema
 * runs (build-app.ts), and answered `project not found` before this.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN } from './helpers.ts';
import { isApiRoute, type RoutedApi, startRoutedApi } from './route-table.ts';

describe('empty path ids', () => {
  let routed: RoutedApi;
  before(async () => {
    routed = await startRoutedApi();
  });
  after(() => routed.close());

  test('each route answers an empty id with 400 params.<name>: must not be empty', async () => {
    const created = await routed.inject({
      method: 'POST',
      url: '/api/v1/projects',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'empty ids' }),
    });
    const project = created.json.id as string;
    let checked = 0;
    // HEAD answers as GET does, without a body.
    for (const route of routed.routes.filter((r) => isApiRoute(r) && r.method !== 'HEAD')) {
      for (const empty of route.params) {
        const url = route.url.replace(/:([A-Za-z]+)/g, (_, name: string) =>
          name === empty ? '' : name === 'project' ? project : 'x_1',
        );
        const r = await routed.inject({
          method: route.method,
          url,
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        const what = `${route.method} ${route.url} as ${url}: ${r.text}`;
        assert.equal(r.status, 400, what);
        assert.equal(r.json.error.code, 'HERALD_ERR_VALIDATION', what);
        assert.equal(r.json.error.message, `params.${empty}: must not be empty`, what);
        assert.deepEqual(r.json.error.details, { field: `params.${empty}`, limit: 1 }, what);
        checked++;
      }
    }
    assert.ok(checked >= 30, `only ${checked} path parameters checked`);
  });
});
