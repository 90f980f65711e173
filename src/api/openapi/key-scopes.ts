/**
 * Which project API keys may call each operation, in the OpenAPI document: the route's declared
 * access (key-scope.ts) becomes `x-herald-key-scopes` (the scopes that may: `[]` for operator
 * routes), and an operation some scope may not call documents that 403 (describe-responses.ts).
 */
import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import { API_KEY_SCOPES } from '../../domain/types.ts';
import { keyScopesFor } from '../key-scope.ts';

/** The operation key the per-route transform sets; kept in the document, for clients to read. */
export const KEY_SCOPES = 'x-herald-key-scopes';

/** `transform` of @fastify/swagger: tags an /api/ route with the key scopes that may call it. */
export const markKeyScopes: SwaggerTransform = ({ schema, url, route }) => {
  const access = route.config?.access;
  if (!schema || !access || !url.startsWith('/api/')) return { schema, url };
  return { schema: { ...schema, [KEY_SCOPES]: keyScopesFor(access) } as FastifySchema, url };
};

/** The 403 a key of another scope gets from this operation, or null when every scope (or none) may. */
export function keyScopeForbidden(operation: Record<string, unknown>): string | null {
  const scopes = operation[KEY_SCOPES];
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.length === API_KEY_SCOPES.length) return null;
  return `an API key of another scope than ${scopes.join(' or ')} (details.scope: its scope; details.scopes: those that may)`;
}
