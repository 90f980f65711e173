#!/usr/bin/env node
/**
 * `prepare` (what `npm ci` runs, and npx the first time it runs the clone's `herald`): builds the
 * dashboard into dist/dashboard (`npm run build:ui`) unless the build there was made from the same
 * inputs. The inputs are every file under src/dashboard, package-lock.json (vite, preact) and
 * tsconfig.json, hashed (SHA-256 of paths and contents); the hash of the last build is kept in
 * dist/.dashboard-inputs, outside the served folder. Without it, the first `npx herald …` in a clone
 * built the dashboard a second time (~18 s on a loaded 2-core machine, printing nothing), and one
 * stopped during it left npx's cache half made (README.md, Run).
 *
 * `node scripts/build-dashboard.mjs [root]` (root: the repository, default the working directory).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files whose change makes another build: relative to the repository. */
const INPUTS = ['src/dashboard', 'package-lock.json', 'tsconfig.json'];
/** Where the hash of the last build's inputs is kept (not under dist/dashboard, which is served). */
export const STAMP = 'dist/.dashboard-inputs';

/** Every file under `path` (itself when it is a file; none when it does not exist), sorted. */
function filesUnder(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** SHA-256 (hex) of the build's inputs under `root`: each file's path and contents. */
export function dashboardInputsHash(root) {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of filesUnder(join(root, input))) {
      hash.update(`${relative(root, file)}\0`);
      hash.update(readFileSync(file));
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}

/** Whether dist/dashboard under `root` is missing or was built from other inputs than these. */
export function dashboardBuildNeeded(root, inputsHash = dashboardInputsHash(root)) {
  if (!existsSync(join(root, 'dist/dashboard/index.html'))) return true;
  const stamp = join(root, STAMP);
  return !existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== inputsHash;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? process.cwd();
  const inputsHash = dashboardInputsHash(root);
  if (!dashboardBuildNeeded(root, inputsHash)) {
    console.log('dashboard: dist/dashboard is up to date (npm run build:ui builds it anyway)');
  } else {
    const built = spawnSync('npm', ['run', '-s', 'build:ui'], { cwd: root, stdio: 'inherit' });
    if (built.status !== 0) process.exit(built.status ?? 1);
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, STAMP), `${inputsHash}\n`);
  }
}
