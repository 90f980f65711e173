/** Which catalog example a test send (POST …/endpoints/:endpoint/test) delivers. */
import type { Endpoint, Json } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { UnprocessableError } from './errors.ts';

/**
 * The asked-for type's example; else the first type of the endpoint's filter that has one; else, for
 * an endpoint that takes every type, the first catalog entry with an example. 422 naming
 * `body.eventType` when there is none.
 */
export async function pickTestExample(
  store: Store,
  endpoint: Endpoint,
  wanted: string | undefined,
): Promise<{ type: string; payload: Json }> {
  for (const name of wanted ? [wanted] : endpoint.eventTypes) {
    const entry = await store.getEventType(name);
    if (entry && entry.example !== null) return { type: entry.name, payload: entry.example };
  }
  if (!wanted && endpoint.eventTypes.length === 0) {
    let cursor: string | null = null;
    do {
      const page = await store.listEventTypes({ limit: 1000, cursor });
      const entry = page.data.find((t) => t.example !== null);
      if (entry) return { type: entry.name, payload: entry.example as Json };
      cursor = page.nextCursor;
    } while (cursor);
  }
  throw new UnprocessableError(
    'body.eventType',
    wanted
      ? `"${wanted}" has no example in the event-type catalog`
      : 'no event type this endpoint takes has an example in the catalog',
  );
}
