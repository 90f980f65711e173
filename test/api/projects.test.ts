/** Projects, API keys and the event-type catalog. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('projects, api keys, event types', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  test('projects: create, get by id or uid, list with cursor, patch, delete', async () => {
    const r = await api.call('POST', '/api/v1/projects', { name: 'Guild', uid: 'guild-1' });
    assert.equal(r.status, 201);
    const p = r.body;
    assert.equal(p.name, 'Guild');
    assert.equal(p.uid, 'guild-1');
    assert.ok(!Number.isNaN(Date.parse(p.createdAt)));
    assert.deepEqual((await api.call('GET', `/api/v1/projects/${p.id}`)).body, p);
    assert.equal((await api.call('GET', '/api/v1/projects/guild-1')).body.id, p.id);
    assertError(
      await api.call('POST', '/api/v1/projects', { name: 'x', uid: 'guild-1' }),
      409,
      'HERALD_ERR_CONFLICT',
    );
    await api.project('second');
    const page = await api.call('GET', '/api/v1/projects?limit=1');
    assert.equal(page.body.data.length, 1);
    assert.ok(page.body.nextCursor);
    const rest = await api.call(
      'GET',
      `/api/v1/projects?limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`,
    );
    assert.notEqual(rest.body.data[0].id, page.body.data[0].id);
    const patched = await api.call('PATCH', `/api/v1/projects/${p.id}`, {
      name: 'Guild 2',
      enforceCatalog: true,
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, 'Guild 2');
    assert.equal(patched.body.uid, 'guild-1');
    assert.equal(patched.body.enforceCatalog, true);
    assert.equal((await api.call('DELETE', `/api/v1/projects/${p.id}`)).status, 204);
    assertError(await api.call('GET', `/api/v1/projects/${p.id}`), 404, 'HERALD_ERR_NOT_FOUND');
  });

  test("the operator project's uid is reserved: no tenant can take it (and so receive every project's operational events)", async () => {
    for (const uid of ['herald-operator', 'Herald-Operator']) {
      assertError(await api.call('POST', '/api/v1/projects', { name: 'x', uid }), 400, undefined, 'body.uid');
    }
    const tenant = await api.project('zeta');
    const key = await api.apiKey(tenant.id);
    const renamed = await api.call(
      'PATCH',
      `/api/v1/projects/${tenant.id}`,
      { uid: 'herald-operator' },
      { token: key },
    );
    // A project key changes no uid at all (auth.test.ts): this one is refused for that first.
    assert.match(assertError(renamed, 403, 'HERALD_ERR_FORBIDDEN').message, /^body\.uid: /);
    assert.equal((await api.call('GET', '/api/v1/projects/herald-operator')).status, 404);
    // Herald's own project (created at start by operator-project.ts) keeps its uid through a PATCH.
    const own = await api.store.createProject(
      { name: 'Herald operator', uid: 'herald-operator' },
      Date.now(),
    );
    const patched = await api.call('PATCH', `/api/v1/projects/${own.id}`, {
      name: 'Ops',
      uid: 'herald-operator',
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.uid, 'herald-operator');
    // The admin may rename it away, and back.
    const away = await api.call('PATCH', `/api/v1/projects/${own.id}`, { uid: 'ops-2' });
    assert.equal(away.body.uid, 'ops-2');
    const back = await api.call('PATCH', `/api/v1/projects/${own.id}`, { uid: 'herald-operator' });
    assert.equal(back.status, 200, JSON.stringify(back.body));
  });

  test('projects: bad input names the field', async () => {
    assertError(await api.call('POST', '/api/v1/projects', {}), 400, 'HERALD_ERR_VALIDATION', 'body.name');
    assertError(await api.call('POST', '/api/v1/projects', { name: '' }), 400, undefined, 'body.name');
    assertError(
      await api.call('POST', '/api/v1/projects', { name: 'x', uid: 'has space' }),
      400,
      undefined,
      'body.uid',
    );
    assertError(
      await api.call('POST', '/api/v1/projects', { name: 'x', owner: 'me' }),
      400,
      undefined,
      'body.owner',
    );
    assertError(
      await api.call('POST', '/api/v1/projects', undefined, { raw: '[1,' }),
      400,
      'HERALD_ERR_MALFORMED_JSON',
    );
    assertError(await api.call('GET', '/api/v1/projects?limit=5000'), 400, undefined, 'querystring.limit');
    assertError(await api.call('GET', '/api/v1/nothing-here'), 404, 'HERALD_ERR_NOT_FOUND');
  });

  test('api keys: created once with hk_ key, listed without key material, deleted', async () => {
    const p = await api.project('keys');
    const created = await api.call('POST', `/api/v1/projects/${p.id}/api-keys`, { name: 'backend' });
    assert.equal(created.status, 201);
    assert.match(created.body.key, /^hk_/);
    assert.ok(created.body.id);
    const list = await api.call('GET', `/api/v1/projects/${p.id}/api-keys`);
    assert.equal(list.status, 200);
    assert.equal(list.body.data.length, 1);
    const listed = list.body.data[0];
    assert.equal(listed.id, created.body.id);
    assert.equal(listed.key, undefined);
    assert.equal(listed.keyHash, undefined);
    assert.ok(!JSON.stringify(list.body).includes(created.body.key));
    assertError(await api.call('POST', `/api/v1/projects/${p.id}/api-keys`, {}), 400, undefined, 'body.name');
    assert.equal((await api.call('DELETE', `/api/v1/projects/${p.id}/api-keys/${listed.id}`)).status, 204);
    assertError(await api.call('DELETE', `/api/v1/projects/${p.id}/api-keys/${listed.id}`), 404);
  });

  test('event types: PUT creates then updates, GET one and list, 404 unknown', async () => {
    const put = await api.call('PUT', '/api/v1/event-types/slot.submitted', {
      description: 'a slot',
      schema: { type: 'object' },
      example: { slot: 1 },
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.name, 'slot.submitted');
    assert.deepEqual(put.body.example, { slot: 1 });
    const upd = await api.call('PUT', '/api/v1/event-types/slot.submitted', { deprecated: true });
    assert.equal(upd.body.deprecated, true);
    const one = await api.call('GET', '/api/v1/event-types/slot.submitted');
    assert.equal(one.status, 200);
    assert.equal(one.body.deprecated, true);
    const list = await api.call('GET', '/api/v1/event-types');
    assert.ok(list.body.data.some((t: Body) => t.name === 'slot.submitted'));
    assertError(await api.call('GET', '/api/v1/event-types/nope'), 404);
    assertError(
      await api.call('PUT', '/api/v1/event-types/x', { deprecated: 'yes' }),
      400,
      undefined,
      'body.deprecated',
    );
    assertError(await api.call('PUT', '/api/v1/event-types/x', { schema: 5 }), 400, undefined, 'body.schema');
  });
});
