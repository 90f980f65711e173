/** Which catalog example a test send (POST …/endpoints/:endpoint/test) delivers. */
import { eventTypeNameProblem } from '../domain/event-type-name.ts';
import type { Endpoint, Json } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { UnprocessableError, ValidationError } from './errors.ts';

/**
 * The asked-for type's example; else the first type of the endpoint's filter that has one; else, for
 * an endpoint that takes every type, the first catalog entry with an example. 422 naming
 * `body.eventType` when there is none, saying whether a type is missing from the catalog or is in
 * it without an example. A stored example is never JSON `null`: PUT …/event-types/:name with
 * `"example": null` removes the example (the stores keep null as no value), so null is none.
 * A type that is no event-type name (holding `*`, or `.` or `..`) is not sent, as POST …/events
 * refuses it: asked for, it is 400 naming `body.eventType`; an entry or a filter name stored before
 * that rule is passed over.
 */
export async function pickTestExample(
  store: Store,
  endpoint: Endpoint,
  wanted: string | undefined,
): Promise<{ type: string; payload: Json }> {
  const notAName = wanted === undefined ? null : eventTypeNameProblem(wanted);
  if (notAName) {
    throw new ValidationError(
      'body.eventType',
      `${JSON.stringify(wanted)} is not an event-type name: ${notAName}`,
    );
  }
  const missing: string[] = [];
  const withoutExample: string[] = [];
  const notNames: string[] = []; // filter entries stored before the rule
  for (const name of wanted ? [wanted] : endpoint.eventTypes) {
    if (eventTypeNameProblem(name) !== null) {
      notNames.push(name);
      continue;
    }
    const entry = await store.getEventType(name);
    if (entry && entry.example !== null) return { type: entry.name, payload: entry.example };
    (entry ? withoutExample : missing).push(name);
  }
  if (!wanted && endpoint.eventTypes.length === 0) {
    let cursor: string | null = null;
    do {
      const page = await store.listEventTypes({ limit: 1000, cursor });
      const entry = page.data.find((t) => t.example !== null && eventTypeNameProblem(t.name) === null);
      if (entry) return { type: entry.name, payload: entry.example as Json };
      cursor = page.nextCursor;
    } while (cursor);
    throw new UnprocessableError(
      'body.eventType',
      'this endpoint takes every event type, and no type in the event-type catalog has an example',
    );
  }
  if (wanted) {
    throw new UnprocessableError(
      'body.eventType',
      missing.length > 0
        ? `"${wanted}" is not in the event-type catalog`
        : `"${wanted}" has no example in the event-type catalog`,
    );
  }
  const quoted = (names: string[]) => names.map((n) => JSON.stringify(n)).join(', ');
  const why = [
    missing.length > 0 ? `not in the catalog: ${quoted(missing)}` : null,
    withoutExample.length > 0 ? `in it without an example: ${quoted(withoutExample)}` : null,
    notNames.length > 0 ? `not event-type names (holding "*", or "." or ".."): ${quoted(notNames)}` : null,
  ].filter(Boolean);
  throw new UnprocessableError(
    'body.eventType',
    `no event type this endpoint takes has an example in the event-type catalog (${why.join('; ')})`,
  );
}
