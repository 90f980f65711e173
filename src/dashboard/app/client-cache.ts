/**
 * One load per API client, shared by every screen that asks (the catalog, the installation's
 * settings). A failed load is not kept: the next ask ("Try again", the next form) loads again.
 */
import type { HeraldClient } from './api/client.ts';

export interface ClientCache<T> {
  get(client: HeraldClient): Promise<T>;
  /** Forgets what was loaded for `client` (after an edit). */
  forget(client: HeraldClient): void;
}

export function clientCache<T>(load: (client: HeraldClient) => Promise<T>): ClientCache<T> {
  const cache = new WeakMap<HeraldClient, Promise<T>>();
  return {
    get(client) {
      let pending = cache.get(client);
      if (!pending) {
        pending = load(client);
        pending.catch(() => cache.delete(client));
        cache.set(client, pending);
      }
      return pending;
    },
    forget: (client) => cache.delete(client),
  };
}
