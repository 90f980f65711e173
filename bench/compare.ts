/**
 * `npm run bench:compare -- <ref> [<ref>…]`: the closed-loop throughput of several commits, taking
 * turns. Each turn runs `bench/run.ts --only=throughput` in a git worktree of each ref, so every
 * run measures Herald beside the raw ceiling and BullMQ on the machine as it is then; the ratios
 * are what compare (this machine's speed drifts by up to 2× within an hour). `.` is the working
 * tree as it is, uncommitted changes included; one ref alone is compared with `.`.
 *
 * Why it exists: a 20 % drop in delivered/s (session 19: `UPDATE … RETURNING` in the attempt
 * records) went unnoticed for two sessions, hidden in the machine's drift between full runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Results, SystemThroughput } from './lib/results.ts';
import { geometricMean } from './lib/stats.ts';
import { type Cell, formatTable } from './lib/table.ts';

const ROOT = resolve(import.meta.dirname, '..');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    turns: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    postgres: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help || positionals.length === 0) {
  console.log(`usage: npm run bench:compare -- <ref> [<ref>…] [--turns=N] [--rounds=N] [--postgres]
  <ref>        a commit, branch or tag; . is the working tree. One ref alone is compared with .
  --turns=N    how many times each ref runs, taking turns (default 3)
  --rounds=N   throughput rounds per run (default 2: the faster of two 8 s closed loops)
  --postgres   Herald on PostgreSQL as well`);
  process.exit(positionals.length === 0 && !values.help ? 1 : 0);
}
const turns = positiveInt('--turns', values.turns);
const rounds = positiveInt('--rounds', values.rounds);
const refs = positionals.length === 1 ? [positionals[0]!, '.'] : positionals;

const work = mkdtempSync(join(tmpdir(), 'herald-compare-'));
const checkouts = new Map<string, string>();
const cleanUp = () => {
  for (const [ref, dir] of checkouts) if (ref !== '.') git(['worktree', 'remove', '--force', dir], true);
  checkouts.clear();
};
process.once('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

try {
  for (const [i, ref] of refs.entries()) {
    if (ref === '.') {
      checkouts.set(ref, ROOT);
      continue;
    }
    const dir = join(work, `ref-${i}`);
    git(['worktree', 'add', '--detach', '--quiet', dir, ref]);
    // The same installed packages for every ref: say so when its lockfile differs.
    if (git(['diff', '--quiet', ref, '--', 'package-lock.json'], true) !== 0)
      console.log(
        `note: ${ref}'s package-lock.json differs from the working tree's; it runs with the working tree's node_modules`,
      );
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    checkouts.set(ref, dir);
  }
  const rows: Cell[][] = [];
  const runs = new Map<string, SystemThroughput[]>();
  for (let turn = 1; turn <= turns; turn++) {
    for (const ref of refs) {
      const out = join(work, `${refs.indexOf(ref)}-${turn}.json`);
      const log = join(work, `${refs.indexOf(ref)}-${turn}.log`);
      process.stdout.write(`turn ${turn}/${turns}: ${ref} … `);
      const code = await runBench(checkouts.get(ref)!, out, log);
      if (code !== 0 || !existsSync(out)) {
        console.log(`failed (exit ${code}); its output: ${log}`);
        continue;
      }
      const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
      const systems = results.throughput?.systems ?? [];
      const raw = systems.find((s) => s.system === 'raw-undici');
      const bull = systems.find((s) => s.system === 'bullmq-redis');
      for (const s of systems.filter((x) => x.system.startsWith('herald-'))) {
        const key = `${ref} ${s.system}`;
        runs.set(key, [...(runs.get(key) ?? []), s]);
        rows.push([
          turn,
          ref,
          s.system,
          s.deliveredPerSec,
          raw?.deliveredPerSec,
          bull?.deliveredPerSec,
          s.ratioToRaw,
          s.ratioToBullmq,
        ]);
      }
      console.log(systems.map((s) => `${s.system} ${s.deliveredPerSec}/s`).join(', '));
    }
  }
  console.log(
    formatTable(
      'Runs (closed loop, delivered/s; ratios within the same run)',
      ['turn', 'ref', 'system', 'delivered/s', 'raw', 'BullMQ', 'x raw', 'x BullMQ'],
      rows,
    ),
  );
  console.log(
    formatTable(
      'Per ref (geometric mean of its runs)',
      ['ref', 'system', 'runs', 'x raw', 'x BullMQ'],
      [...runs].map(([key, list]) => {
        const [ref, system] = key.split(' ');
        const raw = geometricMean(list.map((s) => s.ratioToRaw));
        const bull = geometricMean(list.map((s) => s.ratioToBullmq));
        return [ref, system, list.length, ofRuns(raw, list.length), ofRuns(bull, list.length)];
      }),
    ),
  );
  console.log(`\nresults and logs: ${work}`);
} finally {
  cleanUp();
}

function runBench(cwd: string, out: string, log: string): Promise<number | null> {
  const args = ['bench/run.ts', '--only=throughput', `--rounds=${rounds}`, '--quiet-wait=20', `--out=${out}`];
  if (values.postgres) args.push('--postgres');
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(log);
    child.stdout.pipe(file);
    child.stderr.pipe(file);
    child.on('close', (code) => done(code));
  });
}

/** Runs git in the repository; `status`: return the exit code instead of failing on one. */
function git(args: string[], status = false): number {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (!status && r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.status ?? 1;
}

/** A mean that left runs out (no ratio, or 0) says of how many runs it is. */
function ofRuns(m: { mean: number | null; of: number }, runs: number): Cell {
  return m.of === runs || m.mean === null ? m.mean : `${m.mean} (of ${m.of})`;
}

function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${flag}: expected a whole number ≥ 1, got ${value}`);
    process.exit(1);
  }
  return n;
}
