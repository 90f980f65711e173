/**
 * A list read up to a cap (Capped: listEndpoints, listEventTypes) and what was read after it on
 * request: `items` is all of it, `cursor` non-null while there are more, `more()` reads the next
 * ones. Starts over whenever `first` is read again.
 */
import { useState } from 'preact/hooks';
import type { Capped } from './api/capped-list.ts';

export interface CappedList<T> {
  items: T[];
  /** Where the rest starts; null once the list is complete. */
  cursor: string | null;
  busy: boolean;
  error: unknown;
  more(): Promise<void>;
}

export function useCappedList<T>(
  first: Capped<T> | undefined,
  next: (cursor: string) => Promise<Capped<T>>,
): CappedList<T> {
  const [extra, setExtra] = useState<{ after: Capped<T>; items: T[]; cursor: string | null } | null>(null);
  const [state, setState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const mine = extra && extra.after === first ? extra : null;
  const items = mine ? [...(first?.data ?? []), ...mine.items] : (first?.data ?? []);
  const cursor = mine ? mine.cursor : (first?.nextCursor ?? null);
  async function more() {
    if (!first || !cursor) return;
    setState({ busy: true, error: null });
    try {
      const page = await next(cursor);
      setExtra({ after: first, items: [...(mine?.items ?? []), ...page.data], cursor: page.nextCursor });
      setState({ busy: false, error: null });
    } catch (error) {
      setState({ busy: false, error });
    }
  }
  return { items, cursor, ...state, more };
}
