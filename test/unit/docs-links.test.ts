/**
 * Links between the repository's markdown documents resolve: every relative link names a file or
 * directory that exists, and every `#anchor` (in the same file or in another markdown file) is the
 * GitHub slug of one of that file's headings. Links to other sites are not followed.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

/** The markdown files people read: the README, docs/, and the READMEs of packages/, bench/ and examples/. */
function documents(): string[] {
  const files = [join(ROOT, 'README.md')];
  for (const name of readdirSync(join(ROOT, 'docs'))) {
    if (name.endsWith('.md')) files.push(join(ROOT, 'docs', name));
  }
  for (const dir of ['packages/client', 'packages/verify', 'bench', 'examples', 'examples/catalogs']) {
    const readme = join(ROOT, dir, 'README.md');
    if (existsSync(readme)) files.push(readme);
  }
  return files;
}

/** Markdown without its fenced code blocks and inline code spans (links there are not links). */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`, repeats numbered. */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const text = match[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text
      .replace(/<[^>]+>/g, ''); // inline HTML
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

test('headingSlugs follows GitHub: punctuation and backticks dropped, spaces as dashes, repeats numbered', () => {
  const slugs = headingSlugs(
    '# HTTP API v1\n## `GET /api/v1/projects/:project/attempts/:attempt` → 200\n## Limits, retention and operational events\n## Local forwarding: `herald listen`\n## Notes\n## Notes\n```\n# not a heading\n```\n',
  );
  assert.deepEqual(
    [...slugs],
    [
      'http-api-v1',
      'get-apiv1projectsprojectattemptsattempt--200',
      'limits-retention-and-operational-events',
      'local-forwarding-herald-listen',
      'notes',
      'notes-1',
    ],
  );
});

test('every relative link and anchor in the docs resolves', () => {
  const problems: string[] = [];
  const slugCache = new Map<string, Set<string>>();
  const slugsOf = (file: string) => {
    let slugs = slugCache.get(file);
    if (!slugs) {
      slugs = headingSlugs(readFileSync(file, 'utf8'));
      slugCache.set(file, slugs);
    }
    return slugs;
  };
  for (const file of documents()) {
    const text = prose(readFileSync(file, 'utf8'));
    for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path = '', anchor] = target.split('#', 2);
      const where = `${relative(ROOT, file)}: (${target})`;
      const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(resolved)) {
        problems.push(`${where}: no such file`);
        continue;
      }
      if (anchor === undefined || anchor === '') continue;
      if (!statSync(resolved).isFile() || !resolved.endsWith('.md')) {
        problems.push(`${where}: an anchor into something that is not a markdown file`);
        continue;
      }
      if (!slugsOf(resolved).has(decodeURIComponent(anchor))) {
        problems.push(`${where}: no heading with that anchor in ${relative(ROOT, resolved)}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

/**
 * Paths of the repository the docs name in their text (`src/delivery/sender.ts`,
 * `test/e2e/ssrf.test.ts`, `packages/verify/src/schemes/`) exist: a file renamed or a test merged
 * into another leaves a reader looking for code that is not there. The performance logs are a
 * record of their day and are left as they are; bench/results/ is written by runs.
 */
test('every repository path the docs name exists', () => {
  const TOP = ['src', 'test', 'packages', 'bench', 'scripts', 'examples', 'bin', 'docs'];
  const missing: string[] = [];
  let named = 0;
  for (const file of documents().filter((f) => !/performance[^/]*\.md$/.test(f))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(
      new RegExp(`(?<![\\w./~-])((?:${TOP.join('|')})/[\\w./-]*[\\w/])`, 'g'),
    )) {
      const path = match[1]!;
      named++;
      if (path.startsWith('bench/results') || path.includes('/x.test.ts')) continue;
      // packages/client/README.md says src/client.ts of its own package.
      const candidates = [join(ROOT, path), join(dirname(file), path)];
      if (!candidates.some((p) => existsSync(p))) missing.push(`${relative(ROOT, file)}: ${path}`);
    }
  }
  assert.ok(named > 100, `found the docs' paths: ${named}`);
  assert.deepEqual(missing, []);
});
