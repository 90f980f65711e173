/**
 * Each project's fan-out list (the part of its endpoints that decides who gets an event), kept
 * between accepts and tagged with the project's `fan_out_version`, which the database's triggers
 * bump on every change to it. An accept reads the version inside its write transaction; the list is
 * reused only when the version is the one it was loaded under, so it is never staler than a read.
 * A list is put here only after the transaction that read it committed (accept-events.ts).
 *
 * Bounded by the number of endpoints held, a project with none counting as one: the least recently
 * used projects go first. (Counted by endpoints alone, the lists of projects without endpoints, such
 * as projects events were sent to before any endpoint was added or after the last was deleted,
 * weighed nothing and were kept for the process's life, one per project ever seen.)
 */
import type { Endpoint } from '../domain/types.ts';

/** The part of an endpoint that fan-out reads. */
export type FanOutEndpoint = Readonly<Pick<Endpoint, 'id' | 'url' | 'status' | 'dev' | 'eventTypes'>>;

/** Endpoints held across all projects (a project with none: one) before the least recently used lists are dropped. */
export const FAN_OUT_CACHE_ENDPOINTS = 100_000;

/** What a list counts against the bound. */
const weight = (endpoints: readonly FanOutEndpoint[]) => Math.max(1, endpoints.length);

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
      this.#held -= weight(entry.endpoints);
      return undefined;
    }
    this.#lists.set(projectId, entry);
    return entry.endpoints;
  }

  set(projectId: string, version: number, endpoints: readonly FanOutEndpoint[]): void {
    const old = this.#lists.get(projectId);
    if (old) {
      this.#lists.delete(projectId);
      this.#held -= weight(old.endpoints);
    }
    if (weight(endpoints) > this.#limit) return;
    this.#lists.set(projectId, { version, endpoints });
    this.#held += weight(endpoints);
    for (const [id, entry] of this.#lists) {
      if (this.#held <= this.#limit) break;
      this.#lists.delete(id);
      this.#held -= weight(entry.endpoints);
    }
  }

  /** Forgets the project's list (the project was deleted). */
  delete(projectId: string): void {
    const entry = this.#lists.get(projectId);
    if (!entry) return;
    this.#lists.delete(projectId);
    this.#held -= weight(entry.endpoints);
  }

  /** Endpoints held, a project with none counting as one (for tests). */
  get size(): number {
    return this.#held;
  }
}
