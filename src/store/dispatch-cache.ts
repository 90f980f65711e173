/**
 * The dispatcher's view of endpoints (settings with their valid secrets, decrypted), kept between
 * claims and tagged with the project's `dispatch_version`, which the database's triggers bump on
 * every change to an endpoint or a secret (SQLite migration 0006). A read checks the version first
 * and reuses an entry only when it was loaded under that version and none of its secrets has
 * expired since: never staler than a read of the rows. In single-event ingest (small claims) the
 * per-claim read and decryption were ~10 % of the delivering thread's CPU.
 *
 * The secrets are held decrypted in the dispatcher's memory while cached, as they are while sent.
 * Bounded: the least recently used endpoints go first.
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

interface Entry {
  projectId: string;
  version: number;
  value: DispatchEndpoint;
  /** The earliest expiry of its secrets: the entry is not used from then on. */
  validUntil: number;
}

export class DispatchCache {
  readonly #limit: number;
  /** In use order: a Map iterates in insertion order, and a hit is moved to the end. */
  readonly #entries = new Map<string, Entry>();

  constructor(limit = DISPATCH_CACHE_ENDPOINTS) {
    this.#limit = limit;
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
    this.#entries.set(endpointId, { projectId, version, value, validUntil });
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Endpoints held (for tests). */
  get size(): number {
    return this.#entries.size;
  }
}
