/**
 * A list read up to a cap (Capped: listEndpoints, listEventTypes) and what was read after it on
 * request: `items` is all of it, `cursor` non-null while there are more, `more()` reads the next
 * ones. Starts over whenever `first` is read again.
 *
 * `rowsRef` goes on the element whose children are the rows (a <tbody>, a <ul>): when `more()` has
 * read rows, the focus moves to the first of them (see focusFirstNewRow). The "Show more" button is
 * disabled while it reads and gone after the last page, so the focus was left on <body>.
 */
import { useCallback, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Capped } from './api/capped-list.ts';
import { focusFirstNewRow } from './focus-new-row.ts';
import { newRows } from './new-rows.ts';

export type RowsRef = (element: HTMLElement | null) => void;

export interface CappedList<T> {
  items: T[];
  /** Where the rest starts; null once the list is complete. */
  cursor: string | null;
  busy: boolean;
  error: unknown;
  more(): Promise<void>;
  /** The ref (a callback) of the element whose children are the rows. */
  rowsRef: RowsRef;
}

export function useCappedList<T>(
  first: Capped<T> | undefined,
  next: (cursor: string) => Promise<Capped<T>>,
  /** A row's key, for lists whose pages may repeat a row (newRows): those are shown once. */
  keyOf?: (row: T) => string,
): CappedList<T> {
  const [extra, setExtra] = useState<{ after: Capped<T>; items: T[]; cursor: string | null } | null>(null);
  const [state, setState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const rows = useRef<HTMLElement | null>(null);
  const rowsRef = useCallback<RowsRef>((element) => {
    rows.current = element;
  }, []);
  /** How many rows there were when `more()` read the next ones: the first new one's index. */
  const newFrom = useRef<number | null>(null);
  const mine = extra && extra.after === first ? extra : null;
  const items = mine ? [...(first?.data ?? []), ...mine.items] : (first?.data ?? []);
  const cursor = mine ? mine.cursor : (first?.nextCursor ?? null);
  // In the commit that shows the new rows, before the busy button's focus is given back to it.
  useLayoutEffect(() => {
    const from = newFrom.current;
    if (from === null || items.length <= from) return;
    newFrom.current = null;
    focusFirstNewRow(rows.current, from);
  }, [items.length]);
  async function more() {
    if (!first || !cursor) return;
    setState({ busy: true, error: null });
    try {
      const page = await next(cursor);
      newFrom.current = items.length;
      const added = keyOf ? newRows(items, page.data, keyOf) : page.data;
      setExtra({ after: first, items: [...(mine?.items ?? []), ...added], cursor: page.nextCursor });
      setState({ busy: false, error: null });
    } catch (error) {
      setState({ busy: false, error });
    }
  }
  return { items, cursor, ...state, more, rowsRef };
}
