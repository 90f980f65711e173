/**
 * An inline "are you sure" step (Delete…, Rotate secret…): a button opens it in place of itself.
 * When it opens, the focus moves to its Cancel button (the safe choice, so Enter does not confirm by
 * accident); Escape anywhere in it, or Cancel, closes it and gives the focus back to the button that
 * opened it, so a keyboard user is never left on a vanished element at the top of the page.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export function useInlineConfirm() {
  const [open, setOpen] = useState(false);
  /** The button that opens the confirmation (rendered again when it closes). */
  const openerRef = useRef<HTMLButtonElement>(null);
  /** The confirmation's Cancel button: focused when it opens. */
  const cancelRef = useRef<HTMLButtonElement>(null);
  /** The confirmation's container: Escape in it cancels. */
  const panelRef = useRef<HTMLDivElement>(null);
  const refocusOpener = useRef(false);
  /** Closes it and returns the focus to its opener. */
  const cancel = () => {
    refocusOpener.current = true;
    setOpen(false);
  };
  // A layout effect: the focus moves in the same task as the DOM change, before anything can read
  // it (a plain effect waits for the next frame, and the focus sat on <body> meanwhile).
  useLayoutEffect(() => {
    if (!open) {
      if (refocusOpener.current) {
        refocusOpener.current = false;
        openerRef.current?.focus();
      }
      return;
    }
    cancelRef.current?.focus();
    const panel = panelRef.current;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      cancel();
    };
    panel?.addEventListener('keydown', onKeyDown);
    return () => panel?.removeEventListener('keydown', onKeyDown);
  }, [open]);
  return { open, show: () => setOpen(true), cancel, openerRef, cancelRef, panelRef };
}
