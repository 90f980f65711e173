/**
 * What a portal token may use is declared by each /api/ route (`config.portal`) and checked in one
 * place, the API's authentication hook (src/api/portal-access.ts): an app with a route that does not
 * declare it does not start, and a route that declares `portal: false` refuses portal tokens before
 * its body is validated or its handler runs. Every route against every caller: auth-matrix.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { ADMIN, startApi, type TestApi } from './helpers.ts';

describe('portal access declared by each route', () => {
  let api: TestApi;
  let project: { id: string };
  let portal: string;

  before(async () => {
    api = await startApi();
    project = await api.project('portal-access');
    const link = await api.call('POST', `/api/v1/projects/${project.id}/portal-links`, { expiresIn: 600 });
    assert.equal(link.status, 201, link.text);
    portal = link.body.token;
  });
  after(() => api?.close());

  /** The app as main.ts builds it, over the same store, with `routes` registered too. */
  const appWith = (routes: (scope: ReturnType<typeof buildApp>) => void) => {
    const app = buildApp({ store: api.store, config: api.config });
    app.register(async (scope) => routes(scope));
    return app;
  };

  test('an API route registered without config.portal stops the app from starting', async () => {
    const app = appWith((scope) => {
      scope.get('/api/v1/forgotten', { config: { access: 'any' } }, async () => ({ everyone: 'welcome' }));
    });
    await assert.rejects(
      async () => app.ready(),
      /route GET \/api\/v1\/forgotten declares no config\.portal \(true or false/,
    );
    await app.close().catch(() => {});
  });

  test('an operator route that lets portal tokens in stops the app from starting', async () => {
    const app = appWith((scope) => {
      scope.post('/api/v1/dangerous', { config: { access: 'operator', portal: true } }, async () => ({}));
    });
    await assert.rejects(
      async () => app.ready(),
      /route POST \/api\/v1\/dangerous is an operator route: its config\.portal must be false/,
    );
    await app.close().catch(() => {});
  });

  test('a route declaring portal: false refuses portal tokens before its body is validated or its handler runs', async () => {
    const ran: string[] = [];
    const body = {
      type: 'object',
      required: ['n'],
      additionalProperties: false,
      properties: { n: { type: 'integer' } },
    };
    const app = appWith((scope) => {
      for (const portalMay of [true, false]) {
        scope.post<{ Params: { project: string } }>(
          `/api/v1/projects/:project/probe-${portalMay}`,
          { config: { access: 'write', portal: portalMay }, schema: { body } },
          async (request) => {
            ran.push(`${portalMay} ${request.caller?.kind}`);
            return { ran: true };
          },
        );
      }
      scope.post(
        '/api/v1/projects/:project/probe-said',
        { config: { access: 'write', portal: false, portalRefusal: 'a portal link cannot probe' } },
        async () => ({ ran: true }),
      );
    });
    await app.ready();
    try {
      const call = async (path: string, token: string, payload: unknown) => {
        const r = await app.inject({
          method: 'POST',
          url: `/api/v1/projects/${project.id}/${path}`,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
        return { status: r.statusCode, json: r.json() };
      };
      for (const payload of [{ n: 1 }, { junk: [1] }]) {
        const refused = await call('probe-false', portal, payload);
        assert.equal(refused.status, 403, JSON.stringify(refused.json));
        assert.deepEqual(refused.json.error, {
          code: 'HERALD_ERR_FORBIDDEN',
          message: 'a portal link cannot do this',
        });
      }
      // A route may say why in its own words (the portal-links routes do).
      assert.deepEqual((await call('probe-said', portal, {})).json.error, {
        code: 'HERALD_ERR_FORBIDDEN',
        message: 'a portal link cannot probe',
      });
      assert.equal((await call('probe-true', portal, { n: 1 })).status, 200);
      assert.equal((await call('probe-true', portal, { junk: [1] })).status, 400);
      assert.equal((await call('probe-false', ADMIN, { n: 1 })).status, 200);
      assert.equal((await call('probe-false', await api.apiKey(project.id), { n: 1 })).status, 200);
      assert.deepEqual(ran, ['true portal', 'false admin', 'false project']);
    } finally {
      await app.close();
    }
  });
});
