/**
 * An endpoint change checked against the endpoint, or its secret, as another request changes it.
 * The checks that depend on them (a scheme against the current secret, an imported secret against
 * the scheme, custom headers against the signature header names) ran before the write, on what the
 * route had read: both requests passed, and the endpoint was left in a state the API refuses (a
 * `standard` endpoint signing with a plain secret, a custom header named like its signature
 * header, a GET carrying a custom Content-Type, a filter entry outside the enforced catalog that the endpoint no longer had). Real server on listen(0), SQLite on disk and PostgreSQL; the other request is made
 * certain to land in the window: the store sends it, over HTTP, and waits for its answer, just
 * before the write it would otherwise race.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { isReservedHeader } from '../../src/domain/reserved-headers.ts';
import { secretProblem } from '../../src/domain/secret.ts';
import type { Store } from '../../src/store/store.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';
import { closeAnsweredConnections } from '../support/close-answered-connections.ts';

const ADMIN = 'check-race-admin-token-0123456789abcdef';
const PLAIN = 'plain-secret-0123456789'; // fine for hmac-sha256, not a standard (whsec_) secret

type Answer = {
  status: number;
  body: { error?: { code: string; details?: { field?: string } } } & Record<string, never>;
};
type Call = (method: string, path: string, body?: unknown) => Promise<Answer>;

/** `store`, whose next call of `method` first runs `between` (once) and waits for it. */
function withRequestBetween(
  store: Store,
  method: keyof Store,
  between: { run: (() => Promise<unknown>) | null },
): Store {
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

async function serve(store: Store, method: keyof Store, between: { run: (() => Promise<unknown>) | null }) {
  const app = buildApp({
    store: withRequestBetween(store, method, between),
    config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const call: Call = async (m, path, body) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: m,
      headers: {
        authorization: `Bearer ${ADMIN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Answer['body'] };
  };
  const project = (await call('POST', '/api/v1/projects', { name: 'races' })).body as unknown as {
    id: string;
  };
  const ep = `/api/v1/projects/${project.id}/endpoints`;
  return { app, call, ep };
}

function assertRefused(r: Answer, status: number, field: string) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error?.details?.field, field, JSON.stringify(r.body));
}

/** A server over a fresh store whose `method` runs `between` first (set by `body`), for `body`. */
async function race(
  open: OpenStore,
  method: keyof Store,
  body: (
    s: Awaited<ReturnType<typeof serve>>,
    between: { run: (() => Promise<unknown>) | null },
  ) => Promise<void>,
) {
  const { store, done } = await open();
  const between: { run: (() => Promise<unknown>) | null } = { run: null };
  const served = await serve(store, method, between);
  try {
    await body(served, between);
  } finally {
    closeAnsweredConnections(served.app.server);
    await served.app.close();
    await done();
  }
}

function suite(name: string, open: OpenStore) {
  describe(`endpoint checks made in the write (${name})`, () => {
    test('a scheme PATCH while a plain secret is imported: the PATCH is refused, as it would be after it', () =>
      race(open, 'updateEndpoint', async ({ call, ep }, between) => {
        const created = await call('POST', ep, {
          url: 'http://127.0.0.1:9/h',
          signature: { scheme: 'hmac-sha256' },
        });
        const id = (created.body as unknown as { id: string }).id;
        let rotated: Answer | undefined;
        between.run = async () => {
          rotated = await call('POST', `${ep}/${id}/secret/rotate`, { secret: PLAIN });
        };
        const patched = await call('PATCH', `${ep}/${id}`, { signature: { scheme: 'standard' } });
        assert.equal(rotated?.status, 200, JSON.stringify(rotated?.body));
        assertRefused(patched, 422, 'body.signature.scheme');
        const endpoint = (await call('GET', `${ep}/${id}`)).body as unknown as {
          signature: { scheme: 'standard' };
        };
        const secret = (await call('GET', `${ep}/${id}/secret`)).body as unknown as { secret: string };
        assert.equal(secret.secret, PLAIN);
        assert.equal(
          secretProblem(endpoint.signature.scheme, secret.secret),
          null,
          endpoint.signature.scheme,
        );
      }));

    test('a plain secret imported while the scheme becomes standard: the rotation is refused', () =>
      race(open, 'rotateEndpointSecret', async ({ call, ep }, between) => {
        const created = await call('POST', ep, {
          url: 'http://127.0.0.1:9/h',
          signature: { scheme: 'hmac-sha256' },
        });
        const { id, secret: first } = created.body as unknown as { id: string; secret: string };
        let patched: Answer | undefined;
        between.run = async () => {
          patched = await call('PATCH', `${ep}/${id}`, { signature: { scheme: 'standard' } });
        };
        const rotated = await call('POST', `${ep}/${id}/secret/rotate`, { secret: PLAIN });
        assert.equal(patched?.status, 200, JSON.stringify(patched?.body));
        assertRefused(rotated, 422, 'body.secret');
        const secret = (await call('GET', `${ep}/${id}/secret`)).body as unknown as {
          secret: string;
          secrets: unknown[];
        };
        assert.equal(secret.secret, first);
        assert.equal(secret.secrets.length, 1, 'nothing of the rotation was written');
      }));

    test('custom headers while the signature header takes one of their names: the headers are refused', () =>
      race(open, 'updateEndpoint', async ({ call, ep }, between) => {
        const created = await call('POST', ep, { url: 'http://127.0.0.1:9/h' });
        const id = (created.body as unknown as { id: string }).id;
        let renamed: Answer | undefined;
        between.run = async () => {
          renamed = await call('PATCH', `${ep}/${id}`, {
            signature: { scheme: 'hmac-sha256', signatureHeader: 'X-Sig' },
          });
        };
        const headers = await call('PATCH', `${ep}/${id}`, { headers: { 'X-Sig': 'a', 'X-Env': 'prod' } });
        assert.equal(renamed?.status, 200, JSON.stringify(renamed?.body));
        assertRefused(headers, 400, 'body.headers.X-Sig');
        const endpoint = (await call('GET', `${ep}/${id}`)).body as unknown as {
          headers: Record<string, string>;
          signature: { scheme: 'hmac-sha256'; signatureHeader: string };
        };
        assert.equal(endpoint.signature.signatureHeader, 'X-Sig');
        assert.deepEqual(endpoint.headers, {}, 'nothing of the refused PATCH was written');
        assert.equal(isReservedHeader('X-Sig', endpoint.signature), true);
      }));

    test('a switch to GET while another PATCH sets a Content-Type: the switch is refused, as after it', () =>
      race(open, 'updateEndpoint', async ({ call, ep }, between) => {
        const created = await call('POST', ep, { url: 'http://127.0.0.1:9/h' });
        const id = (created.body as unknown as { id: string }).id;
        let typed: Answer | undefined;
        between.run = async () => {
          typed = await call('PATCH', `${ep}/${id}`, { headers: { 'Content-Type': 'application/json' } });
        };
        const toGet = await call('PATCH', `${ep}/${id}`, { method: 'GET' });
        assert.equal(typed?.status, 200, JSON.stringify(typed?.body));
        assertRefused(toGet, 422, 'body.method');
        const endpoint = (await call('GET', `${ep}/${id}`)).body as unknown as {
          method: string;
          headers: Record<string, string>;
        };
        assert.equal(endpoint.method, 'POST', 'no GET with a Content-Type was written');
        assert.deepEqual(endpoint.headers, { 'Content-Type': 'application/json' });
      }));

    test('a filter entry sent back as the endpoint has it while another PATCH removes it, the catalog enforced: refused, as after it', () =>
      race(open, 'updateEndpoint', async ({ call, ep }, between) => {
        // Stored before the project enforced the catalog: a PATCH may send it back unchanged, and only so.
        const created = await call('POST', ep, { url: 'http://127.0.0.1:9/h', eventTypes: ['order.gone'] });
        const id = (created.body as unknown as { id: string }).id;
        assert.equal((await call('PUT', '/api/v1/event-types/order.kept', {})).status, 200);
        const project = ep.split('/')[4];
        assert.equal(
          (await call('PATCH', `/api/v1/projects/${project}`, { enforceCatalog: true })).status,
          200,
        );
        let removed: Answer | undefined;
        between.run = async () => {
          removed = await call('PATCH', `${ep}/${id}`, { eventTypes: ['order.kept'] });
        };
        const sentBack = await call('PATCH', `${ep}/${id}`, { eventTypes: ['order.kept', 'order.gone'] });
        assert.equal(removed?.status, 200, JSON.stringify(removed?.body));
        assertRefused(sentBack, 422, 'body.eventTypes.1');
        const endpoint = (await call('GET', `${ep}/${id}`)).body as unknown as { eventTypes: string[] };
        assert.deepEqual(
          endpoint.eventTypes,
          ['order.kept'],
          'no filter entry outside the enforced catalog came back',
        );
      }));

    test('a rotation while a PATCH changes the endpoint: its answer is the endpoint as the rotation left it, not as read before', () =>
      race(open, 'rotateEndpointSecret', async ({ call, ep }, between) => {
        const created = await call('POST', ep, { url: 'http://127.0.0.1:9/before' });
        const id = (created.body as unknown as { id: string }).id;
        let patched: Answer | undefined;
        between.run = async () => {
          patched = await call('PATCH', `${ep}/${id}`, {
            url: 'http://127.0.0.1:9/after',
            signature: { scheme: 'hmac-sha256' },
          });
        };
        const rotated = await call('POST', `${ep}/${id}/secret/rotate`, {});
        assert.equal(patched?.status, 200, JSON.stringify(patched?.body));
        assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
        const answer = rotated.body as unknown as {
          url: string;
          signature: { scheme: string };
          updatedAt: string;
          secret: string;
          secrets: unknown[];
        };
        // Before: the URL and scheme as the route read them before the PATCH, beside the new secret.
        assert.equal(answer.url, 'http://127.0.0.1:9/after');
        assert.equal(answer.signature.scheme, 'hmac-sha256');
        const now = (await call('GET', `${ep}/${id}/secret`)).body as unknown as Record<string, unknown>;
        assert.deepEqual(answer, now);
        assert.equal(answer.secrets.length, 2);
      }));
  });
}

onBothStores(suite);
