/**
 * Cursors of lists in due order (an endpoint's waiting deliveries, Store.listEndpointDeliveries):
 * the last row's due time and id, as `<id>@<due ms>` behind the usual opaque base64url (cursor.ts,
 * toPage). The due time is what the index orders by, the id breaks its ties. Lists in id order refuse
 * these cursors (parse.ts pageOf takes an id alone), and this list refuses theirs (no due time).
 */
import { ID_PREFIX, isIdOf } from '../domain/ids.ts';
import { decodeCursor } from './cursor.ts';

export interface DueKey {
  due: number;
  id: string;
}

/**
 * A row's key in due order, for toPage: from the row's own due time, which a parked delivery keeps
 * (its Delivery says null: nothing is due while parked). Pending and parked rows always have one; 0
 * stands in should one not, which sorts it first as SQLite does.
 */
export const dueKeyOf = (id: string, due: unknown): string => `${id}@${due == null ? 0 : Number(due)}`;

/** The key a cursor stands for, or null for one this kind of list did not make. */
export function decodeDueCursor(cursor: string | null | undefined): DueKey | null {
  const key = decodeCursor(cursor);
  const match = key === null ? null : /^([^@]+)@(-?\d{1,16})$/.exec(key);
  if (!match || !isIdOf(ID_PREFIX.delivery, match[1]!)) return null;
  const due = Number(match[2]);
  return Number.isSafeInteger(due) ? { id: match[1]!, due } : null;
}
