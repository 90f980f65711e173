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
  maxEntries?: number | undefined;
  /** Clock in epoch ms (tests). */
  now?: (() => number) | undefined;
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
  store?: IdempotencyStore | undefined;
  /** How long an id is remembered, in seconds (default 24 h). */
  ttlSeconds?: number | undefined;
}

/**
 * What `once` did. A duplicate's `inProgress` is true while the handler of the first delivery of
 * that id (in this process) has not finished: answer it non-2xx (the adapters answer 409), so
 * Herald tries again later. Herald sends its retry of an attempt it gave up on (its timeout, 5 s,
 * then 5 s of delay) whether or not that attempt's handler is still at work, and takes a 2xx for
 * delivered: answered 200, the event was lost when that handler then failed (its id released, no
 * retry left to process it). `inProgress` false: the handler succeeded, answer 200.
 */
export type OnceResult<T> = { duplicate: true; inProgress: boolean } | { duplicate: false; result: T };

export interface Deduplicator {
  /**
   * Runs `handler` unless `id` was already processed (or is being processed). If the handler
   * throws, the id is released so Herald's retry is processed, and the error is rethrown. A null
   * id (a verified webhook without `webhook-id`: `VerifiedWebhook.id`) has nothing to recognise a
   * repeat by: its handler runs and nothing is recorded, as the adapters do.
   */
  once<T>(id: string | null, handler: () => T | Promise<T>): Promise<OnceResult<T>>;
  /**
   * True when `id` is new (and now claimed). It is in progress (`inProgress`) until `settle` or
   * `release`.
   */
  claim(id: string): Promise<boolean>;
  /**
   * True while `id` is claimed through this deduplicator and neither settled nor released: its
   * handler is still at work in this process. An id claimed by another process through a shared
   * store is not seen here.
   */
  inProgress(id: string): boolean;
  /** Its handler succeeded: `id` stays recorded, and is no longer in progress. */
  settle(id: string): void;
  /**
   * Forgets `id` (its handler failed): the next delivery of it is processed. Never rejects: if the
   * store's release fails, it is tried again when `id` is next claimed here (that claim fails,
   * with the store's error, while the store still does).
   */
  release(id: string): Promise<void>;
}

/** A {@link Deduplicator} over `store` (default: an in-memory LRU of 10 000 ids). */
export function createDeduplicator(options: DeduplicatorOptions = {}): Deduplicator {
  const store = options.store ?? new MemoryIdempotencyStore();
  const ttlMs = (options.ttlSeconds ?? 86_400) * 1000;
  /**
   * Ids claimed here whose handler has not finished (as many as handlers are running), each with
   * a token of its claim: a release waiting for its store does not end a claim made since.
   */
  const running = new Map<string, object>();
  /**
   * Ids whose release the store failed (unreachable): still recorded there, so their retry would
   * be a duplicate. Released again first when they are next claimed here.
   */
  const unreleased = new Set<string>();
  const claim = async (id: string) => {
    if (unreleased.has(id)) {
      await store.release(id); // failing again, the claim fails: the retry is not answered 2xx
      unreleased.delete(id);
    }
    const claimed = await store.claim(id, ttlMs);
    if (claimed) running.set(id, {});
    return claimed;
  };
  const settle = (id: string) => {
    running.delete(id);
  };
  const release = async (id: string) => {
    const token = running.get(id);
    try {
      await store.release(id);
    } catch {
      // Not thrown: the adapters release in a response's event, where a rejection ended the
      // process, and once() rethrows its handler's error. Released again at the next claim.
      unreleased.add(id);
    } finally {
      if (running.get(id) === token) running.delete(id);
    }
  };
  return {
    claim,
    settle,
    release,
    inProgress: (id) => running.has(id),
    async once(id, handler) {
      // Not claimed as the text "null" (or a Map key null): every webhook without an id was
      // taken for a repeat of the first one, and dropped.
      if (id === null) return { duplicate: false, result: await handler() };
      if (!(await claim(id))) return { duplicate: true, inProgress: running.has(id) };
      let result: Awaited<ReturnType<typeof handler>>;
      try {
        result = await handler();
      } catch (error) {
        await release(id);
        throw error;
      }
      settle(id);
      return { duplicate: false, result };
    },
  };
}
