/**
 * The RSS peaks the backlog target is checked against are the process's real peaks, not the
 * highest of samples taken every 200 ms: a burst of memory between two samples counts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { sampleRss } from '../../bench/lib/proc.ts';

/** Touches `mib` MiB when asked, frees them at once (a GC), and says so. */
const BURST = `
process.on('message', (mib) => {
  let b = Buffer.allocUnsafeSlow(mib * 1024 * 1024).fill(1);
  b = null;
  globalThis.gc();
  process.send('done');
});
process.send('ready');
`;

test('a burst between two samples is in the peak, also with a second sampler on the process', async () => {
  const child = spawn(process.execPath, ['--expose-gc', '-e', BURST], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    await once(child, 'message');
    const base = sampleRss(child.pid!).stop().peakMiB;
    const outer = sampleRss(child.pid!);
    child.send(128);
    await once(child, 'message');
    // A second sampler started after the burst (as meterHerald does inside the backlog's own).
    const inner = sampleRss(child.pid!).stop();
    const overall = outer.stop();
    assert.ok(overall.lastMiB < base + 64, `freed again: ${overall.lastMiB} MiB after, ${base} before`);
    assert.ok(overall.peakMiB >= base + 120, `peak ${overall.peakMiB} MiB, ${base} before the burst`);
    assert.ok(inner.peakMiB < base + 64, `the later sampler's peak ${inner.peakMiB} MiB is its own`);
  } finally {
    child.kill();
  }
});
