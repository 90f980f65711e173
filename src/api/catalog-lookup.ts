/**
 * Whether event types are in the catalog, for the checks of an enforced catalog (events sent,
 * endpoint filters). Each name is looked up once per request: a batch of 1,000 events of one type
 * asks the store once. Only the name is looked up, never the entry's schema and example.
 */
import type { Store } from '../store/store.ts';

export type CatalogLookup = (name: string) => Promise<boolean>;

export function catalogLookup(store: Pick<Store, 'hasEventType'>): CatalogLookup {
  const known = new Map<string, Promise<boolean>>();
  return (name) => {
    let found = known.get(name);
    if (!found) {
      found = store.hasEventType(name);
      known.set(name, found);
    }
    return found;
  };
}
