/**
 * The dashboard build that the browser tests against a real `herald serve` use: it serves
 * dist/dashboard (src/api/build-app.ts), so each such test file builds the UI as it is in the tree
 * now. Those files run at the same time (node --test --test-concurrency=2), and each used to run
 * `vite build` straight into dist/dashboard, whose emptyOutDir deletes the directory's files and
 * writes them again: a page of another file loaded meanwhile got 503 "not built", a 404 or a
 * half-written asset, and showed no screen at all (a 15 s wait for a table row, in one full run).
 *
 * So the build goes to a directory of its own, and only what differs is published into
 * dist/dashboard, each file written beside its place and renamed over it (a reader gets the old
 * file or the new one, never none and never part of one), index.html last, after the assets it
 * names. Nothing is deleted: a page that loaded an older index.html still finds its assets. When the
 * tree has not changed since the last build, nothing in dist/dashboard is written.
 *
 * Nor is anything built (a `vite build` is ~2 s, and two dozen files asked for one each): each
 * build records what it read (every file under src/dashboard, every other module it bundled but
 * those of node_modules, and package-lock.json, which pins those) and what it published, by their
 * SHA-256, in node_modules/.cache/herald-dashboard-build.json. The next call builds again only if
 * one of those inputs changed, or dist/dashboard no longer holds what was published. A new import
 * is made by changing a file that is an input already, so it is seen too.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
/** What `herald serve` serves under /ui. */
export const DASHBOARD_DIST = join(ROOT, 'dist/dashboard');

/** What the last build read and published (see above). */
const BUILD_RECORD = join(ROOT, 'node_modules/.cache/herald-dashboard-build.json');

/** SHA-256 by path: of the inputs (relative to the repository), of the outputs (to dist/dashboard). */
interface BuildRecord {
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

/**
 * Builds the dashboard from the tree and publishes it into dist/dashboard (see above), unless the
 * last build's inputs are unchanged and its outputs still there.
 */
export async function buildDashboard(): Promise<void> {
  if (upToDate(readRecord())) return;
  const out = mkdtempSync(join(tmpdir(), 'herald-ui-e2e-'));
  try {
    const bundled: string[] = [];
    // Loaded only to build: importing vite is ~0.2 s of CPU for each test file.
    const { build } = await import('vite');
    await build({
      configFile: join(ROOT, 'src/dashboard/vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: out, emptyOutDir: true },
      plugins: [
        {
          name: 'herald-build-inputs',
          buildEnd() {
            bundled.push(...this.getModuleIds());
          },
        },
      ],
    });
    publishBuild(out, DASHBOARD_DIST);
    writeRecord({ inputs: hashes(ROOT, inputsOf(bundled)), outputs: hashes(out, filesIn(out)) });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The build's inputs, relative to the repository: see above. */
function inputsOf(bundled: string[]): string[] {
  const modules = bundled
    .filter((id) => id.startsWith('/') && !id.includes('\0'))
    .map((id) => id.replace(/\?.*$/, ''))
    .filter((file) => existsSync(file))
    .map((file) => relative(ROOT, file))
    .filter((file) => !file.startsWith('..') && !file.split(/[\\/]/).includes('node_modules'));
  const tree = filesIn(join(ROOT, 'src/dashboard')).map((file) => join('src/dashboard', file));
  return [...new Set([...modules, ...tree, 'package-lock.json'])].sort();
}

function upToDate(record: BuildRecord | null): boolean {
  if (!record || Object.keys(record.outputs).length === 0) return false;
  const same = (dir: string, wanted: Record<string, string>) =>
    Object.entries(wanted).every(([file, hash]) => hashOf(join(dir, file)) === hash);
  // Also a file under src/dashboard that the last build did not have.
  const tree = filesIn(join(ROOT, 'src/dashboard')).map((file) => join('src/dashboard', file));
  return (
    tree.every((file) => file in record.inputs) &&
    same(ROOT, record.inputs) &&
    same(DASHBOARD_DIST, record.outputs)
  );
}

function readRecord(): BuildRecord | null {
  try {
    return JSON.parse(readFileSync(BUILD_RECORD, 'utf8')) as BuildRecord;
  } catch {
    return null; // none yet, or cut short: build
  }
}

/** Written beside its place and renamed over it: a file reading it meanwhile sees one or the other. */
function writeRecord(record: BuildRecord): void {
  mkdirSync(dirname(BUILD_RECORD), { recursive: true });
  const temporary = `${BUILD_RECORD}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(record));
  renameSync(temporary, BUILD_RECORD);
}

/** The files under `dir`, relative to it. */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

function hashes(dir: string, files: string[]): Record<string, string> {
  return Object.fromEntries(files.map((file) => [file, hashOf(join(dir, file)) ?? '']));
}

/** The file's SHA-256, or null when it cannot be read (gone). */
function hashOf(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

/**
 * Copies every file of `from` that is missing or different in `to`, each by a rename (atomic),
 * index.html and its compressed copies last. Returns the files written, in order.
 */
export function publishBuild(from: string, to: string): string[] {
  const entryLast = (file: string) => (file.split(/[\\/]/).length === 1 && /^index\.html/.test(file) ? 1 : 0);
  const files = readdirSync(from, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(from, join(entry.parentPath, entry.name)))
    .sort((a, b) => entryLast(a) - entryLast(b) || a.localeCompare(b));
  const written: string[] = [];
  for (const file of files) {
    const content = readFileSync(join(from, file));
    const target = join(to, file);
    if (existsSync(target) && readFileSync(target).equals(content)) continue;
    mkdirSync(dirname(target), { recursive: true });
    // A dot file, which the dashboard never serves, until it is complete.
    const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    writeFileSync(temporary, content);
    renameSync(temporary, target);
    written.push(file);
  }
  return written;
}
