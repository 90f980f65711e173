/**
 * The event types the endpoint screen's Example tab offers, in the order it lists them: those the
 * endpoint receives (every one in the catalog when it names none), the types still in use first and
 * the deprecated ones after, each group in the catalog's order (the endpoint's, when it names them).
 * The tab opens on the first, so it shows a type still sent rather than one on its way out.
 */
import type { EventType } from './api/types.ts';

export function exampleTypes(catalog: EventType[], endpointTypes: string[]): EventType[] {
  const types = endpointTypes.length === 0 ? catalog : namedTypes(catalog, endpointTypes);
  return [...types.filter((type) => !type.deprecated), ...types.filter((type) => type.deprecated)];
}

/** The endpoint's types, from the catalog; one the catalog lacks has no example, schema or description. */
function namedTypes(catalog: EventType[], names: string[]): EventType[] {
  const byName = new Map(catalog.map((type) => [type.name, type]));
  return names.map(
    (name) => byName.get(name) ?? { name, description: '', schema: null, example: null, deprecated: false },
  );
}
