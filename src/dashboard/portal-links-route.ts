/**
 * POST /api/v1/projects/:project/portal-links {expiresIn?} → 201 {url, token, expiresAt, projectId}.
 * Creates a signed link to the customer portal (/ui/portal) for one project. The admin token or that
 * project's API key may create one; a portal token may not (a link must not mint longer-lived links).
 * A link made with a key carries the key's id and is refused once that key is deleted (auth.ts).
 *
 * A link carries the project's portal-link generation (`gen`) as read here when it is made.
 *
 * DELETE /api/v1/projects/:project/portal-links → 204. Revokes every link of the project issued
 * until now: the project's `portalLinksGeneration` is incremented (in one UPDATE), and auth.ts
 * refuses a link whose `gen` is lower, in every process sharing the database, whatever their clocks.
 * Links made afterwards work. `portalLinksNotBefore` also becomes now, for links made before links
 * carried `gen`: auth.ts refuses such a link whose issue time (`iat`) is earlier.
 * The admin token or that project's API key may; a portal token may not (403).
 */
// Brings @fastify/swagger's schema fields (tags, summary) into Fastify's types; erased at run time.
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TEXT_PATTERN } from '../api/schemas/common.ts';
import type { Store } from '../store/store.ts';
import { createPortalToken } from './portal-token.ts';

/** Who made the request, as the API's auth resolved it (null: not authenticated). */
export type PortalLinkCaller =
  | { kind: 'admin' }
  | { kind: 'project'; projectId: string; keyId: string }
  | { kind: 'portal'; projectId: string }
  | null;

export interface PortalLinksRouteOptions {
  store: Pick<Store, 'getProject' | 'revokePortalLinks'>;
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

/** Why a portal caller is refused, by action. */
const FORBIDDEN = {
  create: 'a portal link cannot create portal links',
  revoke: 'a portal link cannot revoke portal links',
} as const;

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
  const params = {
    type: 'object',
    required: ['project'],
    properties: { project: { type: 'string', minLength: 1, maxLength: 200, pattern: TEXT_PATTERN } },
  } as const;
  /** The project `idOrUid` names, if `caller` may act on its links; otherwise null, the error sent. */
  const projectOf = async (
    caller: PortalLinkCaller,
    idOrUid: string,
    reply: FastifyReply,
    action: keyof typeof FORBIDDEN,
  ) => {
    if (caller === null) {
      sendError(reply, 401, 'HERALD_ERR_UNAUTHORIZED', 'missing or invalid bearer token');
      return null;
    }
    const project = await options.store.getProject(idOrUid);
    // Another project's resource is simply not there (DESIGN: 404, not 403).
    if (project === null || (caller.kind !== 'admin' && caller.projectId !== project.id)) {
      sendError(reply, 404, 'HERALD_ERR_NOT_FOUND', 'project not found');
      return null;
    }
    if (caller.kind === 'portal') {
      sendError(reply, 403, 'HERALD_ERR_FORBIDDEN', FORBIDDEN[action]);
      return null;
    }
    return { project, caller };
  };
  app.post<{ Params: { project: string }; Body: unknown }>(
    '/api/v1/projects/:project/portal-links',
    {
      // Not to portal links: the API's own onRequest hook refuses them before the body is
      // validated (a portal caller learns nothing from its errors), as it answers another
      // project's path 404; projectOf checks again, for an app without that hook.
      config: { access: 'write', portal: false, portalRefusal: FORBIDDEN.create },
      schema: {
        tags: ['portal'],
        summary: 'Create a signed link to the customer portal of this project (admin or project key)',
        params,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { expiresIn: { type: 'integer', minimum: 1, maximum: MAX_PORTAL_LINK_SECONDS } },
        },
      },
    },
    async (request, reply) => {
      const allowed = await projectOf(options.callerOf(request), request.params.project, reply, 'create');
      if (allowed === null) return reply;
      const { project, caller } = allowed;

      const expiresIn = readExpiresIn(request.body);
      if (typeof expiresIn === 'string') {
        return sendError(reply, 400, 'HERALD_ERR_VALIDATION', expiresIn, { field: 'expiresIn' });
      }
      const issuedAt = now();
      // Whole seconds (the token's `exp`), rounded up: the link lives at least `expiresIn` seconds.
      const expiresAt = Math.ceil(issuedAt / 1000) * 1000 + expiresIn * 1000;
      const token = createPortalToken(options.portalKey, {
        projectId: project.id,
        expiresAt,
        issuedAt,
        // As read above: a revocation after that read ends this link too (no clock involved).
        generation: project.portalLinksGeneration,
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

  app.delete<{ Params: { project: string } }>(
    '/api/v1/projects/:project/portal-links',
    {
      config: { access: 'write', portal: false, portalRefusal: FORBIDDEN.revoke },
      schema: {
        tags: ['portal'],
        summary:
          'Revoke every portal link of this project issued until now; links made afterwards work (admin or project key)',
        params,
      },
    },
    async (request, reply) => {
      const allowed = await projectOf(options.callerOf(request), request.params.project, reply, 'revoke');
      if (allowed === null) return reply;
      // A project deleted meanwhile has no links left to revoke: not found, as for any other route.
      if (!(await options.store.revokePortalLinks(allowed.project.id, now()))) {
        return sendError(reply, 404, 'HERALD_ERR_NOT_FOUND', 'project not found');
      }
      return reply.code(204).send();
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
