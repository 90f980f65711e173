/**
 * Every answer to an /api/ URL says `Cache-Control: no-store`: those past the token check hold
 * secrets, keys, links and payloads, which a browser's HTTP cache outlives the tab holding the
 * token for; and those made before it (a 414 path segment, a URL Fastify cannot decode, a closing
 * server's 503, the rate limit's 429, a 401) hold none, but a shared cache could keep one for a
 * URL and answer it to the next caller (RFC 9111 lets a cache keep a 404 or 414 it was not told
 * about). Until 2026-12-06 only the answers from the token check on said it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * A request target's scheme and authority, when it is in absolute form (`http://host/api/v1/…`,
 * as a proxy may forward it), which the router routes by its path.
 */
const ABSOLUTE_FORM = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;

/**
 * Whether `request` asked for an /api/ URL (routed or not), its target in absolute form too: the
 * router answers `GET http://host/api/v1/projects` as it does `/api/v1/projects`, and until
 * 2026-12-07 that answer said no Cache-Control.
 */
export function isApiRequest(request: FastifyRequest): boolean {
  return request.url.replace(ABSOLUTE_FORM, '').startsWith('/api/');
}

/** Says no-store on the answer to an /api/ request; for what answers before the onRequest hooks. */
export function noStoreForApi(request: FastifyRequest, reply: FastifyReply): void {
  if (isApiRequest(request)) reply.header('cache-control', 'no-store');
}

/** The first onRequest hook (with the request id's): the answers later hooks make early say it too. */
export function sayNoStore(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    noStoreForApi(request, reply);
    done();
  });
}
