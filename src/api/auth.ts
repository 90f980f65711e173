/**
 * Who is calling: the admin token (everything), a project API key (its own project only), or a
 * portal token (its project, customer actions only). Comparisons are constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { MAX_BEARER_TOKEN_LENGTH } from '../config/admin-token.ts';
import { verifyPortalToken } from '../dashboard/portal-token.ts';
import type { ApiKey, Project } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { NotFoundError, UnauthorizedError, ValidationError } from './errors.ts';
import { keyScopeRefusal } from './key-scope.ts';
import { portalRefusal } from './portal-access.ts';
import { LIMITS } from './schemas/common.ts';
import { logAdminOnlyRefusal, logPortalRefusal, logScopeRefusal } from './scope-refusal-log.ts';

export type Caller =
  | { kind: 'admin' }
  | { kind: 'project'; projectId: string; keyId: string; prefix: string; scope: string }
  | { kind: 'portal'; projectId: string };

export const API_KEY_PREFIX = 'hk_';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** A new project API key and what is stored of it (the hash, never the key). */
export function newApiKey(): { key: string; keyHash: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, keyHash: sha256(key).toString('hex'), prefix: key.slice(0, 10) };
}

export interface AuthContext {
  store: Store;
  adminTokenDigest: Buffer;
  portalKey: Uint8Array;
  /** When this process last wrote a key's `lastUsedAt` (touchKey), by key id. */
  keysTouchedAt: Map<string, number>;
}

export function createAuthContext(store: Store, adminToken: string, portalKey: Uint8Array): AuthContext {
  return { store, adminTokenDigest: sha256(adminToken), portalKey, keysTouchedAt: new Map() };
}

/** A key's `lastUsedAt` is to the minute: written at most once a minute, whichever process saw it. */
const KEY_USE_RESOLUTION_MS = 60_000;
/** Keys this process remembers touching before it starts over (it only saves writes). */
const MAX_TOUCHED_KEYS = 10_000;

/**
 * Records that a project API key was used (`lastUsedAt`, for an operator checking whether a leaked
 * key is in use), beside the request: a failed write costs the request nothing.
 */
function touchKey(ctx: AuthContext, key: ApiKey, now: number): void {
  const seen = Math.max(
    key.lastUsedAt ?? Number.NEGATIVE_INFINITY,
    ctx.keysTouchedAt.get(key.id) ?? -Infinity,
  );
  if (now - seen < KEY_USE_RESOLUTION_MS) return;
  if (ctx.keysTouchedAt.size >= MAX_TOUCHED_KEYS) ctx.keysTouchedAt.clear();
  ctx.keysTouchedAt.set(key.id, now);
  ctx.store.touchApiKey(key.projectId, key.id, now, KEY_USE_RESOLUTION_MS).catch(() => {
    ctx.keysTouchedAt.delete(key.id); // tried again at the next use
  });
}

/** Resolves the caller of a request, or null when the token is missing or invalid. */
export async function identify(ctx: AuthContext, request: FastifyRequest): Promise<Caller | null> {
  const header = request.headers.authorization;
  // The scheme name is case-insensitive (RFC 9110 11.1).
  if (typeof header !== 'string' || !/^bearer /i.test(header)) return null;
  const token = header.slice(7).trim();
  if (!token || token.length > MAX_BEARER_TOKEN_LENGTH) return null;
  // Digests have equal length, so the comparison's time does not depend on the token.
  if (timingSafeEqual(sha256(token), ctx.adminTokenDigest)) return { kind: 'admin' };
  if (token.startsWith(API_KEY_PREFIX)) {
    const key = await ctx.store.findApiKeyByHash(sha256(token).toString('hex'));
    if (!key) return null;
    touchKey(ctx, key, Date.now());
    // Touched before the route's scope is checked: a key used beyond its scope is still in use (a
    // leaked send key probing the read routes shows in `lastUsedAt`, as in the log: checkKeyScope).
    return { kind: 'project', projectId: key.projectId, keyId: key.id, prefix: key.prefix, scope: key.scope };
  }
  const portal = verifyPortalToken(token, ctx.portalKey, Date.now());
  if (!portal.ok) return null;
  // A link outlives nothing it was made for: once its project is deleted it is refused everywhere,
  // the installation-wide routes (the event catalog) included, not only under the project's path.
  const project = await ctx.store.getProject(portal.claims.projectId);
  if (!project) return null;
  // Links of a project whose links were revoked (DELETE …/portal-links) since they were made are
  // refused, from the row read above: every process sharing the database refuses them at once. A
  // link carries the project's generation when it was made, and each revocation increments it: no
  // clock is compared, so a link made by a process whose clock runs ahead is ended too. A link from
  // before links carried it goes by its issue time against the last revocation's.
  const { generation } = portal.claims;
  if (generation !== undefined) {
    if (generation < project.portalLinksGeneration) return null;
  } else {
    const notBefore = project.portalLinksNotBefore;
    if (notBefore !== null && portal.claims.issuedAt < notBefore) return null;
  }
  // A link made with a project API key goes with that key: deleting a leaked key ends its links too.
  // Looked up by its id: listing the project's keys cost every portal request O(keys) (21 ms each
  // with 10,000 keys).
  const { keyId } = portal.claims;
  if (keyId !== undefined && !(await ctx.store.getApiKey(portal.claims.projectId, keyId))) return null;
  return { kind: 'portal', projectId: portal.claims.projectId };
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
    /** The project named by `:project`, resolved (and access-checked) before validation. */
    project: Project | null;
  }
}

/**
 * Whether a request needs a token: decided by the route it matched, not by the raw URL, which may be
 * absolute-form (`GET http://host/api/v1/…`) or percent-encoded (`/%61pi/v1/…`) and still reach an
 * API route. A request that matched no route goes by its path (unknown /api/ paths answer 401 too).
 */
export function needsAuth(request: FastifyRequest): boolean {
  const route = request.is404 ? request.url : request.routeOptions.url;
  return route?.startsWith('/api/') ?? false;
}

/**
 * Refuses a project key whose scope does not cover what the route needs (key-scope.ts), and a
 * portal token on a route that does not let portal links in (portal-access.ts), once the project it
 * names has been found visible: another project's resource stays 404 to every caller. Operator
 * routes are refused to both. A request that matched no route needs nothing here (it is 404 anyway).
 */
export function checkRouteAccess(request: FastifyRequest): void {
  const caller = callerOf(request);
  if (caller.kind === 'admin' || request.is404) return;
  // Every /api/ route declares both (build-app.ts refuses to register one that does not): fail closed.
  const { config } = request.routeOptions;
  if (caller.kind === 'portal') {
    const refusal = portalRefusal(config);
    if (!refusal) return;
    logPortalRefusal(request, caller); // throttled, never the token: scope-refusal-log.ts
    throw refusal;
  }
  const access = config.access ?? 'operator';
  const refusal = keyScopeRefusal(caller.scope, access);
  if (!refusal) return;
  // Throttled, never the token (scope-refusal-log.ts); an operator route is no matter of scope.
  if (access === 'operator') logAdminOnlyRefusal(request, caller);
  else logScopeRefusal(request, caller);
  throw refusal;
}

/** The authenticated caller, or 401. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new UnauthorizedError();
  return request.caller;
}

/**
 * Looks up the project `idOrUid` names if the caller may see it; any other project is simply not
 * found (404), so a project key cannot even learn that another project exists.
 */
export async function visibleProject(store: Store, caller: Caller, idOrUid: string): Promise<Project> {
  // Runs before the params schema, so says what its minLength would (`params.endpoint: must not be
  // empty`, validation-words.ts): `/projects//events` names no project, rather than one not found.
  if (idOrUid === '') {
    throw new ValidationError('params.project', 'must not be empty', { details: { limit: 1 } });
  }
  // What cannot be an id or uid never reaches the store (PostgreSQL refuses NUL characters in text
  // with an error, which would otherwise be a 500).
  if (idOrUid.length > LIMITS.idLength || idOrUid.includes('\0')) throw new NotFoundError('project');
  const project = await store.getProject(idOrUid);
  if (!project || (caller.kind !== 'admin' && caller.projectId !== project.id)) {
    throw new NotFoundError('project');
  }
  return project;
}

/**
 * The project a path names, if the caller may see it (the onRequest hook has usually resolved it
 * already, and checked that the caller may use the route: checkRouteAccess).
 */
export async function projectFor(store: Store, request: FastifyRequest, idOrUid: string): Promise<Project> {
  const cached = request.project;
  return cached && (cached.id === idOrUid || cached.uid === idOrUid)
    ? cached
    : await visibleProject(store, callerOf(request), idOrUid);
}
