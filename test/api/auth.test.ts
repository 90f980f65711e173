/** Who may do what: admin token, project keys, no token, a wrong token. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, assertError, type Body, startApi, type TestApi } from './helpers.ts';

describe('API auth', () => {
  let api: TestApi;
  let a: Body;
  let b: Body;
  let keyA: string;
  let endpointB: Body;

  before(async () => {
    api = await startApi();
    a = await api.project('A', { uid: 'game-a' });
    b = await api.project('B');
    keyA = await api.apiKey(a.id);
    endpointB = (await api.call('POST', `/api/v1/projects/${b.id}/endpoints`, { url: 'https://b.example/h' }))
      .body;
  });
  after(() => api.close());

  test('no token and a wrong token answer 401', async () => {
    for (const token of [null, 'wrong', 'hk_wrong', `${ADMIN}x`, '']) {
      const r = await api.call('GET', `/api/v1/projects/${a.id}`, undefined, { token });
      assertError(r, 401, 'HERALD_ERR_UNAUTHORIZED');
    }
    const basic = await api.call('GET', '/api/v1/projects', undefined, {
      token: null,
      headers: { authorization: `Basic ${Buffer.from(`x:${ADMIN}`).toString('base64')}` },
    });
    assertError(basic, 401);
    // The scheme name is case-insensitive (RFC 9110).
    for (const scheme of ['bearer', 'BEARER']) {
      const r = await api.call('GET', '/api/v1/projects', undefined, {
        token: null,
        headers: { authorization: `${scheme} ${ADMIN}` },
      });
      assert.equal(r.status, 200, scheme);
    }
  });

  test('a stranger is refused before the body is read', async () => {
    const r = await api.call('POST', `/api/v1/projects/${a.id}/events`, undefined, {
      token: null,
      raw: '{not json',
    });
    assertError(r, 401);
  });

  test('a project key works on its own project, by id or uid', async () => {
    assert.equal((await api.call('GET', `/api/v1/projects/${a.id}`, undefined, { token: keyA })).status, 200);
    const byUid = await api.call('GET', '/api/v1/projects/game-a', undefined, { token: keyA });
    assert.equal(byUid.status, 200);
    assert.equal(byUid.body.id, a.id);
    const sent = await api.call(
      'POST',
      '/api/v1/projects/game-a/events',
      { type: 't', payload: {} },
      { token: keyA },
    );
    assert.equal(sent.status, 202);
  });

  test('a project key on another project answers 404, whatever the route or body', async () => {
    const P = `/api/v1/projects/${b.id}`;
    const routes: [string, string, unknown?][] = [
      ['GET', P],
      ['PATCH', P, { name: 'x' }],
      ['GET', `${P}/endpoints`],
      ['GET', `${P}/endpoints/${endpointB.id}`],
      ['GET', `${P}/endpoints/${endpointB.id}/secret`],
      ['POST', `${P}/endpoints/${endpointB.id}/secret/rotate`, {}],
      ['POST', `${P}/events`, { type: 't', payload: {} }],
      ['POST', `${P}/events`, { bad: true }],
      ['GET', `${P}/events`],
      ['GET', `${P}/api-keys`],
      ['POST', `${P}/api-keys`, { name: 'steal' }],
      ['GET', `${P}/operational-events`],
    ];
    for (const [method, url, body] of routes) {
      const r = await api.call(method, url, body, { token: keyA });
      assertError(r, 404, 'HERALD_ERR_NOT_FOUND');
    }
  });

  test("a project's filters find nothing of another project: ?endpoint, ?idempotencyKey, for keys and links", async () => {
    // B has an operational event about its endpoint and an event sent with a key.
    const disabled = await api.call('PATCH', `/api/v1/projects/${b.id}/endpoints/${endpointB.id}`, {
      active: false,
    });
    assert.equal(disabled.status, 200, disabled.text);
    const sent = await api.call('POST', `/api/v1/projects/${b.id}/events`, {
      type: 't',
      payload: {},
      idempotencyKey: 'order-of-b',
    });
    assert.equal(sent.status, 202, sent.text);
    const P = `/api/v1/projects/${b.id}`;
    for (const url of [
      `${P}/operational-events?endpoint=${endpointB.id}`,
      `${P}/events?idempotencyKey=order-of-b`,
    ]) {
      assert.equal((await api.call('GET', url)).body.data.length, 1, url);
    }
    const read = await api.call('POST', `/api/v1/projects/${a.id}/api-keys`, {
      name: 'reader',
      scope: 'read',
    });
    const link = await api.call('POST', `/api/v1/projects/${a.id}/portal-links`, {});
    assert.equal(link.status, 201, link.text);
    const A = `/api/v1/projects/${a.id}`;
    for (const token of [keyA, read.body.key, link.body.token]) {
      for (const url of [
        `${A}/operational-events?endpoint=${endpointB.id}`,
        `${A}/events?idempotencyKey=order-of-b`,
      ]) {
        const r = await api.call('GET', url, undefined, { token });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, { data: [], nextCursor: null }, url);
      }
    }
  });

  test('a project key on operator routes answers 403', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/v1/projects'],
      ['POST', '/api/v1/projects', { name: 'mine' }],
      ['POST', '/api/v1/projects', { invalid: true }],
      ['PUT', '/api/v1/event-types/x.y', { description: 'd' }],
      ['DELETE', `/api/v1/projects/${a.id}`],
    ];
    for (const [method, url, body] of routes) {
      const r = await api.call(method, url, body, { token: keyA });
      assertError(r, 403, 'HERALD_ERR_FORBIDDEN');
    }
    // The catalog is readable by everyone authenticated.
    assert.equal((await api.call('GET', '/api/v1/event-types', undefined, { token: keyA })).status, 200);
  });

  test("a project key cannot learn which uids other projects hold: a project's uid is the admin's to change", async () => {
    await api.project('C', { uid: 'game-c' });
    // A taken uid and a free one answer alike (a 409 for the taken one said another project exists).
    for (const uid of ['game-c', 'GAME-C', 'no-such-uid', null]) {
      const r = await api.call('PATCH', `/api/v1/projects/${a.id}`, { uid }, { token: keyA });
      assertError(r, 403, 'HERALD_ERR_FORBIDDEN');
      assert.match(r.body.error.message, /^body\.uid: /);
    }
    assert.equal((await api.call('GET', `/api/v1/projects/${a.id}`)).body.uid, 'game-a');
    // Sending its own uid back (a client PATCHing the project it read) changes nothing and passes.
    const same = await api.call(
      'PATCH',
      '/api/v1/projects/game-a',
      { uid: 'game-a', name: 'A2' },
      { token: keyA },
    );
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(same.body.name, 'A2');
    // The admin still changes it, and is told when it is taken.
    assertError(
      await api.call('PATCH', `/api/v1/projects/${a.id}`, { uid: 'game-c' }),
      409,
      'HERALD_ERR_CONFLICT',
    );
    const renamed = await api.call('PATCH', `/api/v1/projects/${a.id}`, { uid: 'game-a2' });
    assert.equal(renamed.body.uid, 'game-a2');
    assert.equal(
      (await api.call('PATCH', `/api/v1/projects/${a.id}`, { uid: 'game-a', name: 'A' })).status,
      200,
    );
  });

  test('a deleted key stops working', async () => {
    const key = await api.apiKey(a.id);
    const list = await api.call('GET', `/api/v1/projects/${a.id}/api-keys`);
    const stored = list.body.data.find((k: Body) => key.startsWith(k.prefix));
    assert.ok(stored);
    assert.equal((await api.call('DELETE', `/api/v1/projects/${a.id}/api-keys/${stored.id}`)).status, 204);
    assertError(await api.call('GET', `/api/v1/projects/${a.id}`, undefined, { token: key }), 401);
  });
});
