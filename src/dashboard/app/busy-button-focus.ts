/**
 * Gives the keyboard focus back to a button that was disabled while its action ran (Save changes,
 * Recover, Replay, Send test event, Refresh, Show more…). A browser moves the focus off a button
 * being disabled, to <body>: without this a keyboard user who pressed Enter on one was left at the
 * top of the page once the action finished, the next Tab starting again at "Skip to content".
 * When the button is enabled again and the focus is still nowhere, it goes back to it; when it went
 * elsewhere meanwhile (a field with an error, a dialog's button), it stays there.
 */
export function keepFocusOnBusyButtons(root: HTMLElement): () => void {
  let lastFocused: Element | null = null;
  const onFocusIn = (event: FocusEvent) => {
    lastFocused = event.target instanceof Element ? event.target : null;
  };
  const observer = new MutationObserver((records) => {
    for (const { target } of records) {
      if (!(target instanceof HTMLButtonElement) || target.disabled || target !== lastFocused) continue;
      const focus = document.activeElement;
      if ((focus === null || focus === document.body) && target.isConnected) target.focus();
    }
  });
  root.addEventListener('focusin', onFocusIn);
  observer.observe(root, { subtree: true, attributes: true, attributeFilter: ['disabled'] });
  return () => {
    root.removeEventListener('focusin', onFocusIn);
    observer.disconnect();
  };
}
