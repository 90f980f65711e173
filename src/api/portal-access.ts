/**
 * What a customer portal token (a portal link, `hpt_…`) may use. Every /api/ route declares it
 * (`config: { portal: true | false }`, beside its `access`, checked when the route is registered:
 * build-app.ts), and the API's one authentication hook refuses a portal token on a route that does
 * not allow it, after the project check (another project's resource is 404 to it) and before the
 * body is read (a refused link learns nothing from the body's errors). A route added later cannot
 * be left open to portal links by forgetting a hook.
 */
import { ForbiddenError } from './errors.ts';
import type { RouteAccess } from './key-scope.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Whether a portal token may use the route (portal-access.ts): in its project, reading it
     * (not its API keys), managing its endpoints and resending deliveries; outside it, reading the
     * installation's settings and the event catalog. Every /api/ route declares it.
     */
    portal?: boolean;
    /** What a portal token refused here is told, where `a portal link cannot do this` is too vague. */
    portalRefusal?: string;
  }
}

/**
 * Why a route's declaration cannot be registered, or null: `portal` must be given, and an operator
 * route cannot let portal tokens in.
 */
export function portalDeclarationError(access: RouteAccess, portal: unknown): string | null {
  if (typeof portal !== 'boolean') {
    return 'declares no config.portal (true or false: whether a customer portal token may use it, src/api/portal-access.ts)';
  }
  if (portal && access === 'operator') return 'is an operator route: its config.portal must be false';
  return null;
}

/**
 * The 403 for a portal token on a route with this config, or null when it may use it. A route that
 * declares nothing is refused (fail closed); an operator route says so, as it does to a project key.
 */
export function portalRefusal(config: {
  access?: RouteAccess;
  portal?: boolean;
  portalRefusal?: string;
}): ForbiddenError | null {
  if (config.access === undefined || config.access === 'operator') return new ForbiddenError();
  if (config.portal === true) return null;
  return new ForbiddenError(config.portalRefusal ?? 'a portal link cannot do this');
}
