/**
 * @herald/verify outside the repository: `npm pack` (its prepack builds JavaScript and declarations
 * into dist/), the tarball unpacked into a fresh node_modules, then imported by the Node that runs
 * the tests and type-checked by a consumer's tsc. The sources' exports (src/*.ts) cannot be used
 * there: Node refuses type stripping under node_modules. No registry, no network.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../../..');
const PACKAGE = join(ROOT, 'packages/verify');

/** Packs `./packages/<name>` into `dir`; returns the tarball's path. */
function pack(dir: string): string {
  const before = readFileSync(join(PACKAGE, 'package.json'), 'utf8');
  const packed = spawnSync('npm', ['pack', './packages/verify', '--pack-destination', dir, '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
  });
  assert.equal(packed.status, 0, packed.stderr);
  assert.equal(readFileSync(join(PACKAGE, 'package.json'), 'utf8'), before, 'postpack restores package.json');
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  return join(dir, filename);
}

test('npm pack gives JavaScript and declarations that a fresh project imports and type-checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-verify-pack-'));
  try {
    const tarball = pack(dir);
    const listed = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(listed.includes('package/dist/index.js'));
    assert.ok(listed.includes('package/dist/adapters/express.d.ts'));
    assert.ok(!listed.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources');

    // Installed as npm would, without a registry: the tarball unpacked into node_modules.
    const project = join(dir, 'app');
    const installed = join(project, 'node_modules/@herald/verify');
    mkdirSync(installed, { recursive: true });
    const untar = spawnSync('tar', ['xzf', tarball, '-C', installed, '--strip-components=1']);
    assert.equal(untar.status, 0, String(untar.stderr));
    writeFileSync(join(project, 'package.json'), '{"type":"module","private":true}\n');

    writeFileSync(
      join(project, 'check.mjs'),
      `import { sign, verifyWebhook } from '@herald/verify';
import { webhookMiddleware } from '@herald/verify/express';
const secret = 'whsec_' + Buffer.alloc(24, 1).toString('base64');
const req = sign({ scheme: 'standard', secret, id: 'evt_1', timestamp: Math.floor(Date.now() / 1000), url: 'http://127.0.0.1/', content: { type: 't', data: 1 } });
const ok = verifyWebhook({ scheme: 'standard', secret, payload: req.body, headers: req.headers });
console.log(ok.id, typeof webhookMiddleware);
`,
    );
    const run = spawnSync(process.execPath, ['check.mjs'], { cwd: project, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'evt_1 function');

    // A consumer's TypeScript finds the declarations through the "types" condition.
    mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'));
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
      `import { verifyWebhook, type VerifiedWebhook } from '@herald/verify';
import type { ExpressRequestLike } from '@herald/verify/express';
const hook: VerifiedWebhook<{ n: number }> = verifyWebhook<{ n: number }>({ scheme: 'standard', secret: 's', payload: '{}', headers: {} });
const n: number = hook.payload.n;
// @ts-expect-error: declarations are there, so a wrong type is caught
const wrong: string = hook.payload.n;
export const used: [number, string, ExpressRequestLike | null] = [n, wrong, null];
`,
    );
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], {
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
