/**
 * The browser tab's title for the screen shown, most specific first ('Overview · Receiver · Moon
 * Quest · Herald'): it is what a screen reader announces when the page changes, what the tab strip,
 * history and bookmarks show. Each screen that ends a route sets its own; null leaves the title to
 * a screen around it (the endpoint form inside an endpoint's Settings tab).
 */
import { useEffect } from 'preact/hooks';

export function usePageTitle(parts: readonly (string | null | undefined)[] | null): void {
  const title = parts ? [...parts.filter(Boolean), 'Herald'].join(' · ') : null;
  useEffect(() => {
    if (title !== null) document.title = title;
  }, [title]);
}
