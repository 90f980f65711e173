/**
 * The throughput scenario's rounds: the systems' order rotates each round (in a fixed order a
 * machine whose speed drifts within a round favoured the same system every round), and each
 * system's reported round is its median one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianRound, roundOrder } from '../../bench/lib/rounds.ts';

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
