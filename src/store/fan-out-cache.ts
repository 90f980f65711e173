/**
 * Each project's fan-out list (the part of its endpoints that decides who gets an event), kept
 * between accepts and tagged with the project's `fan_out_version`, which the database's triggers
 * bump on every change to it. An accept reads the version inside its write transaction; the list is
 * reused only when the version is the one it was loaded under, so it is never staler than a read.
 * A list is put here only after the transaction that read it committed (accept-events.ts).
 *
 * Bounded by the number of endpoints held: the least recently used projects go first.
 */
import type { Endpoint } from '../domain/types.ts';

/** The part of an endpoint that fan-out reads. */
export type FanOutEndpoint = Readonly<Pick<Endpoint, 'id' | 'url' | 'status' | 'dev' | 'eventTypes'>>;

/** Endpoints held across all projects before the least recently used lists are dropped. */
export const FAN_OUT_CACHE_ENDPOINTS = 100_000;

export class FanOutCache {
  readonly #limit: number;
  /** In use order: a Map iterates in insertion order, and a hit is moved to the end. */
  readonly #lists = new Map<string, { version: number; endpoints: readonly FanOutEndpoint[] }>();
  #held = 0;

  constructor(limit = FAN_OUT_CACHE_ENDPOINTS) {
    this.#limit = limit;
  }

  /** The list loaded under `version`, or undefined when there is none or it changed since. */
  get(projectId: string, version: number): readonly FanOutEndpoint[] | undefined {
    const entry = this.#lists.get(projectId);
    if (!entry) return undefined;
    this.#lists.delete(projectId);
    if (entry.version !== version) {
      this.#held -= entry.endpoints.length;
      return undefined;
    }
    this.#lists.set(projectId, entry);
    return entry.endpoints;
  }

  set(projectId: string, version: number, endpoints: readonly FanOutEndpoint[]): void {
    const old = this.#lists.get(projectId);
    if (old) {
      this.#lists.delete(projectId);
      this.#held -= old.endpoints.length;
    }
    if (endpoints.length > this.#limit) return;
    this.#lists.set(projectId, { version, endpoints });
    this.#held += endpoints.length;
    for (const [id, entry] of this.#lists) {
      if (this.#held <= this.#limit) break;
      this.#lists.delete(id);
      this.#held -= entry.endpoints.length;
    }
  }

  /** Endpoints held (for tests). */
  get size(): number {
    return this.#held;
  }
}
