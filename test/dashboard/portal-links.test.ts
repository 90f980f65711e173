/**
 * Portal links through the real API (buildApp, real SQLite store, app.inject): who may create them,
 * what they look like, and that a portal token acts like a project key limited to its project.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createPortalToken, derivePortalKey } from '../../src/dashboard/portal-token.ts';
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
    // The expiry is whole seconds from the server's clock, read after `started`: when a second
    // ticks over in between, the lifetime seen from `started` is up to the request's time over.
    const lifetime = Date.parse(body.expiresAt) - started;
    const elapsed = Date.now() - started;
    assert.ok(lifetime > 3_598_000 && lifetime <= 3_600_000 + elapsed, `lifetime ${lifetime}`);
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
