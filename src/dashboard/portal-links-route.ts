/**
 * POST /api/v1/projects/:project/portal-links {expiresIn?} → 201 {url, token, expiresAt, projectId}.
 * Creates a signed link to the customer portal (/ui/portal) for one project. The admin token or that
 * project's API key may create one; a portal token may not (a link must not mint longer-lived links).
 * A link made with a key carries the key's id and is refused once that key is deleted (auth.ts).
 */
// Brings @fastify/swagger's schema fields (tags, summary) into Fastify's types; erased at run time.
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.ts';
import { createPortalToken } from './portal-token.ts';

/** Who made the request, as the API's auth resolved it (null: not authenticated). */
export type PortalLinkCaller =
  | { kind: 'admin' }
  | { kind: 'project'; projectId: string; keyId: string }
  | { kind: 'portal'; projectId: string }
  | null;

export interface PortalLinksRouteOptions {
  store: Pick<Store, 'getProject'>;
  /** Key that signs portal tokens (`derivePortalKey(config.adminToken)`). */
  portalKey: Uint8Array;
  /** `config.publicUrl`: the link is `${publicUrl}/ui/portal#token=…`. */
  publicUrl: string;
  /** The authenticated caller of a request (from the API's auth). */
  callerOf: (request: FastifyRequest) => PortalLinkCaller;
  /** Clock, epoch ms (tests pin it). */
  now?: () => number;
}

/** Default lifetime of a link. */
export const DEFAULT_PORTAL_LINK_SECONDS = 3600;
/** Longest lifetime of a link: 7 days. */
export const MAX_PORTAL_LINK_SECONDS = 7 * 24 * 3600;

function sendError(reply: FastifyReply, status: number, code: string, message: string, details?: object) {
  return reply.code(status).send({ error: details ? { code, message, details } : { code, message } });
}

/** Fastify plugin: `app.register(portalLinksRoute, { store, portalKey, publicUrl, callerOf })`. */
export async function portalLinksRoute(
  app: FastifyInstance,
  options: PortalLinksRouteOptions,
): Promise<void> {
  const now = options.now ?? Date.now;
  const base = options.publicUrl.replace(/\/+$/, '');

  app.post<{ Params: { project: string }; Body: unknown }>(
    '/api/v1/projects/:project/portal-links',
    {
      // Before the body is validated: a portal caller learns nothing from its errors. (Another
      // project's path was already answered 404 by the API's own onRequest hook.)
      onRequest: async (request, reply) => {
        if (options.callerOf(request)?.kind === 'portal') {
          return sendError(reply, 403, 'HERALD_ERR_FORBIDDEN', 'a portal link cannot create portal links');
        }
      },
      schema: {
        tags: ['portal'],
        summary: 'Create a signed link to the customer portal of this project (admin or project key)',
        params: {
          type: 'object',
          required: ['project'],
          properties: { project: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { expiresIn: { type: 'integer', minimum: 1, maximum: MAX_PORTAL_LINK_SECONDS } },
        },
      },
    },
    async (request, reply) => {
      const caller = options.callerOf(request);
      if (caller === null) {
        return sendError(reply, 401, 'HERALD_ERR_UNAUTHORIZED', 'missing or invalid bearer token');
      }
      const project = await options.store.getProject(request.params.project);
      // Another project's resource is simply not there (DESIGN: 404, not 403).
      if (project === null || (caller.kind !== 'admin' && caller.projectId !== project.id)) {
        return sendError(reply, 404, 'HERALD_ERR_NOT_FOUND', 'project not found');
      }
      if (caller.kind === 'portal') {
        return sendError(reply, 403, 'HERALD_ERR_FORBIDDEN', 'a portal link cannot create portal links');
      }

      const expiresIn = readExpiresIn(request.body);
      if (typeof expiresIn === 'string') {
        return sendError(reply, 400, 'HERALD_ERR_VALIDATION', expiresIn, { field: 'expiresIn' });
      }
      // Whole seconds (the token's `exp`), rounded up: the link lives at least `expiresIn` seconds.
      const expiresAt = Math.ceil(now() / 1000) * 1000 + expiresIn * 1000;
      const token = createPortalToken(options.portalKey, {
        projectId: project.id,
        expiresAt,
        ...(caller.kind === 'project' ? { keyId: caller.keyId } : {}),
      });
      return reply.code(201).send({
        url: `${base}/ui/portal#token=${token}`,
        token,
        expiresAt: new Date(expiresAt).toISOString(),
        projectId: project.id,
      });
    },
  );
}

/** The requested lifetime in whole seconds, or an error message. An empty body means the default. */
function readExpiresIn(body: unknown): number | string {
  if (body === undefined || body === null) return DEFAULT_PORTAL_LINK_SECONDS;
  if (typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const value = (body as { expiresIn?: unknown }).expiresIn;
  if (value === undefined || value === null) return DEFAULT_PORTAL_LINK_SECONDS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PORTAL_LINK_SECONDS) {
    return `expiresIn must be a whole number of seconds from 1 to ${MAX_PORTAL_LINK_SECONDS} (7 days)`;
  }
  return value;
}
