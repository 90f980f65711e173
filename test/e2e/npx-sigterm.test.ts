/**
 * `npx herald serve` is npm → `sh -c herald serve` → Herald. A SIGTERM sent to npm (what a
 * supervisor that tracks only the process it started sends) reaches the shell, which exits without
 * passing it on; npm exits with it. Herald notices its parent is gone and shuts down as on SIGTERM,
 * instead of running on as an orphan with the database open.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

/** Processes whose environment names `dataDir` (Linux /proc): Herald, if it outlived npm. */
function processesUsing(dataDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`HERALD_DATA_DIR=${dataDir}\0`))
        found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

test('SIGTERM to the npx process of `npx herald serve` shuts Herald down gracefully', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-npx-'));
  const npx = spawn('npx', ['herald', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      HERALD_PORT: '0',
      HERALD_HOST: '127.0.0.1',
      HERALD_DATA_DIR: dataDir,
      HERALD_ADMIN_TOKEN: 'npx-sigterm-admin-token-0123456789',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npx.stdout.on('data', (c: Buffer) => (output += c));
  npx.stderr.on('data', (c: Buffer) => (output += c));
  // Herald holds the write end of the pipe too: it closes once every process of the chain exited.
  const closed = new Promise<void>((done) => npx.stdout.once('close', done));
  try {
    const deadline = Date.now() + 60_000;
    while (!output.includes('herald ready on') && Date.now() < deadline) {
      assert.equal(npx.exitCode, null, output);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(output, /herald ready on/);

    npx.kill('SIGTERM');
    // The timer is cleared once the race is decided: left running, it held the test file's process
    // open for its whole 15 s after the test had passed.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      closed.then(() => 'exited'),
      new Promise((r) => {
        timer = setTimeout(() => r('still running'), 15_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, 'exited', `Herald outlived npx:\n${output}`);
    assert.match(output, /"msg":"shutting down"/);
    assert.match(output, /"msg":"stopped"/);
  } finally {
    npx.kill('SIGKILL');
    for (const pid of processesUsing(dataDir)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
