/**
 * Query parameters a route does not declare are refused, as unknown body fields are: a misspelt
 * filter (`?stauts=failed`) would otherwise be ignored, and the unfiltered list taken for the
 * filtered one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, assertError, type Body, startApi, type TestApi } from './helpers.ts';
import { isApiRoute, type RoutedApi, startRoutedApi } from './route-table.ts';

describe('query parameters', () => {
  let api: TestApi;
  let p: Body;
  let ep: Body;

  before(async () => {
    api = await startApi();
    p = await api.project('query');
    const r = await api.call('POST', `/api/v1/projects/${p.id}/endpoints`, { url: 'https://a.example/' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    ep = r.body;
  });
  after(() => api.close());

  test('a misspelt filter is 400 naming it, not the unfiltered list', async () => {
    const attempts = `/api/v1/projects/${p.id}/endpoints/${ep.id}/attempts`;
    const error = assertError(
      await api.call('GET', `${attempts}?stauts=failed`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.stauts',
    );
    assert.equal(
      error.message,
      'querystring.stauts: is not a known field (known: limit, cursor, status, since, until, eventType)',
    );
    assertError(
      await api.call('GET', `/api/v1/projects/${p.id}/events?typ=t.ok`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.typ',
    );
    // The declared ones still work.
    assert.equal((await api.call('GET', `${attempts}?status=failed&limit=5`)).status, 200);
    assert.equal((await api.call('GET', `/api/v1/projects/${p.id}/events?type=t.ok`)).status, 200);
  });

  test('a route that takes no parameters refuses one', async () => {
    assertError(
      await api.call('GET', `/api/v1/projects/${p.id}?verbose=1`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.verbose',
    );
    assertError(
      await api.call('DELETE', `/api/v1/projects/${p.id}/endpoints/${ep.id}?force=true`),
      400,
      'HERALD_ERR_VALIDATION',
      'querystring.force',
    );
    assert.equal((await api.call('GET', `/api/v1/projects/${p.id}/endpoints/${ep.id}`)).status, 200);
  });
});

describe('every API route closes its query string', () => {
  let routed: RoutedApi;
  before(async () => {
    routed = await startRoutedApi();
  });
  after(() => routed.close());

  test('each declares additionalProperties: false, and a GET answers 400 for an unknown parameter', async () => {
    const created = await routed.inject({
      method: 'POST',
      url: '/api/v1/projects',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'routes' }),
    });
    const project = created.json.id as string;
    const api = routed.routes.filter(isApiRoute);
    assert.ok(api.length >= 30, `only ${api.length} API routes`);
    for (const route of api) {
      assert.equal(route.querystring?.additionalProperties, false, `${route.method} ${route.url}`);
      if (route.method !== 'GET') continue;
      const url = route.url.replace(':project', project).replace(/:[A-Za-z]+/g, 'x_1');
      const r = await routed.inject({
        method: 'GET',
        url: `${url}?zz=1`,
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.equal(r.status, 400, `${route.url}: ${r.text}`);
      assert.equal(r.json.error.details.field, 'querystring.zz', `${route.url}: ${r.text}`);
    }
  });
});
