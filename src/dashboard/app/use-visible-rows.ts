/**
 * The rows of a long list in and near the window (an IntersectionObserver on each), for a list that
 * reads a figure per row: 2,000 endpoints read 4,000 figures, 50 at a time, where a window shows
 * some twenty rows. Each row carries its key in `data-row-key`; `rowsRef` goes on the element whose
 * children they are. The keys come in list order, and change as the rows scroll in and out of view.
 * A row that gets the focus (its link, by Tab or a screen reader's cursor, which need not scroll it
 * into view) counts as near from then on, out of view or not.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** How far beyond the window a row counts as near: half a window above it and below it. */
const NEAR = '50% 0px';

export interface VisibleRows {
  /** The keys of the rows in or near the window, in list order. */
  keys: string[];
  /** The ref (a callback) of the element whose children are the rows. */
  rowsRef: (element: HTMLElement | null) => void;
}

/** `keys`: every row's key, in list order; the rows are observed again when they change. */
export function useVisibleRows(keys: string[]): VisibleRows {
  const [rows, setRows] = useState<HTMLElement | null>(null);
  const [seen, setSeen] = useState<ReadonlySet<string>>(new Set());
  const rowsRef = useCallback((element: HTMLElement | null) => setRows(element), []);
  const near = useRef(new Set<string>());
  // The rows the focus went into: named whether in view or not.
  const [focused, setFocused] = useState<ReadonlySet<string>>(new Set());
  const all = keys.join('\n');
  useEffect(() => {
    if (!rows) return;
    const onFocus = (event: FocusEvent) => {
      let row = event.target instanceof Element ? event.target : null;
      while (row && row.parentElement !== rows) row = row.parentElement;
      const key = row instanceof HTMLElement ? row.dataset['rowKey'] : undefined;
      if (key === undefined) return;
      setFocused((previous) => (previous.has(key) ? previous : new Set(previous).add(key)));
    };
    rows.addEventListener('focusin', onFocus);
    return () => rows.removeEventListener('focusin', onFocus);
  }, [rows]);
  useEffect(() => {
    if (!rows) return;
    near.current = new Set();
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const key = (entry.target as HTMLElement).dataset['rowKey'];
          if (key === undefined) continue;
          if (entry.isIntersecting) near.current.add(key);
          else near.current.delete(key);
        }
        setSeen(new Set(near.current));
      },
      { rootMargin: NEAR },
    );
    for (const row of rows.children) observer.observe(row);
    return () => observer.disconnect();
  }, [rows, all]);
  return { keys: keys.filter((key) => seen.has(key) || focused.has(key)), rowsRef };
}
