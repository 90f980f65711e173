/**
 * A project API key refused for its scope (403: a send-only key used to read, a read-only key to
 * change things) shows up in the log as wrong tokens do: a warning at most once per 10 s with the
 * number of refusals and the keys and routes they were most for, by key id and prefix, never the
 * key. They wrote nothing at any level before, so a leaked key probing could not be seen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openStore } from '../../src/store/open-store.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const ADMIN = 'scope-refusal-log-admin-token-0123456789';

test("403s for a key's scope are a warning at most once per 10 s, naming the key's id and prefix and the route, never the key", async (t) => {
  const { logger, lines } = capturedLogger('info');
  const store = await openStore('sqlite::memory:');
  const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_API_RATE_LIMIT: '0' } });
  const app = buildApp({ store, config, logger });
  await app.ready();
  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, token = ADMIN, payload?: object) => {
    const r = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${token}` } });
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null, text: r.body };
  };
  try {
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
  } finally {
    await app.close();
    await store.close();
  }
});
