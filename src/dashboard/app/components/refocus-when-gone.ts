/**
 * Gives the keyboard focus somewhere when the part of the page whose button had it goes: Enable
 * endpoint, in a banner that goes once the endpoint is enabled. The button is disabled while it
 * runs (the focus falls to <body>), and the banner may go before its own request returns (a state
 * refresh reads the endpoint enabled): when it goes after the button was pressed, and the focus is
 * still nowhere, it moves to `targetRef` (a heading with tabindex=-1), in the same commit.
 */
import { useLayoutEffect, useRef } from 'preact/hooks';

export function useRefocusWhenGone(gone: boolean) {
  const targetRef = useRef<HTMLHeadingElement>(null);
  const armed = useRef(false);
  useLayoutEffect(() => {
    if (!gone || !armed.current) return;
    armed.current = false;
    const focus = document.activeElement;
    if (focus === null || focus === document.body) targetRef.current?.focus();
  }, [gone]);
  /** Call when the button is pressed. */
  const arm = () => {
    armed.current = true;
  };
  return { targetRef, arm };
}
