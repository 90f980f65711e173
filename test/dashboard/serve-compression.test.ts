/**
 * The dashboard's files go out compressed to browsers that accept it (newcomer report: /ui assets
 * were served without compression, and README's "~27 KB gzipped" was not what a build weighs).
 * The build writes .br/.gz copies (precompress.ts); serve.ts picks one by Accept-Encoding.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { build } from 'vite';
import { precompressDir } from '../../src/dashboard/precompress.ts';
import { dashboardPlugin } from '../../src/dashboard/serve.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const INDEX = `<!doctype html><title>Herald</title><div id="app"></div>${'<!-- padding -->'.repeat(20)}`;
const SCRIPT = Array.from({ length: 400 }, (_, i) => `export const value${i} = ${i} * 2;`).join('\n');

const varies = (headers: Record<string, unknown>) =>
  String(headers['vary'] ?? '')
    .toLowerCase()
    .split(/\s*,\s*/)
    .includes('accept-encoding');

describe('dashboard files, compressed when the browser accepts it', () => {
  let dir: string;
  let app: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-ui-compress-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), SCRIPT);
    writeFileSync(join(dir, 'assets', 'tiny-abc123.css'), 'a{}');
    writeFileSync(join(dir, 'assets', 'logo-abc123.png'), Buffer.alloc(4096));
    await precompressDir(dir);
    app = Fastify();
    await app.register(dashboardPlugin, { distDir: dir });
    await app.ready();
  });

  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('precompression writes .br and .gz beside text files, only where they are smaller', () => {
    assert.ok(existsSync(join(dir, 'assets', 'index-abc123.js.br')));
    assert.ok(existsSync(join(dir, 'assets', 'index-abc123.js.gz')));
    assert.ok(existsSync(join(dir, 'index.html.gz')));
    // Three bytes do not get smaller; a PNG is not text.
    assert.ok(!existsSync(join(dir, 'assets', 'tiny-abc123.css.gz')));
    assert.ok(!existsSync(join(dir, 'assets', 'logo-abc123.png.gz')));
  });

  test('brotli first, gzip next, identity for a client that asks for neither; Vary on each', async () => {
    const url = '/ui/assets/index-abc123.js';
    const br = await app.inject({ url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(br.statusCode, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.rawPayload).toString(), SCRIPT);
    assert.ok(br.rawPayload.length < SCRIPT.length / 3);

    const gz = await app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.rawPayload).toString(), SCRIPT);

    const plain = await app.inject({ url });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body, SCRIPT);

    for (const response of [br, gz, plain]) {
      assert.ok(varies(response.headers), String(response.headers['vary']));
      assert.match(String(response.headers['content-type']), /javascript/);
      assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.match(String(response.headers['content-security-policy']), /script-src 'self'/);
    }
  });

  test('each encoding has its own ETag, and a conditional request answers 304', async () => {
    const url = '/ui/assets/index-abc123.js';
    const tags = new Set<string>();
    for (const encoding of ['br', 'gzip', 'identity']) {
      const first = await app.inject({ url, headers: { 'accept-encoding': encoding } });
      const etag = String(first.headers['etag'] ?? '');
      assert.ok(etag, encoding);
      tags.add(etag);
      const again = await app.inject({
        url,
        headers: { 'accept-encoding': encoding, 'if-none-match': etag },
      });
      assert.equal(again.statusCode, 304, encoding);
    }
    assert.equal(tags.size, 3);
  });

  test('index.html, also as the app-path fallback, is compressed and still revalidated', async () => {
    for (const url of ['/ui', '/ui/', '/ui/projects/prj_1/endpoints']) {
      const response = await app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.headers['content-encoding'], 'gzip', url);
      assert.match(String(response.headers['content-type']), /text\/html/, url);
      assert.equal(response.headers['cache-control'], 'no-cache', url);
      assert.equal(gunzipSync(response.rawPayload).toString(), INDEX, url);
    }
  });

  test('a file without a compressed copy is sent as it is; a missing asset stays a 404', async () => {
    const tiny = await app.inject({
      url: '/ui/assets/tiny-abc123.css',
      headers: { 'accept-encoding': 'br' },
    });
    assert.equal(tiny.statusCode, 200);
    assert.equal(tiny.headers['content-encoding'], undefined);
    assert.equal(tiny.body, 'a{}');
    const missing = await app.inject({ url: '/ui/assets/gone.js', headers: { 'accept-encoding': 'br' } });
    assert.equal(missing.statusCode, 404);
  });
});

describe('the real build', () => {
  let out: string;

  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'herald-ui-build-'));
    await build({
      configFile: join(ROOT, 'src/dashboard/vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: out, emptyOutDir: true },
    });
  });

  after(() => rmSync(out, { recursive: true, force: true }));

  test('writes compressed copies, and README states their size truthfully (within 10 %)', async () => {
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    for (const [, asset] of index.matchAll(/\/ui\/(assets\/[^"]+\.(?:js|css))"/g)) {
      for (const suffix of ['.br', '.gz'])
        assert.ok(existsSync(join(out, `${asset}${suffix}`)), asset + suffix);
    }
    const sizes = (await precompressDir(out)).filter((f) => /^assets\/.*\.(js|css)$/.test(f.file));
    assert.ok(sizes.some((f) => f.file.endsWith('.js')));
    assert.ok(
      sizes.every((f) => f.gzip !== null && f.br !== null),
      JSON.stringify(sizes),
    );
    const gzip = sizes.reduce((sum, f) => sum + (f.gzip ?? 0), 0) / 1000;
    const br = sizes.reduce((sum, f) => sum + (f.br ?? 0), 0) / 1000;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const claim = /about (\d+) KB gzipped \((\d+) KB with brotli/.exec(readme);
    assert.ok(claim, 'README names the dashboard’s gzipped and brotli sizes');
    const near = (stated: number, measured: number) => Math.abs(stated - measured) <= measured * 0.1;
    assert.ok(near(Number(claim[1]), gzip), `README says ${claim[1]} KB gzipped; the build is ${gzip} KB`);
    assert.ok(near(Number(claim[2]), br), `README says ${claim[2]} KB brotli; the build is ${br} KB`);
  });
});
