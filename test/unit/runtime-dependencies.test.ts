/**
 * Every package the server's and the CLI's code loads at run time is one of package.json's
 * `dependencies` (or a workspace package): a devDependency is only there while dev dependencies
 * are installed, or while another dependency happens to bring the same package in (ajv was
 * imported by src/domain/event-type-schema.ts and listed only as a devDependency, found by
 * fastify's copy). The dashboard's sources (src/dashboard) are built into static files by
 * `npm run build:ui`, so their imports (preact, vite) are build-time and left out; so are
 * `import type` lines, which type stripping removes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILD_TIME = join(ROOT, 'src', 'dashboard');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === BUILD_TIME ? [] : sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** The bare specifiers a file loads at run time: static imports and re-exports, and import(). */
export function runtimeSpecifiers(source: string): string[] {
  const found: string[] = [];
  const statics = /(?:^|\n)\s*(?:import|export)\s+(?!type[\s{])[^;'"]*?\bfrom\s+['"]([^'"]+)['"]/g;
  const bareImports = /(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;
  const dynamics = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const pattern of [statics, bareImports, dynamics]) {
    for (const match of source.matchAll(pattern)) found.push(match[1] as string);
  }
  return found.filter((s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:'));
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

test('the specifiers found: static, re-exported and dynamic imports; type-only imports and relative paths left out', () => {
  const source = [
    "import { a } from 'one';",
    "import type { B } from 'types-only';",
    "export { c } from 'two/sub.js';",
    "import {\n  d,\n  e,\n} from '@scope/three/deep';",
    "const f = await import('four');",
    "import './local.ts';",
    "import 'side-effect';",
    "import { g } from 'node:fs';",
  ].join('\n');
  assert.deepEqual(runtimeSpecifiers(source).map(packageOf).sort(), [
    '@scope/three',
    'four',
    'one',
    'side-effect',
    'two',
  ]);
});

test("every package src/ and bin/ load at run time is in package.json's dependencies or the workspace", () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const workspace = readdirSync(join(ROOT, 'packages')).map(
    (dir) =>
      (JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string })
        .name,
  );
  const allowed = new Set([...Object.keys(manifest.dependencies), ...workspace]);
  const missing: string[] = [];
  for (const file of [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'bin'))]) {
    for (const specifier of runtimeSpecifiers(readFileSync(file, 'utf8'))) {
      if (!allowed.has(packageOf(specifier))) missing.push(`${relative(ROOT, file)}: ${specifier}`);
    }
  }
  assert.deepEqual(missing, [], 'loaded at run time but not a dependency');
});
