/**
 * A leaked project API key ends with its deletion (security report, finding 2): it cannot mint other
 * keys, and the portal links it made are refused once it is deleted. Links the admin token made are
 * not tied to any key. A real server on a real socket, a real SQLite store.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ADMIN, type Body, startApi, type TestApi } from './helpers.ts';

describe('a leaked project API key', () => {
  let api: TestApi;
  let base: string;

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Body };
  };
  const newKey = async (projectId: string, name: string) => {
    const created = await call(ADMIN, 'POST', `/api/v1/projects/${projectId}/api-keys`, { name });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.id as string, key: created.body.key as string };
  };
  const link = async (token: string, projectId: string) => {
    const made = await call(token, 'POST', `/api/v1/projects/${projectId}/portal-links`, {
      expiresIn: 7 * 24 * 3600,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return made.body.token as string;
  };

  before(async () => {
    api = await startApi();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  after(() => api.close());

  test('cannot mint API keys: only the admin token creates them', async () => {
    const project = await api.project('keys-admin-only');
    const leaked = await newKey(project.id, 'backend');
    const refused = await call(leaked.key, 'POST', `/api/v1/projects/${project.id}/api-keys`, { name: 'x' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'HERALD_ERR_FORBIDDEN');
    const keys = await call(ADMIN, 'GET', `/api/v1/projects/${project.id}/api-keys`);
    assert.deepEqual(
      keys.body.data.map((k: Body) => k.id),
      [leaked.id],
    );
    // Listing and deleting the project's keys stay open to its keys.
    assert.equal((await call(leaked.key, 'GET', `/api/v1/projects/${project.id}/api-keys`)).status, 200);
  });

  test('its lastUsedAt says when it was last used (to the minute), so an operator sees whether it is in use', async () => {
    const project = await api.project('keys-last-used');
    const key = await newKey(project.id, 'backend');
    const lastUsed = async () =>
      (await call(ADMIN, 'GET', `/api/v1/projects/${project.id}/api-keys`)).body.data.find(
        (k: Body) => k.id === key.id,
      ).lastUsedAt as string | null;
    assert.equal(await lastUsed(), null, 'unused, and the admin token’s calls do not count');
    const before = Date.now();
    assert.equal((await call(key.key, 'GET', `/api/v1/projects/${project.id}/endpoints`)).status, 200);
    let seen: string | null = null;
    for (let i = 0; i < 50 && seen === null; i++) {
      seen = await lastUsed();
      if (seen === null) await new Promise((r) => setTimeout(r, 20));
    }
    const at = seen === null ? Number.NaN : Date.parse(seen);
    assert.ok(at >= before && at <= Date.now(), `lastUsedAt ${seen}`);
  });

  test('the portal links it made are refused once it is deleted, on every route', async () => {
    const project = await api.project('links-die-with-key');
    const leaked = await newKey(project.id, 'leaked');
    const other = await newKey(project.id, 'other');
    const byLeaked = await link(leaked.key, project.id);
    const byOther = await link(other.key, project.id);
    const byAdmin = await link(ADMIN, project.id);
    const endpoints = `/api/v1/projects/${project.id}/endpoints`;
    for (const token of [byLeaked, byOther, byAdmin])
      assert.equal((await call(token, 'GET', endpoints)).status, 200);

    assert.equal(
      (await call(ADMIN, 'DELETE', `/api/v1/projects/${project.id}/api-keys/${leaked.id}`)).status,
      204,
    );
    assert.equal((await call(leaked.key, 'GET', endpoints)).status, 401);
    assert.equal((await call(byLeaked, 'GET', endpoints)).status, 401);
    assert.equal((await call(byLeaked, 'GET', '/api/v1/event-types')).status, 401);
    assert.equal((await call(byLeaked, 'POST', endpoints, { url: 'https://evil.example.com/' })).status, 401);
    // Another key's links, and the admin's, are not the leaked key's.
    assert.equal((await call(byOther, 'GET', endpoints)).status, 200);
    assert.equal((await call(byAdmin, 'GET', endpoints)).status, 200);

    // Every key of the project deleted: only the admin's links are left.
    assert.equal(
      (await call(ADMIN, 'DELETE', `/api/v1/projects/${project.id}/api-keys/${other.id}`)).status,
      204,
    );
    assert.equal((await call(byOther, 'GET', endpoints)).status, 401);
    assert.equal((await call(byAdmin, 'GET', endpoints)).status, 200);
  });

  test('a request with a link a key made costs the same however many keys the project has', async () => {
    const project = await api.project('links-many-keys');
    const maker = await newKey(project.id, 'maker');
    // Keys made straight in the store: 10,000 through the API would take the test's time.
    for (let i = 0; i < 10_000; i++) {
      await api.store.createApiKey(
        { projectId: project.id, name: `k${i}`, prefix: 'hk_many', keyHash: `many-${i}` },
        Date.now(),
      );
    }
    const byKey = await link(maker.key, project.id);
    const byAdmin = await link(ADMIN, project.id);
    const endpoints = `/api/v1/projects/${project.id}/endpoints`;
    /** Median time of a request with `token`, ms: alternated, so both see the same machine load. */
    const times: Record<string, number[]> = { byKey: [], byAdmin: [] };
    for (let i = 0; i < 60; i++) {
      for (const [name, token] of [
        ['byKey', byKey],
        ['byAdmin', byAdmin],
      ] as const) {
        const started = performance.now();
        assert.equal((await call(token, 'GET', endpoints)).status, 200);
        times[name]!.push(performance.now() - started);
      }
    }
    const median = (list: number[]) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
    // Each request listed the project's 10,001 keys to find the link's: ~17 ms against ~1 ms.
    assert.ok(
      median(times.byKey!) < 3 * median(times.byAdmin!) + 1,
      `median ${median(times.byKey!).toFixed(2)} ms with the key's link, ${median(times.byAdmin!).toFixed(2)} ms with the admin's`,
    );
  });
});
