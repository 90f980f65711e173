/**
 * @herald/client outside the repository: `npm pack` (its prepack builds JavaScript and declarations
 * into dist/), the tarball unpacked into a fresh node_modules beside its one dependency (undici,
 * linked from this repository's node_modules: no registry, no network), then imported by the Node
 * that runs the tests and type-checked by a consumer's tsc. The sources' exports (src/*.ts) cannot
 * be used there: Node refuses type stripping under node_modules.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../../..');
const PACKAGE = join(ROOT, 'packages/client');

test('npm pack gives JavaScript and declarations that a fresh project imports, calls and type-checks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-client-pack-'));
  // A stand-in Herald on loopback for the one call the installed client makes.
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [{ id: 'prj_1', seen: `${req.method} ${req.url}` }], nextCursor: null }));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const before = readFileSync(join(PACKAGE, 'package.json'), 'utf8');
    const packed = spawnSync('npm', ['pack', './packages/client', '--pack-destination', dir, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    });
    assert.equal(packed.status, 0, packed.stderr);
    assert.equal(
      readFileSync(join(PACKAGE, 'package.json'), 'utf8'),
      before,
      'postpack restores package.json',
    );
    const tarball = join(dir, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename);
    const listed = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(listed.includes('package/dist/index.js') && listed.includes('package/dist/index.d.ts'));
    assert.ok(!listed.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources');

    const project = join(dir, 'app');
    const installed = join(project, 'node_modules/@herald/client');
    mkdirSync(installed, { recursive: true });
    const untar = spawnSync('tar', ['xzf', tarball, '-C', installed, '--strip-components=1']);
    assert.equal(untar.status, 0, String(untar.stderr));
    mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules/undici'), join(project, 'node_modules/undici'));
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'));
    writeFileSync(join(project, 'package.json'), '{"type":"module","private":true}\n');

    writeFileSync(
      join(project, 'check.mjs'),
      `import { HeraldClient, HeraldApiError } from '@herald/client';
const client = new HeraldClient({ url: process.argv[2], token: 't' });
const page = await client.listProjects({ limit: 1 });
console.log(page.data[0].seen, typeof HeraldApiError);
await client.close();
`,
    );
    // Asynchronously: the stand-in server runs in this process.
    const run = await promisify(execFile)(process.execPath, ['check.mjs', url], { cwd: project });
    assert.equal(run.stdout.trim(), 'GET /api/v1/projects?limit=1 function');

    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2024',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        include: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { HeraldClient, type DeliveryState } from '@herald/client';
interface Purchase { playerId: number }
export async function send(client: HeraldClient, p: Purchase): Promise<DeliveryState> {
  await client.sendEvent('game', { type: 'player.purchase', payload: p });
  // @ts-expect-error: declarations are there, so a wrong type is caught
  const wrong: number = (await client.getProject('game')).name;
  void wrong;
  return client.retryDelivery('game', 'dlv_1');
}
`,
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], {
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
