/**
 * POST …/recover finds the endpoint active, then recovers its failed deliveries in batches. A
 * disable committed between the two (a PATCH, or its failures) left the route answering 202 with
 * every failed delivery made pending on the disabled endpoint, for the claims to park one by one;
 * a moment later the same request is 409 HERALD_ERR_ENDPOINT_DISABLED and changes nothing. Each
 * batch now reads the endpoint's status in its own write (PostgreSQL: under the endpoint's lock,
 * which a disable takes too): 409, the deliveries still failed. Real server on listen(0), SQLite on
 * disk and PostgreSQL; the disable is made certain to land in the window: the store sends it, over
 * HTTP, and waits for its answer, just before the recover's first batch. A replay disabled so
 * answered 202 with 0 replayed: it is 409 too.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { Store } from '../../src/store/store.ts';
import { attemptRecord } from '../store/helpers.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';

const ADMIN = 'disabled-race-admin-token-0123456789abcdef';

/** `store`, whose next recoverDeliveries or replayMissing first runs `between.run` (once) and waits for it. */
function leverAfter(store: Store, between: { run: (() => Promise<unknown>) | null }): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      if (name !== 'recoverDeliveries' && name !== 'replayMissing') return value.bind(target);
      return async (...args: unknown[]) => {
        const run = between.run;
        between.run = null;
        if (run) await run();
        return value.apply(target, args);
      };
    },
  });
}

/** A server on listen(0) over `open`'s store, whose next lever first runs `between.run`. */
async function serve(open: OpenStore) {
  const { store, done } = await open();
  const between: { run: (() => Promise<unknown>) | null } = { run: null };
  const app = buildApp({
    store: leverAfter(store, between),
    config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const call = async (m: string, path: string, body?: unknown) => {
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
  const close = async () => {
    await app.close();
    await done();
  };
  return { store, between, call, close };
}

function suite(name: string, open: OpenStore) {
  describe(`an endpoint disabled while a recover or replay runs (${name})`, () => {
    test('POST …/recover: 409 HERALD_ERR_ENDPOINT_DISABLED, its failed deliveries left failed', async () => {
      const { store, between, call, close } = await serve(open);
      try {
        const project = (await call('POST', '/api/v1/projects', { name: 'races' })).body as { id: string };
        const eps = `/api/v1/projects/${project.id}/endpoints`;
        const created = await call('POST', eps, { url: 'http://127.0.0.1:9/h' });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const ep = `${eps}/${created.body.id}`;
        // Three failed deliveries, made in the store (no receiver needed).
        const accepted = await call('POST', `/api/v1/projects/${project.id}/events/batch`, {
          events: [1, 2, 3].map((n) => ({ type: 'order.paid', payload: { n } })),
        });
        assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
        const now = Date.now();
        const claims = await store.claimDueDeliveries({ limit: 10, leaseMs: 60_000, now, workerId: 'w' });
        assert.equal(claims.length, 3);
        await store.recordAttempts(
          claims.map((c) =>
            attemptRecord(c.delivery, c.event, {
              outcome: 'failed',
              status: 'failed',
              startedAt: now,
              workerId: 'w',
            }),
          ),
          { now, failureThreshold: 1000 },
        );
        for (const c of claims) {
          assert.equal((await store.getDelivery(project.id, c.delivery.id))?.status, 'failed', 'set up');
        }
        let disabled: { status: number } | undefined;
        between.run = async () => {
          disabled = await call('PATCH', ep, { active: false });
        };
        const answer = await call('POST', `${ep}/recover`, { since: 0 });
        assert.equal(disabled?.status, 200, `the disable ran in the window: ${JSON.stringify(disabled)}`);
        assert.equal(answer.status, 409, JSON.stringify(answer.body));
        assert.equal(answer.body.error?.code, 'HERALD_ERR_ENDPOINT_DISABLED');
        for (const c of claims) {
          assert.equal((await store.getDelivery(project.id, c.delivery.id))?.status, 'failed');
        }
      } finally {
        await close();
      }
    });

    // A replay's batches stopped as a recover's do, but the route answered 202 {"replayed": 0,
    // "nextSince": since}, and the CLI "0 events replayed" and "more to replay: run again", which
    // only repeated it; a recover in the same place is 409, as either is a moment later.
    test('POST …/replay: 409 HERALD_ERR_ENDPOINT_DISABLED when disabled before its first batch, nothing replayed', async () => {
      const { store, between, call, close } = await serve(open);
      try {
        const project = (await call('POST', '/api/v1/projects', { name: 'races' })).body as { id: string };
        // Three events before the endpoint: none has a delivery to it, each is one to replay.
        const accepted = await call('POST', `/api/v1/projects/${project.id}/events/batch`, {
          events: [1, 2, 3].map((n) => ({ type: 'order.paid', payload: { n } })),
        });
        assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
        const eps = `/api/v1/projects/${project.id}/endpoints`;
        const created = await call('POST', eps, { url: 'http://127.0.0.1:9/h' });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const ep = `${eps}/${created.body.id}`;
        let disabled: { status: number } | undefined;
        between.run = async () => {
          disabled = await call('PATCH', ep, { active: false });
        };
        const answer = await call('POST', `${ep}/replay`, { since: 0 });
        assert.equal(disabled?.status, 200, `the disable ran in the window: ${JSON.stringify(disabled)}`);
        assert.equal(answer.status, 409, JSON.stringify(answer.body));
        assert.equal(answer.body.error?.code, 'HERALD_ERR_ENDPOINT_DISABLED');
        for (const status of ['pending', 'parked'] as const) {
          const waiting = await store.listEndpointDeliveries(project.id, created.body.id, {
            status,
            limit: 10,
          });
          assert.deepEqual(waiting.data, [], `no ${status} delivery`);
        }
      } finally {
        await close();
      }
    });
  });
}

onBothStores(suite);
