/**
 * Keeps the soak working: runs `bench/soak.ts --smoke` (9 s of load, retries a tenth as long) as a
 * child process and checks that it exercised every kind of endpoint, sampled, drained and found
 * every invariant holding. A smoke run is far too short to say anything about leaks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { withMachineLock } from '../support/machine-lock.ts';
import { runNodeScript } from '../support/run-node-script.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface SoakResult {
  eventsAccepted: number;
  drain: { drained: boolean };
  samples: { herald: { rssMiB: number | null; fds: number | null } }[];
  receiverCounts: Record<string, number>;
  management: Record<string, number>;
  invariants: { name: string; ok: boolean; detail: string }[];
}

test('npm run soak -- --smoke drives every kind of endpoint and finds every invariant holding', {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-soak-smoke-'));
  const out = join(dir, 'soak.json');
  try {
    // Not beside the other smoke run: see machine-lock.ts.
    const { code, output } = await withMachineLock('smoke', () =>
      runNodeScript([join(ROOT, 'bench/soak.ts'), '--smoke', `--out=${out}`]),
    );
    const r = JSON.parse(readFileSync(out, 'utf8')) as SoakResult;
    assert.deepEqual(
      r.invariants.filter((i) => !i.ok),
      [],
      output.slice(-6000),
    );
    assert.equal(code, 0, `soak exited with ${code}:\n${output.slice(-6000)}`);
    assert.ok(r.invariants.length >= 8, 'every invariant was checked');
    assert.ok(r.eventsAccepted > 500, `events accepted: ${r.eventsAccepted}`);
    assert.ok(r.drain.drained);
    assert.ok(
      r.samples.length >= 2 && r.samples.every((s) => (s.herald.rssMiB ?? 0) > 0 && (s.herald.fds ?? 0) > 0),
    );
    for (const outcome of ['a:ok', 'b:ok', 'paid:ok', 'flaky:ok', 'flaky:500', 'failing:500', 'slow:ok']) {
      assert.ok((r.receiverCounts[outcome] ?? 0) > 0, `${outcome}: ${JSON.stringify(r.receiverCounts)}`);
    }
    assert.ok(Object.keys(r.management).length >= 2, `management calls: ${JSON.stringify(r.management)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
