/** The event-type catalog, loaded once per client and shared by the screens that need it. */
import type { HeraldClient } from './api/client.ts';
import type { EventType } from './api/types.ts';
import { useApp } from './app-context.ts';
import { clientCache } from './client-cache.ts';
import { type AsyncState, useAsync } from './use-async.ts';

const catalogs = clientCache((client) => client.listEventTypes());

/** Forgets the cached catalog (after an edit on the catalog screen). */
export function invalidateCatalog(client: HeraldClient): void {
  catalogs.forget(client);
}

export function useCatalog(): AsyncState<EventType[]> {
  const { client } = useApp();
  return useAsync(() => catalogs.get(client), [client]);
}
