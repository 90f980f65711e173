/** Page frame: skip link, header with navigation and sign-out, and the main region. */
import type { ComponentChildren } from 'preact';
import { useApp } from '../app-context.ts';
import { useLocation } from '../router.ts';
import { Link } from './link.tsx';

export function Layout({ children }: { children: ComponentChildren }) {
  const { session, signOut } = useApp();
  const { path } = useLocation();
  const operator = session.kind === 'operator';
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
            <Link to="/" current={path === '/' || path.startsWith('/projects')}>
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
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
