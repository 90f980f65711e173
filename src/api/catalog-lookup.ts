/**
 * Whether event types are in the catalog, for the checks of an enforced catalog (events sent,
 * endpoint filters). Each name is looked up once per request: a batch of 1,000 events of one type
 * asks the store once. Only the name is looked up, never the entry's schema and example.
 */
import { lookAlikeForms } from '../domain/look-alike-names.ts';
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

/**
 * The catalog entry a refused `name` only looks like (another Unicode normalization form, or the
 * name without its invisible characters: look-alike-names.ts), or null. Asked only of a name the
 * catalog refuses: at most four more lookups.
 */
export async function catalogLookAlike(inCatalog: CatalogLookup, name: string): Promise<string | null> {
  for (const form of lookAlikeForms(name)) if (await inCatalog(form)) return form;
  return null;
}
