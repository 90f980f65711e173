/**
 * In a container Herald's bin is process 1, and a signal process 1 has no handler for is dropped,
 * not fatal. `herald serve` sets its handlers once its modules have loaded: a `docker stop` sent
 * before then must still stop it, not leave it running until the supervisor's SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

test('process 1 (a container): a SIGTERM before `herald serve` has set its handlers still stops it, gracefully', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-pid1-'));
  // A PID namespace of its own (user namespace: no root needed), the bin run as its process 1 the
  // way a container's exec-form CMD runs it: its shebang's env replaces itself with node.
  const child = spawn('unshare', ['-Urfp', '--mount-proc', join(ROOT, 'bin/herald.js'), 'serve'], {
    cwd: ROOT,
    env: {
      PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      HERALD_PORT: '0',
      HERALD_DATA_DIR: dataDir,
      HERALD_ADMIN_TOKEN: 'e2e-admin-token-0123456789abcdef',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  // Herald is unshare's child. Process 1 drops a signal it has no handler for. Node's own start
  // (its SIGUSR1 handler set, SigCgt in /proc) takes ~50 ms, `herald serve`'s handlers come ~0.6 s
  // later, after its modules have loaded: one SIGTERM 50 ms after the first, long before the second.
  let herald = 0;
  const signalled = (async () => {
    for (let i = 0; i < 2_000; i++) {
      try {
        const [pid] = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ');
        const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        if (pid && caught && (BigInt(`0x${caught}`) & (1n << 9n)) !== 0n) {
          herald = Number(pid);
          await new Promise((r) => setTimeout(r, 50));
          process.kill(herald, 'SIGTERM');
          return;
        }
      } catch {
        // not started yet
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  try {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise((r) => {
        timer = setTimeout(r, 15_000, 'still running');
      }),
    ]);
    clearTimeout(timer);
    // Dropped, Herald would run on until the supervisor's SIGKILL. Caught, it stops (unshare exits
    // with its child's status): gracefully when the signal is dispatched once `herald serve` has
    // its handlers (it waits in libuv while the modules load, so that is the usual case), else
    // at once with 128 + 15, as a process that is not process 1 would.
    assert.ok(code === 0 || code === 143, `exit code ${code}: ${output}`);
    if (code === 0) {
      assert.match(output, /"msg":"shutting down"/);
      assert.match(output, /"msg":"stopped"/);
    }
  } finally {
    await signalled;
    // Herald first: it outlives unshare, and its output pipes would keep this test waiting.
    if (herald) {
      try {
        process.kill(herald, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
