/**
 * The browser tab's title for the screen shown, most specific first ('Overview · Receiver · Moon
 * Quest · Herald'): it is what a screen reader announces when the page changes, what the tab strip,
 * history and bookmarks show. Each screen that ends a route sets its own; null leaves the title to
 * a screen around it (the endpoint form inside an endpoint's Settings tab). Each part is isolated
 * (bidi-isolate.ts): a right-to-left project or endpoint name reorders neither the separators nor
 * the other parts.
 */
import { useEffect } from 'preact/hooks';
import { isolate } from './bidi-isolate.ts';

export function usePageTitle(parts: readonly (string | null | undefined)[] | null): void {
  const title = parts
    ? [...parts.filter((part): part is string => Boolean(part)).map(isolate), 'Herald'].join(' · ')
    : null;
  useEffect(() => {
    if (title !== null) document.title = title;
  }, [title]);
}
