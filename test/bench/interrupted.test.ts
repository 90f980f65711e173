/**
 * A benchmark stopped by SIGTERM or SIGINT (a CI job cancelled, `kill`, Ctrl-C) takes its processes
 * with it: the receiver, the raw sender, Herald, redis-server and the BullMQ worker would otherwise
 * go on running, and loading the machine, after it; nor does it leave its data directories (a
 * backlog's SQLite file is a gigabyte) in the temp dir.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { sleep } from '../../bench/lib/clock.ts';
import { withMachineLock } from '../support/machine-lock.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');

/** Live (not zombie) processes under `root`, with their command lines. */
function descendants(root: number): Map<number, string> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const list = children.get(Number(ppid)) ?? [];
      list.push(Number(name));
      children.set(Number(ppid), list);
    } catch {} // gone meanwhile
  }
  const out = new Map<number, string>();
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      try {
        out.set(child, readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' '));
      } catch {}
      walk(child);
    }
  };
  walk(root);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Starts the smoke throughput, waits until processes matching `running` are up, sends `signal`. */
async function interrupt(signal: NodeJS.Signals, running: RegExp[]) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-interrupted-'));
  // The benchmark's own temp dir, to see what it leaves there.
  const temp = join(dir, 'tmp');
  mkdirSync(temp);
  const bench = spawn(NODE, ['bench/run.ts', '--smoke', '--only=throughput', `--out=${dir}/r.json`], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: temp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  bench.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  bench.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((r) => bench.once('exit', (code) => r(code)));
  let seen = new Map<number, string>();
  try {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && bench.exitCode === null) {
      seen = descendants(bench.pid!);
      const cmds = [...seen.values()];
      if (running.every((re) => cmds.some((c) => re.test(c)))) break;
      await sleep(50);
    }
    assert.ok(
      running.every((re) => [...seen.values()].some((c) => re.test(c))),
      `not all of ${running.join(', ')} seen running:\n${[...seen.values()].join('\n')}\n${output}`,
    );
    bench.kill(signal);
    const code = await exited;
    const until = Date.now() + 15_000;
    while ([...seen.keys()].some(alive) && Date.now() < until) await sleep(100);
    const left = [...seen].filter(([pid]) => alive(pid)).map(([pid, cmd]) => `${pid} ${cmd}`);
    // Node's compile cache is Node's, kept on purpose.
    const files = readdirSync(temp).filter((f) => f !== 'node-compile-cache');
    return { code, left, files, output };
  } finally {
    for (const pid of seen.keys()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (bench.exitCode === null) bench.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

test('SIGTERM while Herald runs leaves no process of the bench behind', { timeout: 200_000 }, async () => {
  const { code, left, files, output } = await withMachineLock('smoke', () =>
    interrupt('SIGTERM', [/bench\/lib\/receiver\.ts/, /bin\/herald\.js serve/]),
  );
  assert.deepEqual(left, [], output.slice(-3000));
  assert.deepEqual(files, [], `left in the temp dir:\n${output.slice(-3000)}`);
  assert.notEqual(code, 0);
});

test('SIGINT while BullMQ runs leaves no process of the bench behind', { timeout: 200_000 }, async () => {
  const { code, left, files, output } = await withMachineLock('smoke', () =>
    interrupt('SIGINT', [/redis-server/, /bullmq-worker\.ts/]),
  );
  assert.deepEqual(left, [], output.slice(-3000));
  assert.deepEqual(files, [], `left in the temp dir:\n${output.slice(-3000)}`);
  assert.notEqual(code, 0);
});
