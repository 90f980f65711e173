/**
 * scripts/build-dashboard.mjs (`prepare`): the dashboard is built again only when its inputs
 * changed since the last build, or the build is missing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { dashboardBuildNeeded, dashboardInputsHash, STAMP } from '../../scripts/build-dashboard.mjs';

const root = mkdtempSync(join(tmpdir(), 'herald-build-dashboard-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
/** What the script writes after a build. */
const built = () => write(STAMP, `${dashboardInputsHash(root)}\n`);

write('src/dashboard/app/main.tsx', 'export {}');
write('src/dashboard/index.html', '<!doctype html>');
write('package-lock.json', '{"lockfileVersion": 3}');
write('tsconfig.json', '{}');
write('src/api/server.ts', 'export {}');

test('a missing build or stamp is built; a build from the same inputs is not', () => {
  assert.equal(dashboardBuildNeeded(root), true, 'no dist/dashboard');
  write('dist/dashboard/index.html', '<!doctype html>');
  assert.equal(dashboardBuildNeeded(root), true, 'no stamp: built by hand or by an older prepare');
  built();
  assert.equal(dashboardBuildNeeded(root), false);
  assert.equal(dashboardInputsHash(root), dashboardInputsHash(root), 'the same inputs, the same hash');
});

test('a change to any input makes another build; a change elsewhere does not', () => {
  built();
  write('src/api/server.ts', 'export const x = 1');
  write('README.md', 'changed');
  assert.equal(dashboardBuildNeeded(root), false, 'not an input');
  for (const [path, text] of [
    ['src/dashboard/app/main.tsx', 'export const y = 2'],
    ['src/dashboard/app/new-screen.tsx', 'export {}'],
    ['src/dashboard/public/favicon.svg', '<svg/>'],
    ['package-lock.json', '{"lockfileVersion": 3, "packages": {}}'],
    ['tsconfig.json', '{"compilerOptions": {}}'],
  ]) {
    write(path!, text!);
    assert.equal(dashboardBuildNeeded(root), true, path);
    built();
  }
  // A file moved keeps its contents but not its path.
  rmSync(join(root, 'src/dashboard/app/new-screen.tsx'));
  write('src/dashboard/app/renamed.tsx', 'export {}');
  assert.equal(dashboardBuildNeeded(root), true, 'renamed');
  built();
  rmSync(join(root, 'dist/dashboard/index.html'));
  assert.equal(dashboardBuildNeeded(root), true, 'the build removed, the stamp left');
});
