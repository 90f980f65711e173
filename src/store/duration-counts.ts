/**
 * One chart bucket counted over several steps (a bucket with more attempts than a step of the
 * stats reads, both stores' bucketStats): its attempts per duration, at most one entry per
 * distinct duration, never one per attempt. The p95 is by nearest rank, the ceil(0.95·n)-th
 * smallest duration, as the stores' statements take it for a bucket read whole.
 */
import type { StatsBucket } from './store.ts';

export class DurationCounts {
  readonly #durations = new Map<number, number>();
  #n = 0;
  #succeeded = 0;
  #total = 0;

  /** `n` attempts that took `duration` ms, `succeeded` of them successful. */
  add(duration: number, n: number, succeeded: number): void {
    this.#n += n;
    this.#succeeded += succeeded;
    this.#total += duration * n;
    this.#durations.set(duration, (this.#durations.get(duration) ?? 0) + n);
  }

  /** The bucket's counts, mean and p95; null when it had no attempts. */
  stats(): Omit<StatsBucket, 'start'> | null {
    const n = this.#n;
    if (n === 0) return null;
    const rank = Math.ceil(0.95 * n);
    let seen = 0;
    let p95 = 0;
    for (const d of [...this.#durations.keys()].sort((x, y) => x - y)) {
      p95 = d;
      seen += this.#durations.get(d)!;
      if (seen >= rank) break;
    }
    return {
      succeeded: this.#succeeded,
      failed: n - this.#succeeded,
      avgDurationMs: this.#total / n,
      p95DurationMs: p95,
    };
  }
}
