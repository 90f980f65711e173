/** Where the rate gate puts back deliveries that got no token (real SQLite store for the tokens). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createRateGate } from '../../src/delivery/rate-gate.ts';
import type { Endpoint } from '../../src/domain/types.ts';
import { openStore } from '../../src/store/open-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-rate-gate-'));
const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const endpoint = (id: string, perSecond: number) =>
  ({ id, projectId: 'p', status: 'active', rateLimit: { perSecond, burst: 1 } }) as unknown as Endpoint;

describe('rate gate: putting back', () => {
  test('the first of a batch comes back with the next token, the others one token apart after it', async () => {
    const gate = createRateGate(store);
    const ep = endpoint('e1', 10); // 100 ms a token
    await gate.prepare([], new Map(), 1_000);
    assert.deepEqual(
      [0, 1, 2, 3].map(() => gate.putBackAt(ep, 1_000, 40)),
      [1_040, 1_140, 1_240, 1_340],
    );
  });

  test('a later batch goes after what earlier batches put back, not on top of it', async () => {
    const gate = createRateGate(store);
    const ep = endpoint('e1', 10);
    await gate.prepare([], new Map(), 1_000);
    for (let i = 0; i < 4; i++) gate.putBackAt(ep, 1_000, 40); // up to 1,340
    await gate.prepare([], new Map(), 1_010);
    // Its first keeps the next token (it may be one that came back a moment early); the rest queue
    // behind 1,340 instead of colliding with 1,140 and 1,240.
    assert.deepEqual(
      [0, 1, 2].map(() => gate.putBackAt(ep, 1_010, 30)),
      [1_040, 1_440, 1_540],
    );
  });

  test('an endpoint idle for long starts from the next token again', async () => {
    const gate = createRateGate(store);
    const ep = endpoint('e1', 10);
    await gate.prepare([], new Map(), 1_000);
    for (let i = 0; i < 3; i++) gate.putBackAt(ep, 1_000, 40);
    await gate.prepare([], new Map(), 60_000);
    assert.deepEqual(
      [0, 1].map(() => gate.putBackAt(ep, 60_000, 50)),
      [60_050, 60_150],
    );
  });

  test('endpoints are spaced each by their own rate', async () => {
    const gate = createRateGate(store);
    const slow = endpoint('slow', 1);
    const fast = endpoint('fast', 100);
    await gate.prepare([], new Map(), 0);
    const got = [
      gate.putBackAt(slow, 0, 5),
      gate.putBackAt(fast, 0, 5),
      gate.putBackAt(slow, 0, 5),
      gate.putBackAt(fast, 0, 5),
    ];
    assert.deepEqual(got, [5, 5, 1_005, 15]);
  });
});
