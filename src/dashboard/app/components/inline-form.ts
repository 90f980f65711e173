/**
 * An inline form that a button opens in the page (New project, New event type, Edit): when it opens
 * the focus moves to its first field, and when it closes (Cancel, saved) back to the button that
 * opened it, or to `fallbackRef` when that button was rendered anew meanwhile (New project is
 * replaced by its form). Without this a keyboard user was left on <body> (the next Tab starting
 * over at the top of the page), or on an Edit button far below the form it opened.
 */
import type { RefObject } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

/**
 * `openKey`: which form is open (null when none); a new key is a new form, whose first field gets
 * the focus. `openWith(open)` is the click handler of a button that opens one: it remembers the
 * button, then calls `open`.
 */
export function useInlineFormFocus(openKey: string | null, fallbackRef: RefObject<HTMLElement | null>) {
  const formRef = useRef<HTMLFormElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const shown = useRef(openKey);
  // A layout effect: the focus moves in the same task as the DOM change (see inline-confirm.ts).
  useLayoutEffect(() => {
    if (openKey === shown.current) return;
    shown.current = openKey;
    if (openKey !== null) {
      formRef.current?.querySelector<HTMLElement>('input, textarea, select')?.focus();
      return;
    }
    const back = opener.current?.isConnected ? opener.current : fallbackRef.current;
    opener.current = null;
    back?.focus();
  }, [openKey]);
  const openWith = (open: () => void) => (event: Event) => {
    opener.current = event.currentTarget instanceof HTMLElement ? event.currentTarget : null;
    open();
  };
  return { formRef, openWith };
}
