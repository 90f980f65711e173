/** The event-type catalog, loaded once per client and shared by the screens that need it. */
import type { Capped } from './api/capped-list.ts';
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

/** The catalog's types (up to EVENT_TYPES_CAP; useCatalogList says whether it stopped there). */
export function useCatalog(): AsyncState<EventType[]> {
  const { client } = useApp();
  return useAsync(async () => (await catalogs.get(client)).data, [client]);
}

/** The catalog as read, with the cursor of the types past EVENT_TYPES_CAP when there are more. */
export function useCatalogList(): AsyncState<Capped<EventType>> {
  const { client } = useApp();
  return useAsync(() => catalogs.get(client), [client]);
}
