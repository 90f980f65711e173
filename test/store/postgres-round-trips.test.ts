/**
 * Round trips of the PostgreSQL store's endpoint writes, counted on a real PostgreSQL: what an
 * endpoint PATCH or DELETE costs beyond its HTTP request (the API adds its reads of the project and
 * the endpoint). A change that adds a statement to these shows here.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { withPostgres } from '../support/postgres.ts';
import { countQueries } from '../support/query-counter.ts';
import { eventInput, projectWithEndpoints, T0 } from './helpers.ts';

const server = await withPostgres();
after(() => server.stop());

async function withStore(fn: (store: PostgresStore) => Promise<void>) {
  const store = new PostgresStore(await server.createDatabase());
  await store.migrate();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

test('a settings change is one statement (locked, written, returned); with active or a rate limit, a transaction', async () => {
  await withStore(async (store) => {
    const { project, endpoints } = await projectWithEndpoints(store, 1);
    const id = endpoints[0]!.id;
    const renamed = await countQueries(() =>
      store.updateEndpoint(project.id, id, { name: 'renamed', headers: { 'x-a': 'b' } }, T0 + 1),
    );
    assert.equal(renamed.queries.length, 1, renamed.queries.join('\n'));
    assert.equal(renamed.result?.name, 'renamed');
    assert.deepEqual(renamed.result?.headers, { 'x-a': 'b' });
    assert.equal(renamed.result?.updatedAt, T0 + 1);
    assert.equal(renamed.result?.url, endpoints[0]!.url, 'settings not named are kept');
    assert.deepEqual(await store.getEndpoint(project.id, id), renamed.result);

    // A rate limit, added: BEGIN, the statement, COMMIT (nothing put off to release).
    const limited = await countQueries(() =>
      store.updateEndpoint(project.id, id, { rateLimit: { perSecond: 5 } }, T0 + 2),
    );
    assert.equal(limited.queries.length, 3, limited.queries.join('\n'));
    assert.deepEqual(limited.result?.rateLimit, { perSecond: 5 });

    const missing = await countQueries(() =>
      store.updateEndpoint(project.id, 'ep_missing', { name: 'x' }, T0),
    );
    assert.equal(missing.result, null);
    assert.equal(missing.queries.length, 1);
  });
});

test('a delete is BEGIN, the endpoint locked, one statement for the rest, COMMIT; then the accepts in flight waited for, and what they made closed', async () => {
  await withStore(async (store) => {
    const { project, endpoints } = await projectWithEndpoints(store, 2);
    const [gone, kept] = endpoints;
    const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
    const deleted = await countQueries(() => store.deleteEndpoint(project.id, gone!.id, T0));
    assert.equal(deleted.result, true);
    // The last two: the project's accepts in flight waited for (endpoint-writes.ts
    // fenceAcceptsPostgres), then one more close of the backlog, which sees what they made.
    assert.equal(deleted.queries.length, 6, deleted.queries.join('\n'));
    assert.equal(await store.getEndpoint(project.id, gone!.id), null);
    assert.deepEqual(await store.getEndpointSecrets(project.id, gone!.id, T0), []);
    // Its pending delivery closed as failed; the other endpoint's left alone.
    const deliveryTo = new Map(accepted!.deliveries.map((d) => [d.endpointId, d.id]));
    assert.equal((await store.getDelivery(project.id, deliveryTo.get(gone!.id)!))?.status, 'failed');
    assert.equal((await store.getDelivery(project.id, deliveryTo.get(kept!.id)!))?.status, 'pending');
    assert.equal(await store.deleteEndpoint(project.id, gone!.id, T0), false);
  });
});

test('over HTTP: a settings PATCH is 3 round trips (the project, the endpoint, the write), a DELETE 7', async () => {
  await withStore(async (store) => {
    const admin = 'round-trips-admin-token-0123456789abcdef';
    const app = buildApp({
      store,
      config: loadConfig({ env: { HERALD_ADMIN_TOKEN: admin, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } }),
    });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const url = `http://127.0.0.1:${port}/api/v1/projects/${project.id}/endpoints/${endpoints[0]!.id}`;
      const send = async (method: string, body?: unknown) => {
        const r = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${admin}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        await r.arrayBuffer();
        return r.status;
      };
      const patched = await countQueries(() => send('PATCH', { name: 'renamed' }));
      assert.equal(patched.result, 200);
      assert.equal(patched.queries.length, 3, patched.queries.join('\n'));
      const deleted = await countQueries(() => send('DELETE'));
      assert.equal(deleted.result, 204);
      assert.equal(deleted.queries.length, 7, deleted.queries.join('\n'));
      const again = await countQueries(() => send('DELETE'));
      assert.equal(again.result, 404);
    } finally {
      await app.close();
    }
  });
});
