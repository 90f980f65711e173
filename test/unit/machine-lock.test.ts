/** The lock that keeps machine-loading test files apart (test/support/machine-lock.ts). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withMachineLock } from '../support/machine-lock.ts';

test('two holders of one lock run one after the other; the lock is gone after them', async () => {
  const name = `unit-${randomUUID()}`;
  const order: string[] = [];
  const one = withMachineLock(name, async () => {
    order.push('one in');
    await sleep(300);
    order.push('one out');
  });
  await sleep(20);
  const two = withMachineLock(name, async () => {
    order.push('two in');
    order.push('two out');
  });
  await Promise.all([one, two]);
  assert.deepEqual(order, ['one in', 'one out', 'two in', 'two out']);
  assert.equal(existsSync(join(tmpdir(), `herald-test-lock-${name}`)), false);
});

test('a lock left by a process that is gone is taken over at once', async () => {
  const name = `unit-${randomUUID()}`;
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const dir = join(tmpdir(), `herald-test-lock-${name}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'pid'), String(dead));
  const started = performance.now();
  assert.equal(await withMachineLock(name, async () => 'ran', 10_000), 'ran');
  assert.ok(performance.now() - started < 5_000, 'did not wait for the dead holder');
});

test('a lock held by a live process is waited for, at most waitMs, then the function runs anyway', async () => {
  const name = `unit-${randomUUID()}`;
  const dir = join(tmpdir(), `herald-test-lock-${name}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'pid'), String(process.pid));
  const started = performance.now();
  assert.equal(await withMachineLock(name, async () => 'ran', 500), 'ran');
  assert.ok(performance.now() - started >= 450, 'waited for the live holder');
  assert.ok(existsSync(dir), "another holder's lock is left alone");
  rmSync(dir, { recursive: true, force: true });
});
