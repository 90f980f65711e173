/** Page frame: skip link, header with navigation and sign-out, and the main region. */
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { useApp } from '../app-context.ts';
import { useLocation } from '../router.ts';
import { Link } from './link.tsx';

export function Layout({
  children,
  focusOnMount = false,
}: {
  children: ComponentChildren;
  /** Drawn in place of a form whose button had the focus (sign-in): treat it as a change of page. */
  focusOnMount?: boolean;
}) {
  const { session, signOut } = useApp();
  const { path } = useLocation();
  const operator = session.kind === 'operator';
  const mainRef = useRef<HTMLElement>(null);
  const firstPath = useRef(path);
  // Following a link that the new page replaces (a row's link, the breadcrumbs) drops the focus to
  // <body>: a screen reader then says nothing of the new page, and the next Tab starts over at the
  // top. The focus goes to the main content instead. A link that stays (a tab, the top bar) keeps it;
  // so does a page as it first loads (the next Tab reaches "Skip to content"), but not one that
  // replaces the sign-in form.
  useLayoutEffect(() => {
    if (path === firstPath.current && !focusOnMount) return;
    firstPath.current = '';
    const focus = document.activeElement;
    if (focus === null || focus === document.body) mainRef.current?.focus({ preventScroll: true });
  }, [path]);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="currentColor" />
            <path d="M9 8v16M23 8v16M9 16h14" stroke="#fff" stroke-width="3.5" stroke-linecap="round" />
          </svg>
          Herald{!operator && <span class="brand-sub">Webhooks</span>}
        </span>
        {operator && (
          <nav class="topbar-nav" aria-label="Main">
            <Link
              to="/"
              current={path === '/' ? 'page' : path.startsWith('/projects') ? 'location' : undefined}
            >
              Projects
            </Link>
            <Link to="/catalog" current={path === '/catalog'}>
              Event catalog
            </Link>
          </nav>
        )}
        {operator && (
          <button type="button" class="button-small topbar-signout" onClick={signOut}>
            Sign out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1} ref={mainRef}>
        {children}
      </main>
    </>
  );
}
