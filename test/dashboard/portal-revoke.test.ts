/**
 * Revoking a project's portal links (DELETE /api/v1/projects/:project/portal-links) through a real
 * server on a loopback port over a real SQLite file: links issued before are refused like expired
 * ones (401) everywhere, links made afterwards work, other projects' links are untouched, and only
 * the admin token or the project's own key may revoke. A second app over a second store on the same
 * database file stands for another Herald process; two more serve only the link route, with clocks a
 * minute ahead and a minute behind: a revocation does not depend on the processes' clocks agreeing.
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
import { createPortalToken, derivePortalKey } from '../../src/dashboard/portal-token.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { closeAnsweredConnections } from '../support/close-answered-connections.ts';

const ADMIN = 'portal-revoke-admin-token-0123456789';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read loosely in tests
type Body = any;

describe('DELETE /api/v1/projects/:project/portal-links', () => {
  let dir: string;
  const stores: Store[] = [];
  const apps: FastifyInstance[] = [];
  /** Base URLs of the two apps ("processes") sharing the database. */
  const bases: string[] = [];
  /** Base URLs of link routes ("processes") whose clocks run a minute ahead and a minute behind. */
  const skewed = { fast: '', slow: '' };
  const SKEW_MS = 60_000;
  let projectA: { id: string; uid: string };
  let projectB: { id: string };
  let keyA: string;
  let keyB: string;

  const call = async (
    token: string | null,
    method: string,
    path: string,
    body?: unknown,
    base = bases[0],
  ): Promise<{ status: number; body: Body }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await call(ADMIN, method, path, body);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const link = async (token: string, projectId: string): Promise<string> => {
    const r = await call(token, 'POST', `/api/v1/projects/${projectId}/portal-links`, { expiresIn: 600 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.token;
  };
  const revoke = (token: string, project: string) =>
    call(token, 'DELETE', `/api/v1/projects/${project}/portal-links`);
  /** Status of a portal read route, and of the installation-wide catalog, for `token`. */
  const reads = async (token: string, projectId: string, base = bases[0]) => [
    (await call(token, 'GET', `/api/v1/projects/${projectId}/endpoints`, undefined, base)).status,
    (await call(token, 'GET', '/api/v1/event-types', undefined, base)).status,
  ];
  /** Lets the clock move past the last link's issue time (iat is in milliseconds). */
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-portal-revoke-'));
    const config = loadConfig({
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_DATA_DIR: dir, HERALD_PUBLIC_URL: 'http://127.0.0.1' },
    });
    const url = `sqlite:${join(dir, 'herald.db')}`;
    for (let i = 0; i < 2; i++) {
      const store = await openStore(url);
      stores.push(store);
      const app = buildApp({ store, config });
      apps.push(app);
      await app.listen({ host: '127.0.0.1', port: 0 });
      bases.push(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    }
    for (const [name, offset] of [
      ['fast', SKEW_MS],
      ['slow', -SKEW_MS],
    ] as const) {
      const store = await openStore(url);
      stores.push(store);
      const app = Fastify();
      apps.push(app);
      await app.register(portalLinksRoute, {
        store,
        portalKey: derivePortalKey(ADMIN),
        publicUrl: 'http://127.0.0.1',
        callerOf: () => ({ kind: 'admin' }),
        now: () => Date.now() + offset,
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      skewed[name] = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    }
    projectA = await admin('POST', '/api/v1/projects', { name: 'A', uid: 'revoke-a' });
    projectB = await admin('POST', '/api/v1/projects', { name: 'B' });
    keyA = (await admin('POST', `/api/v1/projects/${projectA.id}/api-keys`, { name: 'a' })).key;
    keyB = (await admin('POST', `/api/v1/projects/${projectB.id}/api-keys`, { name: 'b' })).key;
  });

  after(async () => {
    for (const app of apps) {
      closeAnsweredConnections(app.server);
      await app.close();
    }
    for (const store of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the admin revokes: the project's links are refused (401, as expired) in every process; new links work; other projects' are untouched", async () => {
    const byAdmin = await link(ADMIN, projectA.id);
    const byKey = await link(keyA, projectA.id);
    const otherProject = await link(ADMIN, projectB.id);
    for (const token of [byAdmin, byKey]) {
      for (const base of bases) assert.deepEqual(await reads(token, projectA.id, base), [200, 200]);
    }
    await tick();

    assert.equal((await revoke(ADMIN, projectA.id)).status, 204);

    for (const token of [byAdmin, byKey]) {
      for (const base of bases) {
        assert.deepEqual(await reads(token, projectA.id, base), [401, 401], base);
        const r = await call(token, 'GET', `/api/v1/projects/${projectA.id}`, undefined, base);
        assert.equal(r.body.error.code, 'HERALD_ERR_UNAUTHORIZED');
      }
    }
    assert.deepEqual(await reads(otherProject, projectB.id), [200, 200], "another project's link");
    // Made after the revocation, by the admin or the project's key, in either process.
    await tick();
    const fresh = await link(ADMIN, projectA.id);
    const freshByKey = await link(keyA, projectA.id);
    for (const token of [fresh, freshByKey]) {
      for (const base of bases) assert.deepEqual(await reads(token, projectA.id, base), [200, 200]);
    }
    // The project's JSON does not show it.
    const project = await admin('GET', `/api/v1/projects/${projectA.id}`);
    assert.equal('portalLinksNotBefore' in project, false);
    assert.equal('portalLinksGeneration' in project, false);
  });

  test("the project's own key may revoke (by id or uid); another project's key gets 404 and revokes nothing", async () => {
    const before = await link(ADMIN, projectA.id);
    await tick();
    const other = await revoke(keyB, projectA.id);
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, 'HERALD_ERR_NOT_FOUND');
    assert.deepEqual(await reads(before, projectA.id), [200, 200]);

    assert.equal((await revoke(keyA, 'revoke-a')).status, 204);
    assert.deepEqual(await reads(before, projectA.id), [401, 401]);
    await tick();
    assert.deepEqual(await reads(await link(keyA, projectA.id), projectA.id), [200, 200]);
  });

  test('a portal token may not revoke (403, even with a body), and its link keeps working', async () => {
    const portal = await link(ADMIN, projectA.id);
    const r = await revoke(portal, projectA.id);
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'HERALD_ERR_FORBIDDEN');
    const withBody = await call(portal, 'DELETE', `/api/v1/projects/${projectA.id}/portal-links`, {
      junk: [1],
    });
    assert.equal(withBody.status, 403);
    // Another project's path: not there at all, as on every route.
    assert.equal((await revoke(portal, projectB.id)).status, 404);
    assert.deepEqual(await reads(portal, projectA.id), [200, 200]);
  });

  test('strangers get 401, an unknown project 404', async () => {
    assert.equal((await revoke('hk_wrong', projectA.id)).status, 401);
    assert.equal((await call(null, 'DELETE', `/api/v1/projects/${projectA.id}/portal-links`)).status, 401);
    assert.equal((await revoke(ADMIN, 'prj_missing')).status, 404);
  });

  test('a link made by a process whose clock runs ahead (iat in the future) is refused after a revocation; one made after by a process whose clock is behind works', async () => {
    const project = await admin('POST', '/api/v1/projects', { name: 'skew' });
    const linkAt = async (base: string) => {
      const r = await call(ADMIN, 'POST', `/api/v1/projects/${project.id}/portal-links`, {}, base);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.token as string;
    };
    const iatOf = (token: string) =>
      JSON.parse(Buffer.from(token.slice(4).split('.')[0]!, 'base64url').toString('utf8')).iat as number;
    const ahead = await linkAt(skewed.fast);
    assert.ok(iatOf(ahead) > Date.now() + SKEW_MS / 2, 'issued "in the future"');
    // The same, made directly with the server's key: a future iat and the project's generation.
    const generation = (await stores[0]!.getProject(project.id))!.portalLinksGeneration;
    const direct = createPortalToken(derivePortalKey(ADMIN), {
      projectId: project.id,
      expiresAt: Date.now() + 600_000,
      issuedAt: Date.now() + SKEW_MS,
      generation,
    });
    for (const token of [ahead, direct]) {
      for (const base of bases) assert.deepEqual(await reads(token, project.id, base), [200, 200]);
    }

    const revokedAt = Date.now();
    assert.equal((await revoke(ADMIN, project.id)).status, 204);

    for (const token of [ahead, direct]) {
      for (const base of bases) assert.deepEqual(await reads(token, project.id, base), [401, 401], base);
    }
    // Made after the revocation: works whatever the clock of the process that made it, at once,
    // even "issued" before the revocation by the clock of the process whose clock is behind.
    for (const base of [skewed.fast, skewed.slow, bases[0]!]) {
      const fresh = await linkAt(base);
      if (base === skewed.slow) assert.ok(iatOf(fresh) < revokedAt, 'issued "in the past"');
      for (const b of bases) assert.deepEqual(await reads(fresh, project.id, b), [200, 200], base);
    }
  });

  test('a link without a generation (made before links carried one) follows its issue time', async () => {
    const project = await admin('POST', '/api/v1/projects', { name: 'legacy-iat' });
    const key = derivePortalKey(ADMIN);
    const legacy = (issuedAt: number) =>
      createPortalToken(key, { projectId: project.id, expiresAt: Date.now() + 600_000, issuedAt });
    const before = legacy(Date.now());
    assert.deepEqual(await reads(before, project.id), [200, 200]);
    await tick();
    assert.equal((await revoke(ADMIN, project.id)).status, 204);
    await tick();
    for (const base of bases) assert.deepEqual(await reads(before, project.id, base), [401, 401], base);
    // Issued after the revocation (by this process's clock): accepted, as before links carried one.
    assert.deepEqual(await reads(legacy(Date.now()), project.id), [200, 200]);
    assert.deepEqual(await reads(legacy(Date.now() - 60_000), project.id), [401, 401]);
  });

  test('a link from before tokens carried their issue time is ended by a revocation too', async () => {
    const key = derivePortalKey(ADMIN);
    const legacy = () => createPortalToken(key, { projectId: projectB.id, expiresAt: Date.now() + 600_000 });
    const old = legacy();
    assert.deepEqual(await reads(old, projectB.id), [200, 200], 'accepted while nothing was revoked');
    assert.equal((await revoke(ADMIN, projectB.id)).status, 204);
    assert.deepEqual(await reads(old, projectB.id), [401, 401]);
    assert.deepEqual(
      await reads(legacy(), projectB.id),
      [401, 401],
      'none without an issue time works after',
    );
  });
});
