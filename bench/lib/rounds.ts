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
