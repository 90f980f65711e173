#!/usr/bin/env node
/**
 * `prepack` / `postpack` of the @herald/* packages (packages/client, packages/verify): in the
 * repository their `exports` point at the TypeScript sources (src/*.ts), which Node runs by type
 * stripping; Node refuses that under node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING),
 * so what `npm pack` puts in the tarball is JavaScript and declarations instead:
 *
 *   prepack:  tsc -p tsconfig.build.json into dist/ (.js and .d.ts), relative `.ts` imports in the
 *             declarations rewritten to `.js`; package.json saved aside and rewritten: each export
 *             `./src/x.ts` becomes `{ "types": "./dist/x.d.ts", "default": "./dist/x.js" }`,
 *             `files` is dist and README.md, no `scripts`.
 *   postpack: package.json restored, dist/ removed.
 *
 * Run in the package's directory (npm does for its scripts): `node ../../scripts/pack-package.mjs prepack`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const dir = process.cwd();
const manifest = join(dir, 'package.json');
const saved = join(dir, '.package.json.prepack');

function restore() {
  if (existsSync(saved)) renameSync(saved, manifest);
}

function declarations(folder) {
  const out = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...declarations(path));
    else if (entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function toDist(target) {
  const match = /^\.\/src\/(.+)\.ts$/.exec(target);
  if (!match) throw new Error(`${manifest}: export ${target} is not ./src/….ts`);
  return { types: `./dist/${match[1]}.d.ts`, default: `./dist/${match[1]}.js` };
}

const step = process.argv[2];
if (step === 'prepack') {
  restore(); // a pack that failed half-way left the rewritten manifest
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  // typescript's `exports` do not list its bin: found through its package.json.
  const tsc = join(dirname(createRequire(manifest).resolve('typescript/package.json')), 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: dir,
    stdio: 'inherit',
  });
  if (built.status !== 0) process.exit(built.status ?? 1);
  for (const file of declarations(join(dir, 'dist'))) {
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2'));
  }
  const original = readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(original);
  pkg.exports = Object.fromEntries(Object.entries(pkg.exports).map(([key, target]) => [key, toDist(target)]));
  pkg.files = ['dist', 'README.md'];
  delete pkg.scripts; // these two: for packing in the repository only
  writeFileSync(saved, original);
  // Replaced in one rename: tests running meanwhile resolve the package through this file, and
  // must read the old manifest or the new one, never half of it (both point at files that exist).
  writeFileSync(`${manifest}.next`, `${JSON.stringify(pkg, null, 2)}\n`);
  renameSync(`${manifest}.next`, manifest);
} else if (step === 'postpack') {
  restore();
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
} else {
  console.error('usage: node pack-package.mjs prepack|postpack');
  process.exit(2);
}
