/**
 * A tiny history router for paths under /ui. Screens read `useLocation()`; links and code call
 * `navigate()`. The server answers every /ui path with index.html, so deep links and reloads work.
 */
import { useEffect, useState } from 'preact/hooks';

/** Where the app is mounted (vite `base`). */
export const BASE = '/ui';

const CHANGE = 'herald:navigate';

export interface Location {
  /** Path below BASE, always starting with '/' ('/projects/p1'). */
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  const raw = window.location.pathname;
  const path = raw.startsWith(BASE) ? raw.slice(BASE.length) || '/' : raw;
  return { path, query: new URLSearchParams(window.location.search) };
}

/** The current location; re-renders on navigate() and on back/forward. */
export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return location;
}

/** Full href for an app path ('/projects/p1' → '/ui/projects/p1'). */
export function href(path: string): string {
  return BASE + (path.startsWith('/') ? path : `/${path}`);
}

/** Goes to an app path; `replace` keeps the history entry (filters, redirects). */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  const target = href(path);
  if (options.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  window.dispatchEvent(new Event(CHANGE));
  if (!options.replace) window.scrollTo(0, 0);
}

/**
 * Matches `pattern` ('/projects/:project/endpoints/:endpoint') against `path`; returns the decoded
 * parameters, or null. A trailing '/*' in the pattern matches any rest (returned as `*`).
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const wantsRest = pattern.endsWith('/*');
  const patternParts = (wantsRest ? pattern.slice(0, -2) : pattern).split('/').filter(Boolean);
  const pathParts = path.split('/').filter(Boolean);
  if (wantsRest ? pathParts.length < patternParts.length : pathParts.length !== patternParts.length) {
    return null;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < patternParts.length; i++) {
    const want = patternParts[i]!;
    const got = pathParts[i]!;
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return null;
      }
    } else if (want !== got) {
      return null;
    }
  }
  if (wantsRest) params['*'] = `/${pathParts.slice(patternParts.length).join('/')}`;
  return params;
}

/** One screen per pattern; the first pattern that matches renders. */
export type Route<T> = [pattern: string, render: (params: Record<string, string>) => T];

/** Renders the first route matching `path`, or `fallback()`. */
export function route<T>(path: string, routes: Route<T>[], fallback: () => T): T {
  for (const [pattern, render] of routes) {
    const params = match(pattern, path);
    if (params) return render(params);
  }
  return fallback();
}
