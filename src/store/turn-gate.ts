/**
 * Runs at most `limit` calls at once; the others wait, in the order they came, without holding
 * anything meanwhile. The PostgreSQL store reads charts through one (postgres-store.ts), so that
 * long reads never hold every connection of its pool.
 */
export class TurnGate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#running < this.limit) this.#running++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await call();
    } finally {
      // The turn passes straight to the next waiting call, if any: #running stays as it is.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
