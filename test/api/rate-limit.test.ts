/**
 * API rate limiting per credential (src/api/rate-limit.ts): the real app on a real SQLite store,
 * through app.inject and once over real HTTP on a loopback port.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { newApiKey } from '../../src/api/auth.ts';
import { createPortalToken, derivePortalKey } from '../../src/dashboard/portal-token.ts';
import { ADMIN, announceLargeBody, assertError, startApi, type TestApi } from './helpers.ts';

const apis: TestApi[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});
async function api(max: number | null, windowMs = 60_000): Promise<TestApi> {
  const a = await startApi({ apiRateLimit: max === null ? null : { max, windowMs } });
  apis.push(a);
  return a;
}

describe('API rate limit', () => {
  test('over the limit: 429 with Retry-After and the usual error shape; headers count down', async () => {
    const a = await api(3);
    const remaining: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await a.call('GET', '/api/v1/projects');
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-ratelimit-limit'], '3');
      remaining.push(r.headers['x-ratelimit-remaining']);
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const refused = await a.call('POST', '/api/v1/projects', { name: 'too many' });
    const error = assertError(refused, 429, 'HERALD_ERR_RATE_LIMITED');
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${refused.headers['retry-after']}`);
    assert.equal(error.details.retryAfterSeconds, retryAfter);
    assert.equal(error.details.limit, 3);
    // Nothing was done: the refused request never reached its route.
    assert.equal((await a.store.listProjects({ limit: 10 })).data.length, 0);
    // Probes are never limited.
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const r = await a.call('GET', path, undefined, { token: null });
      assert.notEqual(r.status, 429, path);
    }
  });

  test('each credential has its own budget: admin, each project key, a portal link’s project', async () => {
    const a = await api(2);
    // Set up through the store: the API would spend the admin's budget.
    const p = await a.store.createProject({ name: 'one' }, Date.now());
    const q = await a.store.createProject({ name: 'two' }, Date.now());
    const key = async (projectId: string) => {
      const k = newApiKey();
      await a.store.createApiKey({ projectId, name: 'k', prefix: k.prefix, keyHash: k.keyHash }, Date.now());
      return k.key;
    };
    const [keyP, keyP2, keyQ] = [await key(p.id), await key(p.id), await key(q.id)];
    const portal = derivePortalKey(ADMIN);
    const [t1, t2] = [1, 2].map((i) =>
      createPortalToken(portal, { projectId: p.id, expiresAt: Date.now() + i * 3_600_000 }),
    );
    const status = async (url: string, token: string) =>
      (await a.call('GET', url, undefined, { token })).status;
    const P = `/api/v1/projects/${p.id}`;
    assert.deepEqual(
      [await status('/api/v1/projects', ADMIN), await status('/api/v1/projects', ADMIN)],
      [200, 200],
    );
    assert.equal(await status('/api/v1/projects', ADMIN), 429);
    assert.deepEqual([await status(P, keyP), await status(P, keyP), await status(P, keyP)], [200, 200, 429]);
    assert.deepEqual([await status(P, keyP2), await status(P, keyP2)], [200, 200], 'another key of p');
    assert.equal(await status(`/api/v1/projects/${q.id}`, keyQ), 200);
    // Two portal links of one project share that project's budget.
    assert.deepEqual(
      [await status(`${P}/events`, t1!), await status(`${P}/events`, t2!), await status(`${P}/events`, t1!)],
      [200, 200, 429],
    );
  });

  test('refused tokens count against the client address, which is then refused before any lookup', async () => {
    const a = await api(3);
    const inject = (token: string, remoteAddress: string) =>
      a.app.inject({
        method: 'GET',
        url: '/api/v1/projects',
        headers: { authorization: `Bearer ${token}` },
        remoteAddress,
      });
    for (let i = 0; i < 3; i++) assert.equal((await inject(`hk_guess${i}`, '10.0.0.7')).statusCode, 401);
    const blocked = await inject('hk_guess-more', '10.0.0.7');
    assert.equal(blocked.statusCode, 429);
    assert.equal(JSON.parse(blocked.body).error.code, 'HERALD_ERR_RATE_LIMITED');
    assert.ok(Number(blocked.headers['retry-after']) >= 1);
    // That address is refused even with a good token; other addresses are not.
    assert.equal((await inject(ADMIN, '10.0.0.7')).statusCode, 429);
    assert.equal((await inject(ADMIN, '10.0.0.8')).statusCode, 200);
    assert.equal((await inject('hk_nope', '10.0.0.8')).statusCode, 401);
  });

  test('behind a trusted proxy (HERALD_TRUST_PROXY) the client address is X-Forwarded-For: one client spending the failure budget does not lock out the others', async () => {
    const make = async (trustProxy: string[]) => {
      const a = await startApi({ apiRateLimit: { max: 3, windowMs: 60_000 }, trustProxy });
      apis.push(a);
      return (token: string, client: string, remoteAddress = '10.0.0.1') =>
        a.app.inject({
          method: 'GET',
          url: '/api/v1/projects',
          headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client },
          remoteAddress,
        });
    };
    const trusted = await make(['10.0.0.1/32']);
    for (let i = 0; i < 3; i++) assert.equal((await trusted(`hk_guess${i}`, '203.0.113.9')).statusCode, 401);
    assert.equal((await trusted(ADMIN, '203.0.113.9')).statusCode, 429, 'the guessing client is refused');
    assert.equal(
      (await trusted(ADMIN, '198.51.100.4')).statusCode,
      200,
      'another client behind the proxy is not',
    );
    // From an address that is not a trusted proxy, X-Forwarded-For is not believed.
    for (let i = 0; i < 3; i++) {
      assert.equal((await trusted(`hk_spoof${i}`, `192.0.2.${i}`, '10.0.0.99')).statusCode, 401);
    }
    assert.equal((await trusted(ADMIN, '192.0.2.200', '10.0.0.99')).statusCode, 429);
    // Without the setting every client behind the proxy is the proxy.
    const untrusted = await make([]);
    for (let i = 0; i < 3; i++)
      assert.equal((await untrusted(`hk_guess${i}`, '203.0.113.9')).statusCode, 401);
    assert.equal((await untrusted(ADMIN, '198.51.100.4')).statusCode, 429);
  });

  test('unauthenticated pages are limited by client address; the window ends', async () => {
    const a = await api(2, 1_000);
    const get = (remoteAddress: string) =>
      a.app.inject({ method: 'GET', url: '/openapi.json', remoteAddress });
    assert.equal((await get('10.0.0.1')).statusCode, 200);
    assert.equal((await get('10.0.0.1')).statusCode, 200);
    assert.equal((await get('10.0.0.1')).statusCode, 429);
    assert.equal((await get('10.0.0.2')).statusCode, 200);
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal((await get('10.0.0.1')).statusCode, 200, 'a new window');
  });

  test('HERALD_API_RATE_LIMIT=0 turns it off', async () => {
    const a = await api(null);
    for (let i = 0; i < 30; i++) {
      const r = await a.call('GET', '/api/v1/projects');
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-ratelimit-limit'], undefined);
    }
  });

  test('over real HTTP: 429, Retry-After and a JSON error body', async () => {
    const a = await api(1);
    await a.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = a.app.server.address() as AddressInfo;
    const get = () =>
      fetch(`http://127.0.0.1:${port}/api/v1/projects`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal((await get()).status, 200);
    const res = await get();
    assert.equal(res.status, 429);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'HERALD_ERR_RATE_LIMITED');
    assert.match(body.error.message, /retry in \d+ s/);
  });
  test('clients without a credential cannot reset a credential’s spent budget: 10,001 distinct addresses do not push it out of the limiter’s memory', async () => {
    const a = await api(3);
    for (let i = 0; i < 3; i++) assert.equal((await a.call('GET', '/api/v1/projects')).status, 200);
    assertError(await a.call('GET', '/api/v1/projects'), 429, 'HERALD_ERR_RATE_LIMITED');
    // 10,001 clients (a botnet, or one IPv6 host's many /64s) each ask for a page that needs no token.
    for (let i = 0; i <= 10_000; i++) {
      const remoteAddress = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const r = await a.app.inject({ method: 'GET', url: '/no-such-page', remoteAddress });
      assert.equal(r.statusCode, 404, remoteAddress);
    }
    assertError(await a.call('GET', '/api/v1/projects'), 429, 'HERALD_ERR_RATE_LIMITED');
  });
  test('a request refused 429 is not read: its connection is closed rather than its body drained', async () => {
    const a = await api(1);
    await a.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = a.app.server.address() as AddressInfo;
    assert.equal((await a.call('GET', '/api/v1/projects')).status, 200);
    // A 100 MB body is announced; only the headers and 1 MB are sent before the answer.
    const { answer, closed } = await announceLargeBody(
      port,
      `POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n` +
        'Content-Type: application/json\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 429 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    // Kept alive, the server went on reading whatever the client sent: 100 MB in ~1 s here.
    assert.ok(closed, 'the server closed the connection');
  });
});
