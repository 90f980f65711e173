/**
 * A project API key refused for its scope (403: a send-only key used to read, a read-only key to
 * change things) shows up in the log as wrong tokens do: a warning at most once per 10 s with the
 * number of refusals and the keys and routes they were most for, by key id and prefix, never the
 * key. They wrote nothing at any level before, so a leaked key probing could not be seen. A portal
 * link refused on a route it may not use is a line of its own the same way, by its project.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openStore } from '../../src/store/open-store.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const ADMIN = 'scope-refusal-log-admin-token-0123456789';

/** An API on SQLite whose log lines are kept, and a call with the admin token unless told. */
async function started(t: TestContext) {
  const { logger, lines } = capturedLogger('info');
  const store = await openStore('sqlite::memory:');
  const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_API_RATE_LIMIT: '0' } });
  const app = buildApp({ store, config, logger });
  t.after(async () => {
    await app.close();
    await store.close();
  });
  await app.ready();
  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    token = ADMIN,
    payload?: object,
  ) => {
    const r = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${token}` } });
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
  };
  return { lines, call };
}

test("403s for a key's scope are a warning at most once per 10 s, naming the key's id and prefix and the route, never the key", async (t) => {
  const { lines, call } = await started(t);
  const project = (await call('POST', '/api/v1/projects', ADMIN, { name: 'refusals' })).body;
  const keys = `/api/v1/projects/${project.id}/api-keys`;
  const send = (await call('POST', keys, ADMIN, { name: 'backend', scope: 'send' })).body;
  const read = (await call('POST', keys, ADMIN, { name: 'monitor', scope: 'read' })).body;
  const endpoint = (
    await call('POST', `/api/v1/projects/${project.id}/endpoints`, ADMIN, { url: 'https://r.example/h' })
  ).body;
  const events = `/api/v1/projects/${project.id}/events?limit=5&token=not-in-the-log`;

  assert.equal((await call('GET', events, send.key)).status, 403);
  const warned = () => lines.filter((l) => Number(l.level) >= 40) as Record<string, unknown>[];
  assert.equal(warned().length, 1, JSON.stringify(lines));
  const [first] = warned() as [Record<string, unknown>];
  assert.equal(first.scopeRefused, 1, 'the first refusal is logged at once');
  assert.deepEqual(first.topRefusals, [
    {
      keyId: send.id,
      prefix: send.prefix,
      projectId: project.id,
      scope: 'send',
      route: 'GET /api/v1/projects/:project/events',
      count: 1,
    },
  ]);
  assert.match(String(first.msg), /403/);

  // More within 10 s are counted, not written; requests the keys may make are neither.
  for (let i = 0; i < 30; i++) assert.equal((await call('GET', events, send.key)).status, 403);
  const secret = `/api/v1/projects/${project.id}/endpoints/${endpoint.id}/secret`;
  for (let i = 0; i < 10; i++) assert.equal((await call('GET', secret, read.key)).status, 403);
  assert.equal((await call('GET', events.replace('&token=not-in-the-log', ''), read.key)).status, 200);
  assert.equal(
    (await call('POST', `/api/v1/projects/${project.id}/events`, send.key, { type: 'a', payload: {} }))
      .status,
    202,
  );
  assert.equal(warned().length, 1);

  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 10_000 });
  assert.equal((await call('DELETE', `${keys}/${read.id}`, read.key)).status, 403);
  assert.equal(warned().length, 2, JSON.stringify(warned()));
  const second = warned()[1]!;
  assert.equal(second.scopeRefused, 41, '40 held back, and this one');
  assert.deepEqual(
    (second.topRefusals as { keyId: string; route: string; count: number }[]).map((r) => [
      r.keyId,
      r.route,
      r.count,
    ]),
    [
      [send.id, 'GET /api/v1/projects/:project/events', 30],
      [read.id, 'GET /api/v1/projects/:project/endpoints/:endpoint/secret', 10],
      [read.id, 'DELETE /api/v1/projects/:project/api-keys/:key', 1],
    ],
  );
  const all = JSON.stringify(lines);
  for (const key of [send.key, read.key]) {
    assert.ok(!all.includes(key), 'a key reached the log');
    assert.ok(
      !all.includes(key.slice(send.prefix.length)),
      'the part of a key past its prefix reached the log',
    );
  }
  assert.ok(!all.includes('not-in-the-log'), 'the query string reached the log');

  // A refused request still counts as the key's use (lastUsedAt): a leaked key probing what it
  // may not do is in use, and an operator checking the list must see it.
  const listed = (await call('GET', keys)).body.data as { id: string; lastUsedAt: string | null }[];
  assert.notEqual(listed.find((k) => k.id === read.id)?.lastUsedAt, null);
});

test('403s to a portal link on a route it may not use are a warning at most once per 10 s of their own, naming the project and the route, never the link', async (t) => {
  const { lines, call } = await started(t);
  const project = (await call('POST', '/api/v1/projects', ADMIN, { name: 'portal refusals' })).body;
  const base = `/api/v1/projects/${project.id}`;
  const portal = (await call('POST', `${base}/portal-links`, ADMIN, { expiresIn: 600 })).body.token as string;
  const send = (await call('POST', `${base}/api-keys`, ADMIN, { name: 'backend', scope: 'send' })).body;
  const warned = () => lines.filter((l) => Number(l.level) >= 40) as Record<string, unknown>[];
  const portalLines = () => warned().filter((l) => 'portalRefused' in l);

  assert.equal((await call('GET', `${base}/api-keys?token=not-in-the-log`, portal)).status, 403);
  assert.equal(portalLines().length, 1, JSON.stringify(lines));
  const [first] = portalLines() as [Record<string, unknown>];
  assert.equal(first.portalRefused, 1, 'the first refusal is logged at once');
  assert.deepEqual(first.topRefusals, [
    { projectId: project.id, route: 'GET /api/v1/projects/:project/api-keys', count: 1 },
  ]);
  assert.match(String(first.msg), /403/);
  assert.match(String(first.msg), /portal link/);

  // More within 10 s are counted, not written; what a portal link may do is neither. A key refused
  // for its scope meanwhile has its own line: the two are not throttled together.
  for (let i = 0; i < 20; i++) {
    assert.equal((await call('POST', `${base}/events`, portal, { type: 'a', payload: {} })).status, 403);
  }
  for (let i = 0; i < 5; i++) {
    assert.equal((await call('POST', `${base}/portal-links`, portal, { expiresIn: 60 })).status, 403);
  }
  assert.equal((await call('GET', '/api/v1/projects', portal)).status, 403);
  assert.equal((await call('GET', `${base}/endpoints`, portal)).status, 200);
  assert.equal((await call('GET', `${base}/events`, send.key)).status, 403);
  assert.equal(portalLines().length, 1);
  assert.equal(warned().length, 2, JSON.stringify(warned()));
  assert.equal(warned()[1]!.scopeRefused, 1, 'the key refused is its own line');

  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 10_000 });
  assert.equal((await call('DELETE', `${base}/portal-links`, portal)).status, 403);
  assert.equal(portalLines().length, 2, JSON.stringify(warned()));
  const second = portalLines()[1]!;
  assert.equal(second.portalRefused, 27, '26 held back, and this one');
  assert.equal(second.pairs, 4);
  assert.deepEqual(second.topRefusals, [
    { projectId: project.id, route: 'POST /api/v1/projects/:project/events', count: 20 },
    { projectId: project.id, route: 'POST /api/v1/projects/:project/portal-links', count: 5 },
    { projectId: project.id, route: 'GET /api/v1/projects', count: 1 },
    { projectId: project.id, route: 'DELETE /api/v1/projects/:project/portal-links', count: 1 },
  ]);
  const all = JSON.stringify(lines);
  assert.ok(!all.includes(portal), 'the portal link reached the log');
  for (const part of portal.split('.')) {
    assert.ok(part.length < 8 || !all.includes(part), `part of the portal link reached the log: ${part}`);
  }
  assert.ok(!all.includes('not-in-the-log'), 'the query string reached the log');
});

test('a project key on a route that needs the admin token is a line of its own saying so, not a refusal for its scope', async (t) => {
  const { lines, call } = await started(t);
  const project = (await call('POST', '/api/v1/projects', ADMIN, { name: 'admin only' })).body;
  const keys = `/api/v1/projects/${project.id}/api-keys`;
  const full = (await call('POST', keys, ADMIN, { name: 'ci', scope: 'full' })).body;
  const send = (await call('POST', keys, ADMIN, { name: 'backend', scope: 'send' })).body;
  const warned = () => lines.filter((l) => Number(l.level) >= 40) as Record<string, unknown>[];

  // A full key covers every scope: no other key would do, only the admin token.
  assert.equal((await call('GET', '/api/v1/projects', full.key)).status, 403);
  assert.equal(warned().length, 1, JSON.stringify(lines));
  const [first] = warned() as [Record<string, unknown>];
  assert.equal(first.adminOnlyRefused, 1);
  assert.equal(first.scopeRefused, undefined);
  assert.deepEqual(first.topRefusals, [
    {
      keyId: full.id,
      prefix: full.prefix,
      projectId: project.id,
      scope: 'full',
      route: 'GET /api/v1/projects',
      count: 1,
    },
  ]);
  assert.equal(
    first.msg,
    `requests answered 403 to a project API key on a route or field that needs the admin token: 1 since the last line, most by key ${full.id} (${full.prefix}…, scope full) on GET /api/v1/projects (logged at most once per 10 s)`,
  );

  // A key refused for its scope meanwhile is the scope's line, throttled apart from this one.
  assert.equal((await call('POST', '/api/v1/projects', send.key, { name: 'x' })).status, 403);
  assert.equal((await call('GET', `/api/v1/projects/${project.id}/events`, send.key)).status, 403);
  assert.equal(warned().length, 2, JSON.stringify(warned()));
  const scope = warned()[1]!;
  assert.equal(scope.scopeRefused, 1);
  assert.match(String(scope.msg), /^requests answered 403 for their API key's scope: 1 since the last line/);

  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 10_000 });
  assert.equal((await call('GET', '/api/v1/projects', full.key)).status, 403);
  assert.equal(warned().length, 3, JSON.stringify(warned()));
  assert.equal(warned()[2]!.adminOnlyRefused, 2, 'the send key on POST /api/v1/projects, and this one');
  assert.ok(!JSON.stringify(lines).includes(full.key), 'the key reached the log');
});

test("a project key refused the operator's fields of its project (backlogLimit, another uid) is logged as needing the admin token", async (t) => {
  const { lines, call } = await started(t);
  const project = (await call('POST', '/api/v1/projects', ADMIN, { name: 'limits', uid: 'limits' })).body;
  const full = (
    await call('POST', `/api/v1/projects/${project.id}/api-keys`, ADMIN, { name: 'ci', scope: 'full' })
  ).body;
  assert.ok(full.key, JSON.stringify(full));
  const url = `/api/v1/projects/${project.id}`;
  // What the key may do writes nothing: its own uid sent back, its name.
  assert.equal((await call('PATCH', url, full.key, { uid: 'limits', name: 'renamed' })).status, 200);
  const warned = () => lines.filter((l) => Number(l.level) >= 40) as Record<string, unknown>[];
  assert.equal(warned().length, 0, JSON.stringify(lines));

  const refused = await call('PATCH', url, full.key, { backlogLimit: 10 });
  assert.equal(refused.status, 403);
  assert.match(refused.body.error.message, /body\.backlogLimit/);
  assert.equal(warned().length, 1, JSON.stringify(lines));
  assert.equal(warned()[0]!.adminOnlyRefused, 1);
  assert.match(String(warned()[0]!.msg), /needs the admin token/);
  assert.deepEqual(warned()[0]!.topRefusals, [
    {
      keyId: full.id,
      prefix: full.prefix,
      projectId: project.id,
      scope: 'full',
      route: 'PATCH /api/v1/projects/:project',
      count: 1,
    },
  ]);
  assert.ok(!JSON.stringify(lines).includes(full.key), 'the key reached the log');

  t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 10_000 });
  assert.equal((await call('PATCH', url, full.key, { uid: 'someone-else' })).status, 403);
  assert.equal(warned().length, 2, JSON.stringify(lines));
  assert.equal(warned()[1]!.adminOnlyRefused, 1);
});
