/**
 * Counts by key for a throttled log line (unauthorized-log.ts, scope-refusal-log.ts): the keys
 * seen most, bounded, so that a storm spread over many keys (addresses, API keys) costs a fixed
 * amount of memory; past the bound, the other keys' counts are added up together.
 */
export class TopCounts {
  readonly #max: number;
  readonly #counts = new Map<string, number>();
  #other = 0;

  constructor(max: number) {
    this.#max = max;
  }

  add(key: string): void {
    const seen = this.#counts.get(key);
    if (seen !== undefined || this.#counts.size < this.#max) this.#counts.set(key, (seen ?? 0) + 1);
    else this.#other++;
  }

  /** The `n` keys counted most, most first. */
  top(n: number): [string, number][] {
    return [...this.#counts].sort((a, b) => b[1] - a[1]).slice(0, n);
  }

  /** Keys counted, those past the bound counting as one. */
  get distinct(): number {
    return this.#counts.size + (this.#other > 0 ? 1 : 0);
  }

  /** Counted past the bound, under keys not told apart. */
  get other(): number {
    return this.#other;
  }
}
