/**
 * Cursors of lists in due order (an endpoint's waiting deliveries, Store.listEndpointDeliveries):
 * the last row's due time and id, as `<id>@<due ms>` behind the usual opaque base64url (cursor.ts,
 * toPage). The id comes first so that the API's check that a cursor is of this list's kind (a `dlv_`
 * key, parse.ts pageOf) holds; the due time is what the index orders by, the id breaks its ties.
 */
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
  const match = key === null ? null : /^(dlv_[^@]+)@(-?\d{1,16})$/.exec(key);
  if (!match) return null;
  const due = Number(match[2]);
  return Number.isSafeInteger(due) ? { id: match[1]!, due } : null;
}
