/**
 * Request bodies a route takes or goes without. @fastify/swagger marks every body `required`; a
 * route whose body schema also allows null (rotate, test send, portal links) takes no body at all
 * (body-parsers.ts: an empty body is none), so a client generated from the document need not send one.
 * The route's own schema says which: `markOptionalBody` (the plugin's per-route `transform`) tags
 * the operation, `relaxOptionalBody` (in describe-responses.ts) turns the tag into
 * `requestBody.required: false`.
 */

import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';

/** The operation key the per-route transform sets; removed again from the document. */
const OPTIONAL_BODY = 'x-herald-optional-body';

/** `transform` of @fastify/swagger: tags a route whose body schema allows null. */
export const markOptionalBody: SwaggerTransform = ({ schema, url }) => {
  const type = (schema?.body as { type?: unknown } | undefined)?.type;
  if (!schema || !Array.isArray(type) || !type.includes('null')) return { schema, url };
  return { schema: { ...schema, [OPTIONAL_BODY]: true } as FastifySchema, url };
};

/** In the finished document: a tagged operation's body is optional; the tag goes. */
export function relaxOptionalBody(operation: {
  requestBody?: { required?: boolean };
  [key: string]: unknown;
}): void {
  if (!(OPTIONAL_BODY in operation)) return;
  delete operation[OPTIONAL_BODY];
  if (operation.requestBody) operation.requestBody.required = false;
}
