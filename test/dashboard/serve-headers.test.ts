/**
 * The dashboard's security headers on every answer that serves its files, however the URL is spelled
 * (security report, finding 3: a query string or a percent-encoded /ui reached the same files
 * without them). A real server on a real socket: the request line is sent exactly as written.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { dashboardPlugin, xFrameOptions } from '../../src/dashboard/serve.ts';

const INDEX = '<!doctype html><title>Herald</title><div id="app"></div>';

/** GET with the path sent verbatim in the request line. */
function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard security headers, whatever the URL spelling', () => {
  let dir: string;
  let app: FastifyInstance;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-ui-headers-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = Fastify();
    await app.register(dashboardPlugin, { distDir: dir });
    app.get('/api/v1/ping', async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the tester’s spellings get the CSP, nosniff, Referrer-Policy and X-Frame-Options', async () => {
    for (const path of [
      '/ui',
      '/ui?x=1',
      '/ui/?x=1',
      '/%75i',
      '/u%69/',
      '/%75%69/portal',
      '/ui/assets/index-abc123.js',
      '/%75i/assets/index-abc123.js',
      '/ui/assets/index-abc123.js?v=2',
    ]) {
      const response = await get(port, path);
      assert.equal(response.status, 200, path);
      assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'self'/, path);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', path);
      assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN', path);
    }
  });

  test('routes outside the dashboard are left alone', async () => {
    const response = await get(port, '/api/v1/ping?ui=1');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-security-policy'], undefined);
    assert.equal(response.headers['x-frame-options'], undefined);
  });

  test('a platform allowed to frame the portal cannot frame the operator’s pages', async () => {
    const framed = Fastify();
    const onlyPlatform = Fastify();
    await framed.register(dashboardPlugin, {
      distDir: dir,
      frameAncestors: ["'self'", 'https://app.example.com'],
    });
    await onlyPlatform.register(dashboardPlugin, {
      distDir: dir,
      frameAncestors: ['https://app.example.com'],
    });
    try {
      const ports = [];
      for (const server of [framed, onlyPlatform]) {
        await server.listen({ host: '127.0.0.1', port: 0 });
        ports.push((server.server.address() as AddressInfo).port);
      }
      const [framedPort, onlyPlatformPort] = ports as [number, number];
      const framing = async (port: number, path: string) => {
        const response = await get(port, path);
        // 404 for a path that tries to leave the build (`portal/../projects`): headers all the same.
        assert.ok(response.status === 200 || response.status === 404, `${path}: ${response.status}`);
        const csp = String(response.headers['content-security-policy']);
        return [/frame-ancestors ([^;]*)/.exec(csp)?.[1], response.headers['x-frame-options']];
      };
      for (const path of [
        '/ui/portal',
        '/ui/portal?x=1',
        '/ui/portal/',
        '/ui/portal/endpoints/ep_1/history',
      ]) {
        assert.deepEqual(
          await framing(framedPort, path),
          ["'self' https://app.example.com", undefined],
          path,
        );
        assert.deepEqual(await framing(onlyPlatformPort, path), ['https://app.example.com', undefined], path);
      }
      // The app shows the operator's screens (or its sign-in) on every other spelling.
      for (const path of [
        '/ui',
        '/ui/',
        '/ui/projects/prj_1/endpoints',
        '/ui/catalog?portal=1',
        '/ui/%70ortal',
        '/ui/portal%2f..%2fprojects',
        '/ui/portals',
        '/%75i/portal',
        '/ui/assets/index-abc123.js',
      ]) {
        assert.deepEqual(await framing(framedPort, path), ["'self'", 'SAMEORIGIN'], path);
        assert.deepEqual(await framing(onlyPlatformPort, path), ["'none'", 'DENY'], path);
      }
    } finally {
      await framed.close();
      await onlyPlatform.close();
    }
  });

  test('X-Frame-Options only when it can say what frame-ancestors says', () => {
    assert.equal(xFrameOptions(), 'SAMEORIGIN');
    assert.equal(xFrameOptions(["'self'"]), 'SAMEORIGIN');
    assert.equal(xFrameOptions([]), 'DENY');
    assert.equal(xFrameOptions(["'none'"]), 'DENY');
    assert.equal(xFrameOptions(["'self'", 'https://app.example.com']), null);
    assert.equal(xFrameOptions(['https://app.example.com']), null);
  });
});
