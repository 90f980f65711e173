/**
 * Portal links through the real API (buildApp, real SQLite store, app.inject): who may create them,
 * what they look like, and that a portal token acts like a project key limited to its project.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { portalLinksRoute } from '../../src/dashboard/portal-links-route.ts';
import { createPortalToken, derivePortalKey, verifyPortalToken } from '../../src/dashboard/portal-token.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

const ADMIN = 'portal-links-admin-token-0123456789';

describe('POST /api/v1/projects/:project/portal-links', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let projectA: { id: string; uid: string };
  let projectB: { id: string };
  let keyA: string;

  const call = async (token: string, method: 'GET' | 'POST', url: string, body?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : null };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-portal-'));
    const config = loadConfig({
      env: {
        HERALD_ADMIN_TOKEN: ADMIN,
        HERALD_DATA_DIR: dir,
        HERALD_PUBLIC_URL: 'https://hooks.example.com/',
      },
    });
    store = await openStore('sqlite::memory:');
    app = buildApp({ store, config });
    await app.ready();
    projectA = (await call(ADMIN, 'POST', '/api/v1/projects', { name: 'A', uid: 'game-a' })).body;
    projectB = (await call(ADMIN, 'POST', '/api/v1/projects', { name: 'B' })).body;
    keyA = (await call(ADMIN, 'POST', `/api/v1/projects/${projectA.id}/api-keys`, { name: 'backend' })).body
      .key;
    assert.ok(projectA.id && projectB.id && keyA);
  });

  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the admin gets a link on the public URL, valid for an hour by default', async () => {
    const started = Date.now();
    const { status, body } = await call(ADMIN, 'POST', `/api/v1/projects/${projectA.id}/portal-links`, {});
    assert.equal(status, 201);
    assert.match(body.token, /^hpt_/);
    assert.equal(body.url, `https://hooks.example.com/ui/portal#token=${body.token}`);
    assert.equal(body.projectId, projectA.id);
    // The expiry is whole seconds from the server's clock, rounded up, read after `started`: at
    // least the hour asked for, and less than a second (plus the request's time) over.
    const lifetime = Date.parse(body.expiresAt) - started;
    const elapsed = Date.now() - started;
    assert.ok(lifetime >= 3_600_000 && lifetime < 3_601_000 + elapsed, `lifetime ${lifetime}`);
  });

  test('the project may be named by uid; the link is for its id', async () => {
    const { status, body } = await call(ADMIN, 'POST', '/api/v1/projects/game-a/portal-links', {
      expiresIn: 60,
    });
    assert.equal(status, 201);
    assert.equal(body.projectId, projectA.id);
  });

  test('a project key creates links for its own project only (another project is not found)', async () => {
    assert.equal(
      (await call(keyA, 'POST', `/api/v1/projects/${projectA.id}/portal-links`, { expiresIn: 600 })).status,
      201,
    );
    assert.equal((await call(keyA, 'POST', `/api/v1/projects/${projectB.id}/portal-links`, {})).status, 404);
  });

  test('no token, a wrong token, or an unknown project', async () => {
    const anonymous = await app.inject({
      method: 'POST',
      url: `/api/v1/projects/${projectA.id}/portal-links`,
    });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(
      (await call('hk_wrong', 'POST', `/api/v1/projects/${projectA.id}/portal-links`, {})).status,
      401,
    );
    assert.equal((await call(ADMIN, 'POST', '/api/v1/projects/prj_missing/portal-links', {})).status, 404);
  });

  test('expiresIn must be whole seconds within 7 days', async () => {
    for (const expiresIn of [0, -5, 1.5, 7 * 24 * 3600 + 1, 'soon']) {
      const { status, body } = await call(ADMIN, 'POST', `/api/v1/projects/${projectA.id}/portal-links`, {
        expiresIn,
      });
      assert.equal(status, 400, String(expiresIn));
      assert.equal(body.error.code, 'HERALD_ERR_VALIDATION');
    }
    const week = await call(ADMIN, 'POST', `/api/v1/projects/${projectA.id}/portal-links`, {
      expiresIn: 7 * 24 * 3600,
    });
    assert.equal(week.status, 201);
  });

  test('a portal token acts on its own project only, and cannot mint links or keys', async () => {
    const { body } = await call(ADMIN, 'POST', `/api/v1/projects/${projectA.id}/portal-links`, {});
    const portal: string = body.token;
    assert.equal((await call(portal, 'GET', `/api/v1/projects/${projectA.id}`)).status, 200);
    assert.equal((await call(portal, 'GET', `/api/v1/projects/${projectA.id}/endpoints`)).status, 200);
    const created = await call(portal, 'POST', `/api/v1/projects/${projectA.id}/endpoints`, {
      url: 'https://receiver.example.com/hook',
    });
    assert.equal(created.status, 201);
    assert.equal((await call(portal, 'GET', `/api/v1/projects/${projectB.id}/endpoints`)).status, 404);
    assert.ok((await call(portal, 'GET', '/api/v1/projects')).status >= 400);
    assert.equal(
      (await call(portal, 'POST', `/api/v1/projects/${projectA.id}/portal-links`, {})).status,
      403,
    );
    assert.ok(
      (await call(portal, 'POST', `/api/v1/projects/${projectA.id}/api-keys`, { name: 'x' })).status >= 400,
    );
  });

  test('an expired or foreign-signed portal token is refused', async () => {
    const expired = createPortalToken(derivePortalKey(ADMIN), {
      projectId: projectA.id,
      expiresAt: Date.now() - 1000,
    });
    assert.equal((await call(expired, 'GET', `/api/v1/projects/${projectA.id}`)).status, 401);
    const foreign = createPortalToken(derivePortalKey('another-installation-token'), {
      projectId: projectA.id,
      expiresAt: Date.now() + 60_000,
    });
    assert.equal((await call(foreign, 'GET', `/api/v1/projects/${projectA.id}`)).status, 401);
  });
});

describe('portal link lifetime', () => {
  let store: Store;
  let app: FastifyInstance;
  let clock = 0;
  const key = derivePortalKey(ADMIN);

  before(async () => {
    store = await openStore('sqlite::memory:');
    app = Fastify();
    await app.register(portalLinksRoute, {
      store,
      portalKey: key,
      publicUrl: 'http://127.0.0.1',
      callerOf: () => ({ kind: 'admin' }),
      now: () => clock,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app.close();
    await store.close();
  });

  test('a link lives at least expiresIn seconds, never less (a 1 s link was refused at first use)', async () => {
    const project = await store.createProject({ name: 'lifetime' }, Date.now());
    const port = (app.server.address() as AddressInfo).port;
    for (const [at, expiresIn] of [
      [Date.UTC(2030, 0, 1, 0, 0, 0, 999), 1],
      [Date.UTC(2030, 0, 1, 0, 0, 0, 1), 1],
      [Date.UTC(2030, 0, 1, 0, 0, 0, 0), 60],
      [Date.UTC(2030, 0, 1, 0, 0, 0, 500), 7 * 24 * 3600],
    ] as const) {
      clock = at;
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/projects/${project.id}/portal-links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ expiresIn }),
      });
      assert.equal(response.status, 201);
      const body = (await response.json()) as { token: string; expiresAt: string };
      const expiresAt = Date.parse(body.expiresAt);
      assert.ok(expiresAt >= at + expiresIn * 1000, `${at} + ${expiresIn}s: ${body.expiresAt}`);
      assert.ok(expiresAt < at + expiresIn * 1000 + 1000, `${at} + ${expiresIn}s: ${body.expiresAt}`);
      // Usable until the last millisecond of what was asked.
      assert.equal(verifyPortalToken(body.token, key, at + expiresIn * 1000 - 1).ok, true);
    }
  });
});
