/**
 * The write of a catalog entry that gives one of schema and example, checked against the stored
 * other: `PUT /api/v1/event-types/:name` and `herald event-types import` both write through here.
 */
import type { EventType, Json } from '../domain/types.ts';
import type { EventTypeInput, Store } from '../store/store.ts';

/**
 * Reads, checks and conditional writes of an entry that leaves the schema or the example out,
 * before giving up: each retry means another writer of the same type changed the other field meanwhile.
 */
export const EVENT_TYPE_PUT_ATTEMPTS = 3;

/**
 * Writes `input`, which gives exactly one of schema and example, only if the other is still the
 * stored value `check` accepted it with (Store.upsertEventType's `checked`); else reads and checks
 * again. `check` throws to refuse. Null after EVENT_TYPE_PUT_ATTEMPTS writes found it changed.
 */
export async function upsertEventTypeChecked(
  store: Store,
  input: EventTypeInput,
  check: (schema: Json | null, example: Json | null) => Promise<void>,
): Promise<EventType | null> {
  for (let attempt = 1; attempt <= EVENT_TYPE_PUT_ATTEMPTS; attempt++) {
    const stored = await store.getEventType(input.name);
    await check(...pairWith(input, stored));
    const written = await store.upsertEventType(input, Date.now(), { stored });
    if (written) return written;
  }
  return null;
}

/** The schema and example `input` would leave stored: what it gives, else what `stored` holds. */
export function pairWith(input: EventTypeInput, stored: EventType | null): [Json | null, Json | null] {
  return [
    input.schema !== undefined ? input.schema : (stored?.schema ?? null),
    input.example !== undefined ? input.example : (stored?.example ?? null),
  ];
}
