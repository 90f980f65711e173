/**
 * Which project API keys and portal links may call each operation, in the OpenAPI document: the
 * route's declared access (key-scope.ts) becomes `x-herald-key-scopes` (the scopes that may: `[]`
 * for operator routes) and its portal declaration (portal-access.ts) `x-herald-portal`, and an
 * operation some scope, or a portal link, may not call documents that 403 (describe-responses.ts).
 */
import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import { API_KEY_SCOPES } from '../../domain/types.ts';
import { keyScopesFor } from '../key-scope.ts';

/** The operation keys the per-route transform sets; kept in the document, for clients to read. */
export const KEY_SCOPES = 'x-herald-key-scopes';
export const PORTAL = 'x-herald-portal';

/**
 * `transform` of @fastify/swagger: tags an /api/ route with the key scopes that may call it and
 * whether a customer portal link may.
 */
export const markKeyScopes: SwaggerTransform = ({ schema, url, route }) => {
  const access = route.config?.access;
  if (!schema || !access || !url.startsWith('/api/')) return { schema, url };
  const portal = route.config?.portal === true;
  return {
    schema: { ...schema, [KEY_SCOPES]: keyScopesFor(access), [PORTAL]: portal } as FastifySchema,
    url,
  };
};

/**
 * The 403 a key of another scope, or a portal link, gets from this operation; null when every scope
 * and portal links may, or none may (an operator route says its own 403).
 */
export function keyScopeForbidden(operation: Record<string, unknown>): string | null {
  const scopes = operation[KEY_SCOPES];
  if (!Array.isArray(scopes) || scopes.length === 0) return null;
  const refused: string[] = [];
  if (scopes.length < API_KEY_SCOPES.length) {
    refused.push(
      `an API key of another scope than ${scopes.join(' or ')} (details.scope: its scope; details.scopes: those that may)`,
    );
  }
  if (operation[PORTAL] === false) refused.push('a customer portal link');
  return refused.length ? refused.join('; ') : null;
}
