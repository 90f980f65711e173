/**
 * What each kind of project API key may do. Every /api/ route declares what it needs
 * (`config: { access }`, checked when the route is registered: build-app.ts), and the API's one
 * authentication hook refuses a key whose scope does not cover it, after the project check: another
 * project's resource is still 404 to every key, whatever its scope.
 */
import { API_KEY_SCOPES, type ApiKeyScope } from '../domain/types.ts';
import { ForbiddenError } from './errors.ts';

/**
 * What a route needs: `operator` the admin token; `write` a full key (changes, secrets, keys, portal
 * links); `read` a key that may read its project; `send` a key that may send events; `any` any valid
 * token (installation-wide, nothing secret: the installation's settings, the event catalog).
 */
export const ROUTE_ACCESS = ['operator', 'write', 'read', 'send', 'any'] as const;
export type RouteAccess = (typeof ROUTE_ACCESS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a caller needs to use the route (key-scope.ts); every /api/ route declares it. */
    access?: RouteAccess;
  }
}

/** Route accesses each scope covers. */
const COVERS: Record<ApiKeyScope, readonly RouteAccess[]> = {
  full: ['write', 'read', 'send', 'any'],
  send: ['send', 'any'],
  read: ['read', 'any'],
};

/** What a scope allows, in the words of a refusal and of the docs. */
const ALLOWS: Record<ApiKeyScope, string> = {
  full: 'everything in its project',
  send: 'only sending events (POST …/events and …/events/batch) and reading the installation settings and the event catalog',
  read: "only reading its project (GET routes) except endpoints' secrets, and the installation settings and the event catalog",
};

export const isApiKeyScope = (value: unknown): value is ApiKeyScope =>
  (API_KEY_SCOPES as readonly unknown[]).includes(value);

export const isRouteAccess = (value: unknown): value is RouteAccess =>
  (ROUTE_ACCESS as readonly unknown[]).includes(value);

/** The key scopes that cover what a route needs (none for an operator route). */
export const keyScopesFor = (access: RouteAccess): ApiKeyScope[] =>
  API_KEY_SCOPES.filter((scope) => COVERS[scope].includes(access));

/** Whether a key of this scope (as stored: a scope this version does not know covers nothing) may. */
export function scopeCovers(scope: string, access: RouteAccess): boolean {
  return isApiKeyScope(scope) && COVERS[scope].includes(access);
}

/**
 * The 403 for a project key of `scope` on a route that needs `access`, or null when the key may use
 * it. It names the key's scope, what that allows, and the scopes that would do (`details.scopes`).
 */
export function keyScopeRefusal(scope: string, access: RouteAccess): ForbiddenError | null {
  if (access === 'operator') return new ForbiddenError(); // 'this route needs the admin token'
  if (scopeCovers(scope, access)) return null;
  const scopes = keyScopesFor(access);
  const allows = isApiKeyScope(scope)
    ? ALLOWS[scope]
    : 'nothing: this version of Herald does not know that scope';
  return new ForbiddenError(
    `this API key's scope is ${scope}, which allows ${allows}; this route needs a key of scope ${scopes.join(' or ')}`,
    { details: { scope, scopes } },
  );
}
