/** Whether a catalog write may go ahead on what its caller checked (Store.upsertEventType's `checked`). */
import type { EventType } from '../domain/types.ts';
import type { EventTypeInput } from './store.ts';

/**
 * True when the schema and example `input` leaves out are, in `now` (the entry as the write finds
 * it), those of `checked` (as the caller read it to check `input` against them), and the entry
 * was there then only if it is now. Compared as JSON text: the same text is the same pair, whatever
 * else changed (a description, `deprecated`). A PUT of a schema and one of an example sent at once
 * were each checked against the other's old value, and stored a pair that did not match.
 */
export function eventTypeKept(
  checked: EventType | null,
  now: EventType | null,
  input: EventTypeInput,
): boolean {
  if (checked === null || now === null) return checked === now;
  const same = (field: 'schema' | 'example') =>
    input[field] !== undefined || JSON.stringify(checked[field]) === JSON.stringify(now[field]);
  return same('schema') && same('example');
}
