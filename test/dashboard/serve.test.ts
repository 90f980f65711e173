import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { contentSecurityPolicy, dashboardPlugin } from '../../src/dashboard/serve.ts';

const INDEX = '<!doctype html><title>Herald</title><div id="app"></div>';

describe('dashboard plugin', () => {
  let dir: string;
  let app: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-ui-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(dir, '.secret'), 'nope');
    app = Fastify();
    await app.register(dashboardPlugin, {
      distDir: dir,
      frameAncestors: ["'self'", 'https://customer.example.com'],
    });
    app.get('/api/v1/ping', async () => ({ ok: true }));
    await app.ready();
  });

  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/ui and /ui/ answer index.html, never cached without revalidation', async () => {
    for (const url of ['/ui', '/ui/']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.body, INDEX);
      assert.match(String(response.headers['content-type']), /text\/html/);
      assert.equal(response.headers['cache-control'], 'no-cache');
    }
  });

  test('app paths fall back to index.html (deep links and reloads work)', async () => {
    for (const url of [
      '/ui/projects/prj_1/endpoints/ep_1/history?status=failed',
      '/ui/portal',
      '/ui/catalog',
    ]) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.body, INDEX);
    }
  });

  test('hashed assets are served with an immutable cache', async () => {
    const response = await app.inject({ url: '/ui/assets/index-abc123.js' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, 'console.log(1)');
    assert.match(String(response.headers['content-type']), /javascript/);
    assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  test('a missing asset is a 404, not index.html', async () => {
    for (const url of ['/ui/assets/index-old.js', '/ui/missing.png']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 404, url);
      assert.notEqual(response.body, INDEX);
    }
  });

  test('dotfiles and traversal are never served', async () => {
    for (const url of [
      '/ui/.secret',
      '/ui/../package.json',
      '/ui/assets/..%2f..%2fpackage.json',
      '/ui/%2e%2e/x.js',
    ]) {
      const response = await app.inject({ url });
      assert.ok(!response.body.includes('nope'), url);
      assert.ok(!response.body.includes('"name"'), url);
    }
  });

  test('every /ui answer carries the CSP: the configured frame-ancestors on the portal, self elsewhere', async () => {
    for (const [url, ancestors] of [
      ['/ui/portal', "'self' https://customer.example.com"],
      ['/ui/portal/events', "'self' https://customer.example.com"],
      ['/ui', "'self'"],
      ['/ui/assets/index-abc123.js', "'self'"],
      ['/ui/favicon.svg', "'self'"],
    ]) {
      const response = await app.inject({ url });
      const csp = String(response.headers['content-security-policy']);
      assert.equal(/frame-ancestors ([^;]*)/.exec(csp)?.[1], ancestors, url);
      assert.match(csp, /script-src 'self'/);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('routes outside /ui are left alone', async () => {
    const response = await app.inject({ url: '/api/v1/ping' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-security-policy'], undefined);
  });
});

describe('dashboard plugin without a build', () => {
  test('answers 503 with instructions, then serves the build once it appears (no restart)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-ui-empty-'));
    const app = Fastify();
    try {
      await app.register(dashboardPlugin, { distDir: dir });
      const missing = await app.inject({ url: '/ui/projects' });
      assert.equal(missing.statusCode, 503);
      assert.match(missing.body, /npm run build:ui/);
      assert.match(String(missing.headers['content-security-policy']), /frame-ancestors 'self'/);

      writeFileSync(join(dir, 'index.html'), INDEX);
      const built = await app.inject({ url: '/ui/projects' });
      assert.equal(built.statusCode, 200);
      assert.equal(built.body, INDEX);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a relative distDir is refused at registration', async () => {
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(dashboardPlugin, { distDir: 'dist/dashboard' });
      await app.ready();
    }, /absolute/);
    await app.close();
  });
});

describe('contentSecurityPolicy', () => {
  test('an empty ancestor list forbids framing entirely', () => {
    assert.match(contentSecurityPolicy([]), /frame-ancestors 'none'/);
  });

  test('a source that would inject another directive is refused', () => {
    for (const bad of ["'self'; script-src *", 'https://a.example.com,https://b', 'a b', '']) {
      assert.throws(() => contentSecurityPolicy([bad]), /frame-ancestors/, bad);
    }
  });

  test('hosts, wildcards and schemes are accepted', () => {
    const csp = contentSecurityPolicy(['https://*.example.com', 'http://localhost:3000', 'https:']);
    assert.match(csp, /frame-ancestors https:\/\/\*\.example\.com http:\/\/localhost:3000 https:/);
  });
});
