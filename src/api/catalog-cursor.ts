/**
 * The catalog's cursors in the API. The stores' hold the last name of a page (cursor.ts), and an
 * event-type name may be any text, so a cursor of another list (an id) read as one would start the
 * catalog after that "name" without a word. The API's cursors mark the name with a leading `*`,
 * which no id starts with (and which a name, since names hold no `*`, no longer does either; one
 * stored before that rule is still only ever after the mark).
 */
import { ID_PREFIX, isIdOf } from '../domain/ids.ts';
import { decodeCursor, encodeCursor } from '../store/cursor.ts';
import { decodeDueCursor } from '../store/due-cursor.ts';
import { invalid } from './errors.ts';

const MARK = '*';

/** The store's cursor for the API's `cursor` (null: from the start); 400 for another list's. */
export function catalogCursorIn(cursor: string | null): string | null {
  if (cursor === null) return null;
  const key = decodeCursor(cursor);
  if (key?.startsWith(MARK) && key.length > MARK.length) return encodeCursor(key.slice(MARK.length));
  // Unmarked: a cursor from before the mark (a name), unless it is another list's (an id).
  if (key === null || isHeraldIdCursor(key)) {
    throw invalid('querystring.cursor', 'is not a cursor Herald returned for this list');
  }
  return cursor;
}

/** The API's cursor for the store's nextCursor. */
export function catalogCursorOut(storeCursor: string | null): string | null {
  const name = decodeCursor(storeCursor);
  return name === null ? null : encodeCursor(MARK + name);
}

/** Whether `key` is what another list's cursor holds: an id, or an endpoint's waiting deliveries' key. */
function isHeraldIdCursor(key: string): boolean {
  return (
    Object.values(ID_PREFIX).some((prefix) => isIdOf(prefix, key)) ||
    decodeDueCursor(encodeCursor(key)) !== null
  );
}
