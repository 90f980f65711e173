/**
 * The dispatcher's view of endpoints (settings with their valid secrets, decrypted), kept between
 * claims and tagged with the project's `dispatch_version`, which the database's triggers bump on
 * every change to an endpoint or a secret (SQLite migration 0006). A read checks the version first
 * and reuses an entry only when it was loaded under that version and none of its secrets has
 * expired since: never staler than a read of the rows. In single-event ingest (small claims) the
 * per-claim read and decryption were ~10 % of the delivering thread's CPU.
 *
 * The secrets are held decrypted in the dispatcher's memory while cached, as they are while sent.
 * Bounded in number (the least recently used endpoints go first) and in time: the dispatcher runs
 * on a thread of its own, with its own store, and is not told of deletes, so an entry nothing asks
 * for again (a deleted endpoint or project, a disabled endpoint, an endpoint whose rotated secret's
 * grace ran out and that receives nothing since) would otherwise keep its decrypted secrets until
 * 10,000 others pushed it out. A sweep every DISPATCH_CACHE_SWEEP_MS drops the entries loaded at
 * least DISPATCH_CACHE_MAX_AGE_MS ago, so none is held longer than the sum (40 s); an endpoint
 * still sending is read again once per that, on its next claim. The sweep runs off the claims'
 * path (a timer, only while entries are held), so a hit costs what it did.
 */
import type { Endpoint, EndpointSecret } from '../domain/types.ts';
import { isSecretKeyMismatch } from './secret-cipher.ts';
import type { DispatchEndpoint } from './store.ts';

/**
 * An endpoint's view with its secrets opened, or marked `unopened` when they do not open with this
 * process's key: one such endpoint must not fail the whole batch it was claimed in.
 */
export function dispatchView(endpoint: Endpoint, openSecrets: () => EndpointSecret[]): DispatchEndpoint {
  try {
    return { endpoint, secrets: openSecrets() };
  } catch (error) {
    if (!isSecretKeyMismatch(error)) throw error;
    return { endpoint, secrets: [], unopened: error };
  }
}

/** Endpoints held before the least recently used are dropped. */
export const DISPATCH_CACHE_ENDPOINTS = 10_000;
/** Entries loaded at least this long ago are dropped at the next sweep. */
export const DISPATCH_CACHE_MAX_AGE_MS = 30_000;
/** How often the entries are swept while some are held. */
export const DISPATCH_CACHE_SWEEP_MS = 10_000;

export interface DispatchCacheOptions {
  /** Endpoints held (default DISPATCH_CACHE_ENDPOINTS). */
  limit?: number;
  /** Default DISPATCH_CACHE_MAX_AGE_MS; tests shorten it. */
  maxAgeMs?: number;
  /** Default DISPATCH_CACHE_SWEEP_MS; tests shorten it. */
  sweepMs?: number;
  /** A monotonic clock in ms (the age is real time held in memory, whatever clock callers pass). */
  monotonic?: () => number;
}

interface Entry {
  projectId: string;
  version: number;
  value: DispatchEndpoint;
  /** The earliest expiry of its secrets: the entry is not used from then on. */
  validUntil: number;
  /** When it was loaded, by the monotonic clock (the sweep drops it once old). */
  loadedAt: number;
}

export class DispatchCache {
  readonly #limit: number;
  readonly #maxAgeMs: number;
  readonly #sweepMs: number;
  readonly #monotonic: () => number;
  /** In use order: a Map iterates in insertion order, and a hit is moved to the end. */
  readonly #entries = new Map<string, Entry>();
  /** The sweep's timer, while entries are held. */
  #sweeper: NodeJS.Timeout | null = null;

  constructor(options: DispatchCacheOptions = {}) {
    this.#limit = options.limit ?? DISPATCH_CACHE_ENDPOINTS;
    this.#maxAgeMs = options.maxAgeMs ?? DISPATCH_CACHE_MAX_AGE_MS;
    this.#sweepMs = options.sweepMs ?? DISPATCH_CACHE_SWEEP_MS;
    this.#monotonic = options.monotonic ?? performance.now.bind(performance);
  }

  /** The entry loaded under `version` and still valid at `now`, or undefined. */
  get(projectId: string, endpointId: string, version: number, now: number): DispatchEndpoint | undefined {
    const entry = this.#entries.get(endpointId);
    if (!entry) return undefined;
    this.#entries.delete(endpointId);
    if (entry.projectId !== projectId || entry.version !== version || now >= entry.validUntil)
      return undefined;
    this.#entries.set(endpointId, entry);
    return entry.value;
  }

  /** Keeps `value`, read at `now` after `version` was read. */
  set(projectId: string, endpointId: string, version: number, value: DispatchEndpoint): void {
    let validUntil = Number.POSITIVE_INFINITY;
    for (const s of value.secrets)
      if (s.expiresAt !== null && s.expiresAt < validUntil) validUntil = s.expiresAt;
    this.#entries.delete(endpointId);
    this.#entries.set(endpointId, { projectId, version, value, validUntil, loadedAt: this.#monotonic() });
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(() => this.sweep(), this.#sweepMs);
      this.#sweeper.unref(); // it never keeps a process (or the dispatcher's thread) alive
    }
  }

  /** Drops the entries loaded at least the maximum age ago; the timer stops once none is held. */
  sweep(): void {
    const oldest = this.#monotonic() - this.#maxAgeMs;
    for (const [endpointId, entry] of this.#entries)
      if (entry.loadedAt <= oldest) this.#entries.delete(endpointId);
    if (this.#entries.size === 0) this.#stopSweeping();
  }

  /** Drops the endpoint's entry (deleted through this store). */
  delete(projectId: string, endpointId: string): void {
    if (this.#entries.get(endpointId)?.projectId === projectId) this.#entries.delete(endpointId);
  }

  /** Drops the project's entries (deleted through this store). */
  deleteProject(projectId: string): void {
    for (const [endpointId, entry] of this.#entries)
      if (entry.projectId === projectId) this.#entries.delete(endpointId);
  }

  /** Drops every entry and stops the sweep (the store is closed). */
  clear(): void {
    this.#entries.clear();
    this.#stopSweeping();
  }

  #stopSweeping(): void {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  /** Endpoints held (for tests). */
  get size(): number {
    return this.#entries.size;
  }
}
