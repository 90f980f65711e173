/**
 * Completes the document @fastify/swagger generates from the routes (as its `transformObject`):
 * component schemas and shared error responses, and each operation's responses, from
 * operations.ts plus the errors every route of its kind answers. The routes themselves register no
 * response schemas: Fastify would then serialize their bodies with fast-json-stringify, dropping
 * fields and rewriting the payload numbers Herald keeps exactly. Runs once: the plugin caches the
 * document.
 */
import { COMPONENT_SCHEMAS, ref } from './components.ts';
import { ERROR_RESPONSES, errorResponse, responseRef } from './error-responses.ts';
import { keyScopeForbidden } from './key-scopes.ts';
import { OPERATIONS, type OperationResponses } from './operations.ts';
import { relaxOptionalBody } from './optional-bodies.ts';

interface Operation {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { nullable?: boolean } }> };
  responses?: Record<string, unknown>;
  [key: string]: unknown;
}

interface Document {
  components?: { schemas?: Record<string, unknown>; responses?: Record<string, unknown> };
  paths?: Record<string, Record<string, Operation>>;
}

function successResponse(o: OperationResponses): unknown {
  const content = o.text
    ? { 'text/plain': { schema: { type: 'string' } } }
    : o.body
      ? { 'application/json': { schema: ref(o.body) } }
      : undefined;
  return {
    description: o.description,
    ...(o.headers ? { headers: o.headers } : {}),
    ...(content ? { content } : {}),
  };
}

/**
 * Every response of one operation: its success, then the errors of its kind. Under /api/: any
 * route may answer 400 (a bad query, body or URL), 401, 429 and 503; one with a path parameter
 * 404 (unless it creates what the path names); one with a body 413 and 415.
 */
export function responsesOf(
  path: string,
  operation: Operation,
  o: OperationResponses,
): Record<string, unknown> {
  const api = path.startsWith('/api/');
  const responses: Record<string, unknown> = { [o.status]: successResponse(o) };
  if (api) {
    responses[400] = responseRef('BadRequest');
    responses[401] = responseRef('Unauthorized');
  }
  const forbidden = [o.forbidden, api ? keyScopeForbidden(operation) : null].filter(Boolean);
  if (forbidden.length > 0) responses[403] = errorResponse(`HERALD_ERR_FORBIDDEN: ${forbidden.join('; ')}`);
  if (api && path.includes('{') && o.notFound !== false) responses[404] = responseRef('NotFound');
  if (o.conflict) responses[409] = errorResponse(o.conflict);
  if (operation.requestBody) {
    responses[413] = responseRef('PayloadTooLarge');
    responses[415] = responseRef('UnsupportedMediaType');
  }
  if (o.unprocessable) responses[422] = errorResponse(`HERALD_ERR_UNPROCESSABLE: ${o.unprocessable}`);
  if (api) responses[429] = responseRef('TooManyRequests');
  responses[503] = responseRef('Unavailable');
  Object.assign(responses, o.other);
  responses.default = responseRef('OtherError');
  return responses;
}

/** `transformObject` of @fastify/swagger. An operation missing from OPERATIONS keeps the plugin's default. */
export function describeResponses<T>(documentObject: { openapiObject: T } | { swaggerObject: unknown }): T {
  if (!('openapiObject' in documentObject)) throw new Error('Herald describes an OpenAPI 3 document only');
  const doc = documentObject.openapiObject as Document;
  doc.components = {
    ...doc.components,
    schemas: { ...doc.components?.schemas, ...COMPONENT_SCHEMAS },
    responses: { ...doc.components?.responses, ...ERROR_RESPONSES },
  };
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      relaxOptionalBody(operation);
      const o = OPERATIONS[`${method} ${path}`];
      if (o) operation.responses = responsesOf(path, operation, o);
    }
  }
  return documentObject.openapiObject;
}
