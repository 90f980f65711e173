/** The event-type catalog, loaded once per client and shared by the screens that need it. */
import type { HeraldClient } from './api/client.ts';
import type { EventType } from './api/types.ts';
import { useApp } from './app-context.ts';
import { type AsyncState, useAsync } from './use-async.ts';

const cache = new WeakMap<HeraldClient, Promise<EventType[]>>();

/** Forgets the cached catalog (after an edit on the catalog screen). */
export function invalidateCatalog(client: HeraldClient): void {
  cache.delete(client);
}

export function useCatalog(): AsyncState<EventType[]> {
  const { client } = useApp();
  return useAsync(() => {
    let pending = cache.get(client);
    if (!pending) {
      pending = client.listEventTypes();
      // A failed load is not kept, so "Try again" really tries again.
      pending.catch(() => cache.delete(client));
      cache.set(client, pending);
    }
    return pending;
  }, [client]);
}
