/**
 * A @herald/* package as a customer gets it: `npm pack` (its prepack builds dist/), the tarball
 * unpacked into a fresh project's node_modules (no registry, no network; dependencies linked from
 * this repository), and that project's TypeScript. For the packages' packaging tests.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Packs a copy of `packages/<name>` into `dir`, checks that postpack restored its package.json and that the
 * tarball holds JavaScript and declarations only; returns a fresh project in `dir/app` with the
 * package installed as `@herald/<name>` and `links` (names in this repository's node_modules).
 */
export function installPacked(dir: string, name: string, links: string[] = []): string {
  // Packed from a copy: npm pack rewrites the package's package.json while it runs (prepack), and a
  // test process resolving @herald/* in the repository meanwhile would keep the rewritten one.
  const copy = join(dir, 'repo');
  cpSync(join(ROOT, 'packages', name), join(copy, 'packages', name), {
    recursive: true,
    filter: (src) => !src.includes(`${name}/test`) && !src.endsWith('/dist'),
  });
  cpSync(join(ROOT, 'scripts/pack-package.mjs'), join(copy, 'scripts/pack-package.mjs'));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const manifest = join(copy, 'packages', name, 'package.json');
  const before = readFileSync(manifest, 'utf8');
  const packed = spawnSync('npm', ['pack', '--pack-destination', dir, '--json'], {
    cwd: join(copy, 'packages', name),
    encoding: 'utf8',
    env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
  });
  assert.equal(packed.status, 0, packed.stderr);
  assert.equal(readFileSync(manifest, 'utf8'), before, 'postpack restores package.json');
  const tarball = join(dir, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename);
  const listed = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
  assert.ok(listed.includes('package/dist/index.js') && listed.includes('package/dist/index.d.ts'));
  assert.ok(!listed.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources');
  // The manifest says MIT: the licence's text goes with it, as the MIT licence asks.
  assert.ok(listed.includes('package/LICENSE'), 'the LICENSE file');

  const project = join(dir, 'app');
  const installed = join(project, 'node_modules/@herald', name);
  mkdirSync(installed, { recursive: true });
  const untar = spawnSync('tar', ['xzf', tarball, '-C', installed, '--strip-components=1']);
  assert.equal(untar.status, 0, String(untar.stderr));
  mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
  for (const link of [...links, '@types/node']) {
    symlinkSync(join(ROOT, 'node_modules', link), join(project, 'node_modules', link));
  }
  writeFileSync(join(project, 'package.json'), '{"type":"module","private":true}\n');
  return project;
}

/**
 * Type-checks `source` as the project's consumer.ts with its own tsconfig (strict, nodenext), and
 * `options` over it (a consumer's stricter settings, as `exactOptionalPropertyTypes`).
 */
export function typecheckConsumer(
  project: string,
  source: string,
  options: Record<string, unknown> = {},
): void {
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        target: 'es2024',
        strict: true,
        noEmit: true,
        types: ['node'],
        ...options,
      },
      include: ['consumer.ts'],
    }),
  );
  writeFileSync(join(project, 'consumer.ts'), source);
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], {
    encoding: 'utf8',
  });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
}

/**
 * The oldest release of every Node line a package's `engines.node` (`>=X.Y.Z`) admits before 24,
 * the Node running the tests: `>=20.18.1` → 20.18.1, 21.0.0, 22.0.0, 23.0.0.
 */
export function olderNodes(engines: string): string[] {
  const floor = /^>=(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(engines);
  assert.ok(floor, `engines.node ${engines}: expected >=X.Y.Z`);
  const major = Number(floor[1]);
  const lines = [`${major}.${floor[2] ?? 0}.${floor[3] ?? 0}`];
  for (let next = major + 1; next < 24; next++) lines.push(`${next}.0.0`);
  return major < 24 ? lines : [];
}

/**
 * Node arguments and environment that run a script as on Node `version`: this Node without the
 * built-ins added since (test/support/older-node-builtins.ts).
 */
export function asOlderNode(version: string, args: string[]): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: ['--import', join(ROOT, 'test/support/older-node-builtins.ts'), ...args],
    env: { ...process.env, HERALD_OLDER_NODE: version },
  };
}
