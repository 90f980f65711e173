/**
 * A request on one endpoint while another request deletes it: the route finds the endpoint, then
 * the delete commits before the route reads its secrets (GET …/secret) or makes its test delivery
 * (POST …/test). Both answered as if the endpoint were there, with what it no longer had: a 200
 * whose `secret` was null and a 202 whose `deliveryId` was null, shapes the client's types (and
 * every caller reading `secret` as a string) did not expect. Each is now 404, as it would be a
 * moment later. Real server on listen(0), SQLite on disk and PostgreSQL; the delete is made certain
 * to land in the window: the store sends it, over HTTP, and waits for its answer, just before the
 * read or write the route would otherwise race. The writes made after the look (PATCH, a rotation,
 * an enable, a replay, a recover) are 404 the same way.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { Store } from '../../src/store/store.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';

const ADMIN = 'deleted-race-admin-token-0123456789abcdef';

type Answer = { status: number; body: { error?: { code: string } } & Record<string, unknown> };

/** `store`, whose next call of `method` first runs `between.run` (once) and waits for it. */
function withRequestBetween(
  store: Store,
  method: keyof Store,
  between: { run: (() => Promise<unknown>) | null },
) {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      if (name !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        const run = between.run;
        between.run = null;
        if (run) await run();
        return value.apply(target, args);
      };
    },
  });
}

/** A server over a fresh store whose next `method` call first deletes a new endpoint; `request` on it. */
async function deletedDuring(
  open: OpenStore,
  method: keyof Store,
  request: (ep: string) => [string, string, unknown?],
) {
  const { store, done } = await open();
  const between: { run: (() => Promise<unknown>) | null } = { run: null };
  const app = buildApp({
    store: withRequestBetween(store, method, between),
    config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const call = async (m: string, path: string, body?: unknown): Promise<Answer> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: m,
      headers: {
        authorization: `Bearer ${ADMIN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : {} };
  };
  try {
    const project = (await call('POST', '/api/v1/projects', { name: 'races' })).body as { id: string };
    // An example for the test send to deliver.
    const type = await call('PUT', '/api/v1/event-types/order.paid', { example: { order: 1 } });
    assert.equal(type.status, 200, JSON.stringify(type.body));
    const eps = `/api/v1/projects/${project.id}/endpoints`;
    const created = await call('POST', eps, { url: 'http://127.0.0.1:9/h' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const ep = `${eps}/${created.body.id}`;
    let deleted: Answer | undefined;
    between.run = async () => {
      deleted = await call('DELETE', ep);
    };
    const [m, path, body] = request(ep);
    const answer = await call(m, path, body);
    assert.equal(deleted?.status, 204, `the delete ran in the window: ${JSON.stringify(deleted)}`);
    return answer;
  } finally {
    await app.close();
    await done();
  }
}

function suite(name: string, open: OpenStore) {
  describe(`an endpoint deleted while a request reads it (${name})`, () => {
    test('GET …/secret: 404, not a 200 with secret null', async () => {
      const answer = await deletedDuring(open, 'getEndpointSecrets', (ep) => ['GET', `${ep}/secret`]);
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.equal(answer.body.error?.code, 'HERALD_ERR_NOT_FOUND');
    });

    test('POST …/test: 404, not a 202 with deliveryId null', async () => {
      const answer = await deletedDuring(open, 'acceptEvents', (ep) => ['POST', `${ep}/test`, {}]);
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.equal(answer.body.error?.code, 'HERALD_ERR_NOT_FOUND');
    });

    // The writes a route makes after finding the endpoint: each answers null for one gone by then.
    const writes: [string, keyof Store, (ep: string) => [string, string, unknown?]][] = [
      ['PATCH …', 'updateEndpoint', (ep) => ['PATCH', ep, { name: 'renamed' }]],
      ['POST …/secret/rotate', 'rotateEndpointSecret', (ep) => ['POST', `${ep}/secret/rotate`, {}]],
      ['POST …/enable', 'enableEndpoint', (ep) => ['POST', `${ep}/enable`]],
      ['POST …/replay', 'replayMissing', (ep) => ['POST', `${ep}/replay`, { since: 0 }]],
      // Answered 202 { recovered: 0 } for the endpoint gone.
      ['POST …/recover', 'recoverDeliveries', (ep) => ['POST', `${ep}/recover`, { since: 0 }]],
    ];
    for (const [route, method, request] of writes) {
      test(`${route}: 404`, async () => {
        const answer = await deletedDuring(open, method, request);
        assert.equal(answer.status, 404, JSON.stringify(answer.body));
        assert.equal(answer.body.error?.code, 'HERALD_ERR_NOT_FOUND');
      });
    }
  });
}

onBothStores(suite);
