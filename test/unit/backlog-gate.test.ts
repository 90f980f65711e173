import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BacklogFullError,
  BacklogGate,
  backlogRefusals,
  FULL_RECOUNT_MS,
  REFRESH_MS,
} from '../../src/api/backlog-gate.ts';

/** A gate over a fake count whose pending number and cost the test sets; counts are recorded. */
function gateOver(limit: number) {
  let now = 1_000_000;
  const world = { pending: 0, costMs: 0, counts: 0, fail: false, changes: [] as string[] };
  const gate = new BacklogGate({
    limit,
    clock: () => now,
    onChange: (projectId, full, pending) =>
      world.changes.push(`${projectId} ${full ? 'full' : 'room'} ${pending}`),
    count: async (_projectId, atMost) => {
      world.counts++;
      now += world.costMs;
      if (world.fail) throw new Error('database unreachable');
      return Math.min(world.pending, atMost);
    },
  });
  const tick = (ms: number) => {
    now += ms;
  };
  /** Lets a count started in the background finish. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { gate, world, tick, settle };
}

const refusal = async (promise: Promise<void>): Promise<BacklogFullError> => {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BacklogFullError, String(error));
    return error;
  }
  assert.fail('admitted, expected 429');
};

describe('BacklogGate', () => {
  test('a project under its limit is admitted without waiting for a count; the first one is counted in the background', async () => {
    const { gate, world, settle } = gateOver(100);
    world.pending = 10;
    await gate.admit('p1');
    gate.added('p1', 5);
    await settle();
    assert.equal(world.counts, 1);
    await gate.admit('p1');
    await gate.admit('p1');
    assert.equal(world.counts, 1, 'a fresh count is reused');
  });

  test('what this process accepted since the count is added to it: reaching the limit counts again and refuses', async () => {
    const { gate, world, settle } = gateOver(100);
    world.pending = 0;
    await gate.admit('p1');
    await settle();
    gate.added('p1', 60);
    await gate.admit('p1'); // 60 < 100: no count
    assert.equal(world.counts, 1);
    gate.added('p1', 40);
    world.pending = 100; // nothing was delivered
    const refusedBefore = backlogRefusals();
    const error = await refusal(gate.admit('p1'));
    assert.equal(world.counts, 2, 'counted again at the limit');
    assert.equal(error.status, 429);
    assert.equal(error.code, 'HERALD_ERR_BACKLOG_FULL');
    assert.deepEqual(error.details, { limit: 100, pending: 100, retryAfterSeconds: 1 });
    assert.match(error.message, /reached its limit of 100 pending deliveries.*counted: 100/);
    // Counted by the caller once the request is not a repeat of accepted events (accept-events.ts).
    assert.equal(backlogRefusals(), refusedBefore);
  });

  test('a full project is refused without a count until FULL_RECOUNT_MS has passed, then admitted once delivered', async () => {
    const { gate, world, tick, settle } = gateOver(100);
    world.pending = 150;
    await gate.admit('p1'); // not counted yet: admitted, counted in the background
    await settle();
    await refusal(gate.admit('p1'));
    const counts = world.counts;
    tick(FULL_RECOUNT_MS - 1);
    await refusal(gate.admit('p1'));
    assert.equal(world.counts, counts, 'no count within FULL_RECOUNT_MS of the last');
    world.pending = 99;
    tick(1);
    await gate.admit('p1');
    assert.equal(world.counts, counts + 1);
  });

  test('a count that finds the project full, and the first that finds room again, are reported once each', async () => {
    const { gate, world, tick, settle } = gateOver(100);
    world.pending = 40;
    await gate.admit('p1');
    await settle();
    world.pending = 100;
    gate.added('p1', 60);
    await refusal(gate.admit('p1'));
    tick(FULL_RECOUNT_MS);
    await refusal(gate.admit('p1'));
    world.pending = 30;
    tick(FULL_RECOUNT_MS);
    await gate.admit('p1');
    tick(REFRESH_MS);
    await gate.admit('p1');
    await settle();
    assert.deepEqual(world.changes, ['p1 full 100', 'p1 room 30']);
  });

  test('projects are counted apart: one full project does not refuse another', async () => {
    const { gate, world, settle } = gateOver(100);
    world.pending = 500;
    await gate.admit('noisy');
    await settle();
    await refusal(gate.admit('noisy'));
    world.pending = 0;
    await gate.admit('quiet');
    await gate.admit('quiet');
  });

  test('a count older than REFRESH_MS is taken again in the background, so a backlog grown elsewhere is seen', async () => {
    const { gate, world, tick, settle } = gateOver(100);
    world.pending = 0;
    await gate.admit('p1');
    await settle();
    world.pending = 120; // another API process's accepts, or an enable resuming parked work
    tick(REFRESH_MS - 1);
    await gate.admit('p1');
    await settle();
    assert.equal(world.counts, 1);
    tick(1);
    await gate.admit('p1'); // still admitted: the count runs in the background
    await settle();
    assert.equal(world.counts, 2);
    await refusal(gate.admit('p1'));
  });

  test('a slow count spaces the next ones out: twenty times its cost, which Retry-After says', async () => {
    const { gate, world, tick, settle } = gateOver(100);
    world.pending = 100;
    world.costMs = 300; // a large backlog takes long to count
    await gate.admit('p1');
    await settle();
    const error = await refusal(gate.admit('p1'));
    assert.equal(error.retryAfterSeconds, 6);
    const counts = world.counts;
    tick(5_000);
    await refusal(gate.admit('p1'));
    assert.equal(world.counts, counts, 'not counted again within 20 × 300 ms');
  });

  test('concurrent requests at the limit share one count', async () => {
    const { gate, world, settle } = gateOver(10);
    await gate.admit('p1');
    await settle();
    gate.added('p1', 10);
    world.pending = 3;
    const before = world.counts;
    await Promise.all([gate.admit('p1'), gate.admit('p1'), gate.admit('p1')]);
    assert.equal(world.counts, before + 1);
  });

  test('a count that fails keeps the last one and does not hold requests under it', async () => {
    const { gate, world, settle, tick } = gateOver(100);
    world.pending = 5;
    await gate.admit('p1');
    await settle();
    world.fail = true;
    tick(REFRESH_MS);
    await gate.admit('p1');
    await settle();
    await gate.admit('p1');
    assert.equal(world.counts, 2, 'the failed count is not retried at once');
    // A count that fails slowly (a query timeout) spaces the next ones out as a slow count does.
    world.costMs = 1_000;
    tick(REFRESH_MS);
    await gate.admit('p1');
    await settle();
    assert.equal(world.counts, 3);
    tick(REFRESH_MS);
    await gate.admit('p1');
    await settle();
    assert.equal(world.counts, 3, 'not within 20 × 1 s of a count that took 1 s');
    tick(10_000);
    await gate.admit('p1');
    await settle();
    assert.equal(world.counts, 4);
  });

  test("a project's own limit replaces the gate's: 0 admits without counting, and a count capped at a lower limit is taken again when the limit is raised", async () => {
    const { gate, world, settle } = gateOver(0);
    world.pending = 100;
    await gate.admit('p1');
    await gate.admit('p1', null);
    await gate.admit('p1', 0);
    assert.equal(world.counts, 0, 'no limit: nothing counted');

    // A limit after none: counted before the request is admitted (capped at 10), and refused.
    const low = await refusal(gate.admit('p1', 10));
    assert.equal(world.counts, 1);
    await settle();
    assert.equal(low.details?.limit, 10);
    assert.match(low.message, /the project's backlogLimit/);
    // Raised to 100 with 100 really pending: the count that stopped at 10 says only "at least 10".
    const raised = await refusal(gate.admit('p1', 100));
    assert.equal(world.counts, 2, 'counted again at once, up to the new limit');
    assert.deepEqual(raised.details, { limit: 100, pending: 100, retryAfterSeconds: 1 });
    // Lowered again: the count at the higher cap is a bound for it, no count needed.
    await refusal(gate.admit('p1', 50));
    assert.equal(world.counts, 2);
  });
});
