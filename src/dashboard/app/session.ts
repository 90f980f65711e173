/**
 * Who the browser is: an operator (admin token) or a portal visitor (a signed link for one project).
 * Tokens live in sessionStorage: gone when the tab closes, never in a cookie, never in a URL we keep.
 */

const ADMIN_KEY = 'herald.adminToken';
const PORTAL_KEY = 'herald.portalToken';

export type Session =
  | { kind: 'operator'; token: string }
  | { kind: 'portal'; token: string; projectId: string; expiresAt: number };

/** sessionStorage can throw (blocked storage in some embedded contexts): fall back to memory. */
const memory = new Map<string, string>();
function read(key: string): string | null {
  try {
    return window.sessionStorage.getItem(key);
  } catch {
    return memory.get(key) ?? null;
  }
}
function write(key: string, value: string | null): void {
  try {
    if (value === null) window.sessionStorage.removeItem(key);
    else window.sessionStorage.setItem(key, value);
  } catch {
    if (value === null) memory.delete(key);
    else memory.set(key, value);
  }
}

export function loadOperatorSession(): Session | null {
  const token = read(ADMIN_KEY);
  return token ? { kind: 'operator', token } : null;
}

export function saveOperatorToken(token: string | null): void {
  write(ADMIN_KEY, token);
}

/**
 * The portal session: a token in the location hash (`#token=…`, fresh from a link) wins over the one
 * kept from before; the hash is then removed so the token does not linger in the address bar or the
 * tab's Back list. The browser's history has recorded the link as opened all the same (security.md).
 */
export function loadPortalSession(): Session | null {
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (fromHash) {
    write(PORTAL_KEY, fromHash);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  const token = fromHash ?? read(PORTAL_KEY);
  if (!token) return null;
  const claims = readPortalClaims(token);
  return claims ? { kind: 'portal', token, ...claims } : null;
}

export function clearPortalToken(): void {
  write(PORTAL_KEY, null);
}

/**
 * Reads (does not verify: the server does) the project and expiry of a portal token
 * `hpt_<base64url JSON>.<signature>`.
 */
export function readPortalClaims(token: string): { projectId: string; expiresAt: number } | null {
  const match = /^hpt_([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/.exec(token);
  if (!match) return null;
  try {
    const base64 = match[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))) as {
      projectId?: unknown;
      exp?: unknown;
    };
    if (typeof claims.projectId !== 'string' || typeof claims.exp !== 'number') return null;
    return { projectId: claims.projectId, expiresAt: claims.exp * 1000 };
  } catch {
    return null;
  }
}
