/**
 * De-duplication by `webhook-id`. Herald delivers at least once and keeps the event id in
 * `webhook-id` across retries, so a receiver that remembers ids it has processed sees each event
 * once. The store is pluggable (Redis, a database table); the default is a bounded in-memory LRU
 * with a TTL, right for one process.
 */

export interface IdempotencyStore {
  /** Records `id` for `ttlMs` unless it is already recorded; true when this call recorded it. */
  claim(id: string, ttlMs: number): boolean | Promise<boolean>;
  /** Forgets `id`, so a later delivery of it is processed again (after a failed handler). */
  release(id: string): void | Promise<void>;
}

export interface MemoryIdempotencyStoreOptions {
  /** Most ids kept; the least recently seen go first (default 10 000). */
  maxEntries?: number;
  /** Clock in epoch ms (tests). */
  now?: () => number;
}

/** In-memory {@link IdempotencyStore}: a Map in recency order with per-entry expiry. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #expiries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#now = options.now ?? Date.now;
  }

  claim(id: string, ttlMs: number): boolean {
    const now = this.#now();
    const expiry = this.#expiries.get(id);
    this.#expiries.delete(id);
    if (expiry !== undefined && expiry > now) {
      this.#expiries.set(id, expiry); // seen again: most recent now, same expiry
      return false;
    }
    this.#expiries.set(id, now + ttlMs);
    this.#evict(now);
    return true;
  }

  release(id: string): void {
    this.#expiries.delete(id);
  }

  /** Ids currently remembered (expired ones may linger until evicted). */
  get size(): number {
    return this.#expiries.size;
  }

  #evict(now: number): void {
    // Oldest first: drop expired entries at the front, then whatever exceeds the bound.
    for (const [id, expiry] of this.#expiries) {
      if (this.#expiries.size <= this.#maxEntries && expiry > now) break;
      this.#expiries.delete(id);
    }
  }
}

export interface DeduplicatorOptions {
  store?: IdempotencyStore;
  /** How long an id is remembered, in seconds (default 24 h). */
  ttlSeconds?: number;
}

export type OnceResult<T> = { duplicate: true } | { duplicate: false; result: T };

export interface Deduplicator {
  /**
   * Runs `handler` unless `id` was already processed (or is being processed). If the handler
   * throws, the id is released so Herald's retry is processed, and the error is rethrown. A null
   * id (a verified webhook without `webhook-id`: `VerifiedWebhook.id`) has nothing to recognise a
   * repeat by: its handler runs and nothing is recorded, as the adapters do.
   */
  once<T>(id: string | null, handler: () => T | Promise<T>): Promise<OnceResult<T>>;
  /** True when `id` is new (and now claimed). */
  claim(id: string): Promise<boolean>;
  /** Forgets `id`. */
  release(id: string): Promise<void>;
}

/** A {@link Deduplicator} over `store` (default: an in-memory LRU of 10 000 ids). */
export function createDeduplicator(options: DeduplicatorOptions = {}): Deduplicator {
  const store = options.store ?? new MemoryIdempotencyStore();
  const ttlMs = (options.ttlSeconds ?? 86_400) * 1000;
  const claim = async (id: string) => await store.claim(id, ttlMs);
  const release = async (id: string) => {
    await store.release(id);
  };
  return {
    claim,
    release,
    async once(id, handler) {
      // Not claimed as the text "null" (or a Map key null): every webhook without an id was
      // taken for a repeat of the first one, and dropped.
      if (id === null) return { duplicate: false, result: await handler() };
      if (!(await claim(id))) return { duplicate: true };
      try {
        return { duplicate: false, result: await handler() };
      } catch (error) {
        await release(id);
        throw error;
      }
    },
  };
}
