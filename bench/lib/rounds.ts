/** How the throughput scenario's systems take turns, and which of a system's rounds it reports. */

/**
 * The order of round `round` (from 1): the systems' list rotated by one place a round. In a fixed
 * order a machine whose speed drifts within a round (a neighbour's load starting, the CPU's clock
 * settling) favours the same system every round; rotated, each system runs once in every position
 * over as many rounds as there are systems (3 in the full run), so a drift falls on each alike.
 */
export function roundOrder<T>(systems: readonly T[], round: number): T[] {
  if (systems.length === 0) return [];
  const k = (round - 1) % systems.length;
  return [...systems.slice(k), ...systems.slice(0, k)];
}

/**
 * The median round by `rate`: a round that ran, so that its other fields (CPU, backlog) are that
 * round's. With an even number of rounds it is the upper of the two middle ones (of 2 rounds, the
 * faster), the same rule for every system.
 */
export function medianRound<T>(rounds: readonly T[], rate: (round: T) => number): T {
  if (rounds.length === 0) throw new Error('medianRound: no rounds');
  const sorted = [...rounds].sort((a, b) => rate(a) - rate(b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One system's phase of the throughput scenario. */
export interface Phase<T> {
  system: string;
  run: () => Promise<T>;
}

/** A phase that threw: the round, the system, and why. */
export interface RoundFailure {
  round: number;
  system: string;
  message: string;
}

/**
 * Runs `rounds` rounds of `phases` in the rotated order. A phase that throws (a system that did not
 * start, a Redis that died) is recorded and the rounds go on: before, it ended the scenario and the
 * rounds already measured, every system's, were lost with it.
 */
export async function runRounds<T>(
  phases: readonly Phase<T>[],
  rounds: number,
  log: (message: string) => void,
): Promise<{ bySystem: Map<string, T[]>; order: string[][]; failures: RoundFailure[] }> {
  const bySystem = new Map<string, T[]>();
  const order: string[][] = [];
  const failures: RoundFailure[] = [];
  for (let round = 1; round <= rounds; round++) {
    const turn = roundOrder(phases, round);
    order.push(turn.map((p) => p.system));
    log(`round ${round} of ${rounds}: ${order.at(-1)!.join(', ')}`);
    for (const { system, run } of turn) {
      try {
        const result = await run();
        bySystem.set(system, [...(bySystem.get(system) ?? []), result]);
      } catch (error) {
        const message = (error as Error).stack ?? String(error);
        failures.push({ round, system, message });
        log(`round ${round}: ${system} FAILED: ${message}`);
      }
    }
  }
  return { bySystem, order, failures };
}
