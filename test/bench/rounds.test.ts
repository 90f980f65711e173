/**
 * The throughput scenario's rounds: the systems' order rotates each round (in a fixed order a
 * machine whose speed drifts within a round favoured the same system every round), and each
 * system's reported round is its median one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianRound, roundOrder, runRounds } from '../../bench/lib/rounds.ts';

const SYSTEMS = ['raw-undici', 'herald-sqlite', 'bullmq-redis'];

test('over as many rounds as systems, each system runs once in every position', () => {
  const rounds = [1, 2, 3].map((r) => roundOrder(SYSTEMS, r));
  assert.deepEqual(rounds[0], SYSTEMS, 'the first round runs in the listed order');
  for (const system of SYSTEMS) {
    const positions = rounds.map((order) => order.indexOf(system)).sort();
    assert.deepEqual(positions, [0, 1, 2], `${system} ran at ${positions}`);
  }
  for (const order of rounds)
    assert.deepEqual([...order].sort(), [...SYSTEMS].sort(), 'each runs once a round');
  assert.deepEqual(roundOrder(SYSTEMS, 4), rounds[0], 'and then again from the start');
  // With PostgreSQL too: four systems, four positions over four rounds.
  const four = [...SYSTEMS.slice(0, 2), 'herald-postgres', SYSTEMS[2]!];
  const firsts = [1, 2, 3, 4].map((r) => roundOrder(four, r)[0]);
  assert.deepEqual([...firsts].sort(), [...four].sort());
  assert.deepEqual(
    SYSTEMS,
    ['raw-undici', 'herald-sqlite', 'bullmq-redis'],
    'the caller’s list is not reordered',
  );
});

test('the median round is a round that ran, the upper middle one of an even number', () => {
  const round = (perSec: number, cpu: number) => ({ perSec, cpu });
  const rate = (r: { perSec: number }) => r.perSec;
  assert.deepEqual(medianRound([round(8_829, 1), round(8_432, 2), round(7_659, 3)], rate), round(8_432, 2));
  assert.deepEqual(medianRound([round(5, 1), round(9, 2)], rate), round(9, 2), 'of two, the faster');
  assert.deepEqual(medianRound([round(4, 1), round(1, 2), round(3, 3), round(2, 4)], rate), round(3, 3));
  assert.deepEqual(medianRound([round(7, 1)], rate), round(7, 1));
  assert.throws(() => medianRound([], rate));
});

test('a round that fails is recorded and the others go on, rotated', async () => {
  const ran: string[] = [];
  const phase = (system: string, failIn: number[] = []) => {
    let round = 0;
    return {
      system,
      run: async () => {
        round++;
        ran.push(system);
        if (failIn.includes(round)) throw new Error(`${system} did not start`);
        return { system, perSec: round * 100 };
      },
    };
  };
  const log: string[] = [];
  const { bySystem, order, failures } = await runRounds(
    [phase('raw-undici'), phase('herald-sqlite', [2]), phase('bullmq-redis', [1, 2, 3])],
    3,
    (m) => log.push(m),
  );
  assert.deepEqual(order, [
    ['raw-undici', 'herald-sqlite', 'bullmq-redis'],
    ['herald-sqlite', 'bullmq-redis', 'raw-undici'],
    ['bullmq-redis', 'raw-undici', 'herald-sqlite'],
  ]);
  assert.deepEqual(ran, order.flat(), 'every phase of every round ran, in the rotated order');
  assert.deepEqual(
    failures.map((f) => [f.round, f.system]),
    [
      [1, 'bullmq-redis'],
      [2, 'herald-sqlite'],
      [2, 'bullmq-redis'],
      [3, 'bullmq-redis'],
    ],
  );
  assert.match(failures[1]!.message, /herald-sqlite did not start/);
  assert.deepEqual(
    bySystem.get('raw-undici')?.map((r) => r.perSec),
    [100, 200, 300],
  );
  assert.deepEqual(
    bySystem.get('herald-sqlite')?.map((r) => r.perSec),
    [100, 300],
    'its rounds that ran',
  );
  assert.equal(bySystem.has('bullmq-redis'), false);
  assert.ok(log.some((m) => m.includes('herald-sqlite FAILED')));
});
