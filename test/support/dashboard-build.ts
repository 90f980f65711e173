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
 */
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
import { build } from 'vite';

const ROOT = resolve(import.meta.dirname, '../..');
/** What `herald serve` serves under /ui. */
export const DASHBOARD_DIST = join(ROOT, 'dist/dashboard');

/** Builds the dashboard from the tree and publishes it into dist/dashboard (see above). */
export async function buildDashboard(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'herald-ui-e2e-'));
  try {
    await build({
      configFile: join(ROOT, 'src/dashboard/vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: out, emptyOutDir: true },
    });
    publishBuild(out, DASHBOARD_DIST);
  } finally {
    rmSync(out, { recursive: true, force: true });
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
