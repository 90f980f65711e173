/**
 * Authorization matrix: every API route × every kind of caller. One table entry per route says who
 * may call it (operator only, project credentials, customer portal too, or any valid token) and
 * what success looks like; the test derives every other expectation from it:
 *
 *   no token, a wrong token, an expired / forged / tampered portal token, a revoked key,
 *   a revoked portal link, one whose key was deleted, one of a deleted project          → 401
 *   a project key or portal token on another project's resources (any route)          → 404
 *   any caller naming another project's resource under its own project's path         → 404
 *   OPTIONS (no route answers it)                                   → 401 without a token, else 404
 *   a project key or portal token on an operator route                               → 403
 *   a portal token on a route a customer may not use                                  → 403
 *   the admin token, a project key on its own project, a portal token where allowed   → the success status
 *   a send-only or read-only key on its own project, on a route its scope does not cover → 403
 *
 * What each key scope may do is stated here, apart from what the routes declare (src/api/key-scope.ts):
 * `read` keys every GET route of their project but the endpoint secret, `send` keys sending events
 * only, both the installation-wide `any` routes; `full` keys everything a project key may. An entry's
 * `keys` says so where that rule does not.
 *
 * The table is compared with the routes the app registered and with the operations the served
 * /openapi.json lists: a new route without an entry (or an entry whose route is gone, or is not
 * documented) fails the test, and so does an operation whose documented key scopes
 * (x-herald-key-scopes), portal access (x-herald-portal) or refusals (401, 403, 404) are not what
 * the table enforces. Which routes it lets portal tokens use is compared with
 * what the docs say they may do (portalMayUse), a rule over any route rather than a list.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isRouteAccess } from '../../src/api/key-scope.ts';
import { createPortalToken, derivePortalKey } from '../../src/dashboard/portal-token.ts';
import { attemptRecord } from '../store/helpers.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';
import { rawRequest } from '../support/raw-http.ts';
import { ADMIN } from './helpers.ts';
import { isApiRoute, PUBLIC_ROUTES, type RoutedApi, startRoutedApi } from './route-table.ts';

/** Who may call a route. */
type Access =
  | 'operator' // the admin token only (project keys and portal tokens: 403)
  | 'project' // the admin token and the project's keys (portal tokens: 403)
  | 'customer' // also the project's portal tokens
  | 'any'; // any valid token (the catalog is global)

interface Target {
  /** The project the path names. */
  project: { id: string; uid: string };
  endpoint(): Promise<string>;
  event(): Promise<{ id: string; deliveryId: string }>;
  attempt(): Promise<string>;
  apiKeyId(): Promise<string>;
}

/** Project API key scopes (POST …/api-keys {scope}). */
type Scope = 'full' | 'send' | 'read';

interface Entry {
  access: Access;
  /** The key scopes that may use the route, where the rule above does not say. */
  keys?: Scope[];
  /** Status of a successful call. */
  ok: number;
  path(t: Target): Promise<string> | string;
  body?: unknown;
}

const EXAMPLE_TYPE = 'matrix.example';
/** The keys of an OpenAPI path item that are operations. */
const OPERATION_VERBS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const P = (t: Target) => `/api/v1/projects/${t.project.id}`;
const EP = async (t: Target) => `${P(t)}/endpoints/${await t.endpoint()}`;

/** One entry per route; the key is `METHOD url` exactly as registered. */
const TABLE: Record<string, Entry> = {
  'POST /api/v1/projects': {
    access: 'operator',
    ok: 201,
    path: () => '/api/v1/projects',
    body: { name: 'n' },
  },
  'GET /api/v1/projects': { access: 'operator', ok: 200, path: () => '/api/v1/projects' },
  'GET /api/v1/projects/:project': { access: 'customer', ok: 200, path: P },
  'PATCH /api/v1/projects/:project': { access: 'project', ok: 200, path: P, body: { name: 'renamed' } },
  'DELETE /api/v1/projects/:project': { access: 'operator', ok: 204, path: P },
  'POST /api/v1/projects/:project/api-keys': {
    access: 'operator',
    ok: 201,
    path: (t) => `${P(t)}/api-keys`,
    body: { name: 'k' },
  },
  'GET /api/v1/projects/:project/api-keys': { access: 'project', ok: 200, path: (t) => `${P(t)}/api-keys` },
  'DELETE /api/v1/projects/:project/api-keys/:key': {
    access: 'project',
    ok: 204,
    path: async (t) => `${P(t)}/api-keys/${await t.apiKeyId()}`,
  },
  'PUT /api/v1/event-types/:name': {
    access: 'operator',
    ok: 200,
    path: () => '/api/v1/event-types/matrix.put',
    body: { description: 'd' },
  },
  'GET /api/v1/event-types': { access: 'any', ok: 200, path: () => '/api/v1/event-types' },
  'GET /api/v1/event-types/:name': {
    access: 'any',
    ok: 200,
    path: () => `/api/v1/event-types/${EXAMPLE_TYPE}`,
  },
  'GET /api/v1/installation': { access: 'any', ok: 200, path: () => '/api/v1/installation' },
  'POST /api/v1/projects/:project/endpoints': {
    access: 'customer',
    ok: 201,
    path: (t) => `${P(t)}/endpoints`,
    body: { url: 'https://receiver.example/hook' },
  },
  'GET /api/v1/projects/:project/endpoints': {
    access: 'customer',
    ok: 200,
    path: (t) => `${P(t)}/endpoints`,
  },
  'GET /api/v1/projects/:project/endpoints/:endpoint': { access: 'customer', ok: 200, path: EP },
  'PATCH /api/v1/projects/:project/endpoints/:endpoint': {
    access: 'customer',
    ok: 200,
    path: EP,
    body: { name: 'renamed' },
  },
  'DELETE /api/v1/projects/:project/endpoints/:endpoint': { access: 'customer', ok: 204, path: EP },
  'GET /api/v1/projects/:project/endpoints/:endpoint/secret': {
    access: 'customer',
    keys: ['full'], // a GET, but a secret: read-only keys do not see it
    ok: 200,
    path: async (t) => `${await EP(t)}/secret`,
  },
  'POST /api/v1/projects/:project/endpoints/:endpoint/secret/rotate': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${await EP(t)}/secret/rotate`,
    body: {},
  },
  'POST /api/v1/projects/:project/endpoints/:endpoint/enable': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${await EP(t)}/enable`,
  },
  'POST /api/v1/projects/:project/endpoints/:endpoint/recover': {
    access: 'customer',
    ok: 202,
    path: async (t) => `${await EP(t)}/recover`,
    body: { since: 0 },
  },
  'POST /api/v1/projects/:project/endpoints/:endpoint/replay': {
    access: 'customer',
    ok: 202,
    path: async (t) => `${await EP(t)}/replay`,
    body: { since: 0 },
  },
  'POST /api/v1/projects/:project/endpoints/:endpoint/test': {
    access: 'customer',
    ok: 202,
    path: async (t) => `${await EP(t)}/test`,
    body: {},
  },
  'GET /api/v1/projects/:project/endpoints/:endpoint/attempts': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${await EP(t)}/attempts`,
  },
  'GET /api/v1/projects/:project/endpoints/:endpoint/deliveries': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${await EP(t)}/deliveries`,
  },
  'GET /api/v1/projects/:project/endpoints/:endpoint/stats': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${await EP(t)}/stats`,
  },
  'POST /api/v1/projects/:project/events': {
    access: 'project',
    keys: ['full', 'send'],
    ok: 202,
    path: (t) => `${P(t)}/events`,
    body: { type: 'matrix.sent', payload: { n: 1 } },
  },
  'POST /api/v1/projects/:project/events/batch': {
    access: 'project',
    keys: ['full', 'send'],
    ok: 202,
    path: (t) => `${P(t)}/events/batch`,
    body: { events: [{ type: 'matrix.sent', payload: {} }] },
  },
  'GET /api/v1/projects/:project/events': { access: 'customer', ok: 200, path: (t) => `${P(t)}/events` },
  'GET /api/v1/projects/:project/events/:event': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${P(t)}/events/${(await t.event()).id}`,
  },
  'GET /api/v1/projects/:project/events/:event/deliveries': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${P(t)}/events/${(await t.event()).id}/deliveries`,
  },
  'GET /api/v1/projects/:project/events/:event/attempts': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${P(t)}/events/${(await t.event()).id}/attempts`,
  },
  'GET /api/v1/projects/:project/deliveries/:delivery': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${P(t)}/deliveries/${(await t.event()).deliveryId}`,
  },
  'POST /api/v1/projects/:project/deliveries/:delivery/retry': {
    access: 'customer',
    ok: 202,
    path: async (t) => `${P(t)}/deliveries/${(await t.event()).deliveryId}/retry`,
  },
  'GET /api/v1/projects/:project/attempts/:attempt': {
    access: 'customer',
    ok: 200,
    path: async (t) => `${P(t)}/attempts/${await t.attempt()}`,
  },
  'GET /api/v1/projects/:project/operational-events': {
    access: 'customer',
    ok: 200,
    path: (t) => `${P(t)}/operational-events`,
  },
  'POST /api/v1/projects/:project/portal-links': {
    access: 'project',
    ok: 201,
    path: (t) => `${P(t)}/portal-links`,
    body: { expiresIn: 60 },
  },
  'DELETE /api/v1/projects/:project/portal-links': {
    access: 'project',
    ok: 204,
    path: (t) => `${P(t)}/portal-links`,
  },
};

/**
 * What docs/api.md (Authentication) and docs/security.md (Actors) say a portal token may do, as a
 * rule over any route rather than a list: in its project, read it and everything in it but its API
 * keys, manage its endpoints (everything under …/endpoints: settings, secrets, history, the test
 * send, recover and replay levers) and resend a delivery; outside it, read the installation's
 * settings and the event catalog. Not: send events, API keys, change or delete the project, portal
 * links, anything else. A new route is refused by this rule until the docs (and the rule) say it.
 */
function portalMayUse(method: string, url: string): boolean {
  const inProject = /^\/api\/v1\/projects\/:project(\/.*)?$/.exec(url);
  if (!inProject) return method === 'GET' && /^\/api\/v1\/(installation|event-types)(\/|$)/.test(url);
  const rest = inProject[1] ?? '';
  if (/^\/(api-keys|portal-links)(\/|$)/.test(rest)) return false;
  if (/^\/endpoints(\/|$)/.test(rest)) return true;
  if (method === 'POST' && rest === '/deliveries/:delivery/retry') return true;
  return method === 'GET';
}

/** `key` is a full key; `send` and `read` keys of those scopes. */
type CallerKind = 'admin' | 'key' | 'send' | 'read' | 'portal';

/** The key scopes that may use a route (the rule in the header, or the entry's `keys`). */
function keyScopes(entry: Entry, method: string): Scope[] {
  if (entry.keys) return entry.keys;
  if (entry.access === 'any') return ['full', 'send', 'read'];
  return method === 'GET' ? ['full', 'read'] : ['full'];
}

/** What `caller` on its own project (`own`) or another one gets from a route with this entry. */
function expectedStatus(
  entry: Entry,
  method: string,
  scoped: boolean,
  caller: CallerKind,
  own: boolean,
): number {
  if (caller === 'admin') return entry.ok;
  // Another project is not there at all, whatever the route and the key's scope: not even its
  // existence leaks.
  if (scoped && !own) return 404;
  if (entry.access === 'operator') return 403;
  if (caller === 'portal') return entry.access === 'project' ? 403 : entry.ok;
  const scope: Scope = caller === 'key' ? 'full' : caller;
  return keyScopes(entry, method).includes(scope) ? entry.ok : 403;
}

// On SQLite and on PostgreSQL: the scopes, the project isolation and the refusals of revoked keys
// and deleted projects' credentials are decided by what each store finds (keys by hash, projects by
// id or uid, portal link generations), so each store must be seen deciding them.
onBothStores(
  (storeName, open) =>
    describe(`authorization matrix (${storeName})`, () => {
      let api: RoutedApi;
      let opened: Awaited<ReturnType<OpenStore>>;
      const portalKey = derivePortalKey(ADMIN);

      const call = async (method: string, url: string, token: string | null, body?: unknown) => {
        const headers: Record<string, string> = {};
        if (token !== null) headers.authorization = token;
        if (body !== undefined) headers['content-type'] = 'application/json';
        return api.inject({
          method,
          url,
          headers,
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });
      };
      const admin = async (method: string, url: string, body?: unknown) => {
        const r = await call(method, url, `Bearer ${ADMIN}`, body);
        assert.ok(r.status < 300, `${method} ${url} as admin: ${r.status} ${r.text}`);
        return r.json;
      };

      /** A fresh project with everything a path may name, made on demand by the admin. */
      const newTarget = async (name: string): Promise<Target> => {
        const project = await admin('POST', '/api/v1/projects', {
          name,
          uid: `${name}-${randomBytes(4).toString('hex')}`,
        });
        const base = `/api/v1/projects/${project.id}`;
        const endpoint = async () =>
          (
            await admin('POST', `${base}/endpoints`, {
              url: 'https://receiver.example/hook',
              eventTypes: [EXAMPLE_TYPE],
            })
          ).id as string;
        // One endpoint for every event of the target to go to, made with its first event: an endpoint
        // per event made each event fan out to all before it, and a project's pending deliveries grow
        // with the square of the entries (past the 1,000 attempt() claims, so its event went unclaimed).
        let receiving: Promise<string> | null = null;
        const event = async () => {
          receiving ??= endpoint();
          await receiving;
          const e = await admin('POST', `${base}/events`, { type: EXAMPLE_TYPE, payload: { n: 1 } });
          return { id: e.id as string, deliveryId: e.deliveries[0].id as string };
        };
        return {
          project,
          endpoint,
          event,
          async attempt() {
            const { id } = await event();
            const claims = await api.store.claimDueDeliveries({
              limit: 1000,
              leaseMs: 60_000,
              now: Date.now() + 1000,
              workerId: 'matrix',
            });
            const claim = claims.find((c) => c.event.id === id);
            assert.ok(claim, 'the new delivery can be claimed');
            const record = attemptRecord(claim.delivery, claim.event, {
              startedAt: Date.now(),
              workerId: 'matrix',
            });
            await api.store.recordAttempts([record], { now: Date.now(), failureThreshold: 10 });
            return record.attempt.id;
          },
          async apiKeyId() {
            return (await admin('POST', `${base}/api-keys`, { name: 'to-delete' })).id as string;
          },
        };
      };

      /** Credentials of one project: a key, a portal token, and tokens that must not work. */
      const credentialsFor = async (projectId: string) => {
        const base = `/api/v1/projects/${projectId}`;
        const key = (await admin('POST', `${base}/api-keys`, { name: 'matrix' })).key as string;
        const send = (await admin('POST', `${base}/api-keys`, { name: 'producer', scope: 'send' }))
          .key as string;
        const read = (await admin('POST', `${base}/api-keys`, { name: 'monitor', scope: 'read' }))
          .key as string;
        // Links that no longer work: one revoked (DELETE …/portal-links), one from before links carried
        // the generation issued before that revocation, one made with a key since deleted.
        const revokedPortal = (await admin('POST', `${base}/portal-links`, { expiresIn: 3600 }))
          .token as string;
        const legacyPortal = createPortalToken(derivePortalKey(ADMIN), {
          projectId,
          expiresAt: Date.now() + 3_600_000,
          issuedAt: Date.now() - 1000,
        });
        await admin('DELETE', `${base}/portal-links`);
        const doomed = await admin('POST', `${base}/api-keys`, { name: 'doomed' });
        const keyPortal = await call('POST', `${base}/portal-links`, `Bearer ${doomed.key}`, {
          expiresIn: 3600,
        });
        assert.equal(keyPortal.status, 201, keyPortal.text);
        await admin('DELETE', `${base}/api-keys/${doomed.id}`);
        const portal = (await admin('POST', `${base}/portal-links`, { expiresIn: 3600 })).token as string;
        const revoked = await admin('POST', `${base}/api-keys`, { name: 'revoked' });
        await admin('DELETE', `${base}/api-keys/${revoked.id}`);
        return {
          key,
          send,
          read,
          portal,
          revokedKey: revoked.key as string,
          revokedPortal,
          legacyPortal,
          keyDeletedPortal: keyPortal.json.token as string,
        };
      };
      /** A portal link of a project that has since been deleted. */
      const deletedProjectPortal = async () => {
        const project = await admin('POST', '/api/v1/projects', { name: 'deleted' });
        const token = (await admin('POST', `/api/v1/projects/${project.id}/portal-links`, {}))
          .token as string;
        await admin('DELETE', `/api/v1/projects/${project.id}`);
        return token;
      };

      before(async () => {
        opened = await open();
        api = await startRoutedApi({}, { store: opened.store });
        await admin('PUT', `/api/v1/event-types/${EXAMPLE_TYPE}`, { description: 'x', example: { n: 1 } });
      });
      after(async () => {
        await api?.close();
        await opened?.done();
      });

      test('every API route declares what a caller needs (config.access), so no route is forgotten by the key scopes', () => {
        const undeclared = api.routes
          .filter((r) => isApiRoute(r) && !isRouteAccess(r.access))
          .map((r) => `${r.method} ${r.url}`);
        assert.deepEqual(undeclared, []);
        assert.ok(api.routes.filter(isApiRoute).length >= Object.keys(TABLE).length);
      });

      test('every registered route has an entry, and every entry a route', () => {
        const registered = api.routes
          .filter((r) => isApiRoute(r) && r.method !== 'HEAD')
          .map((r) => `${r.method} ${r.url}`);
        const missing = registered.filter((k) => !(k in TABLE));
        const stale = Object.keys(TABLE).filter((k) => !registered.includes(k));
        assert.deepEqual(missing, [], 'routes without an entry in the authorization matrix');
        assert.deepEqual(stale, [], 'entries whose route is not registered');
        // HEAD is the GET route's twin: it is covered through GET below.
        for (const r of api.routes.filter((x) => isApiRoute(x) && x.method === 'HEAD')) {
          assert.ok(`GET ${r.url}` in TABLE, `HEAD ${r.url} has no GET entry`);
        }
        // Outside /api/ only the known public routes exist: a new one is a decision, not an accident.
        const unknownPublic = api.routes
          .filter((r) => !isApiRoute(r) && !PUBLIC_ROUTES.some((p) => p.test(r.url)))
          .map((r) => `${r.method} ${r.url}`);
        assert.deepEqual(unknownPublic, [], 'routes outside /api/ that are not known public routes');
      });

      test('the served /openapi.json lists exactly the routes of the table, each with the callers the table lets in', async () => {
        const served = await call('GET', '/openapi.json', null);
        assert.equal(served.status, 200, served.text);
        const doc = served.json as {
          security?: unknown[];
          paths: Record<string, Record<string, Record<string, unknown>>>;
        };
        const documented: string[] = [];
        const differ: string[] = [];
        for (const [path, item] of Object.entries(doc.paths)) {
          for (const [verb, operation] of Object.entries(item)) {
            if (!OPERATION_VERBS.has(verb)) continue;
            const method = verb.toUpperCase();
            const url = path.replace(/\{([^}]+)\}/g, ':$1');
            const route = `${method} ${url}`;
            const security = (operation.security ?? doc.security ?? []) as unknown[];
            if (!url.startsWith('/api/')) {
              // Outside /api/ only the known public routes, documented as needing no token.
              if (!PUBLIC_ROUTES.some((p) => p.test(url))) differ.push(`${route}: not a known public route`);
              if (security.length !== 0)
                differ.push(`${route}: a public route documented as needing a token`);
              continue;
            }
            documented.push(route);
            const entry = TABLE[route];
            if (!entry) continue; // listed below
            if (!security.some((s) => JSON.stringify(s) === '{"bearer":[]}')) {
              differ.push(`${route}: security ${JSON.stringify(security)}, not the bearer token`);
            }
            const scopes = entry.access === 'operator' ? [] : keyScopes(entry, method);
            const documentedScopes = operation['x-herald-key-scopes'];
            if (JSON.stringify(documentedScopes) !== JSON.stringify(scopes)) {
              differ.push(
                `${route}: x-herald-key-scopes ${JSON.stringify(documentedScopes)}, enforced ${JSON.stringify(scopes)}`,
              );
            }
            const portal = entry.access === 'customer' || entry.access === 'any';
            if (operation['x-herald-portal'] !== portal) {
              differ.push(
                `${route}: x-herald-portal ${String(operation['x-herald-portal'])}, enforced ${portal}`,
              );
            }
            // The refusals the matrix expects of this route are documented answers of it.
            const responses = Object.keys((operation.responses ?? {}) as object);
            const refusals = new Set([401]);
            const scoped = url.includes(':project');
            for (const kind of ['key', 'send', 'read', 'portal'] as const) {
              refusals.add(expectedStatus(entry, method, scoped, kind, true));
              if (scoped) refusals.add(expectedStatus(entry, method, scoped, kind, false));
            }
            for (const status of [...refusals].filter((s) => s >= 400)) {
              if (!responses.includes(String(status))) differ.push(`${route}: ${status} not documented`);
            }
          }
        }
        const missing = documented.filter((k) => !(k in TABLE));
        const stale = Object.keys(TABLE).filter((k) => !documented.includes(k));
        assert.deepEqual(
          missing,
          [],
          'operations of /openapi.json without an entry in the authorization matrix',
        );
        assert.deepEqual(stale, [], 'entries of the matrix that /openapi.json does not document');
        assert.deepEqual(differ, [], 'operations documented otherwise than the matrix enforces them');
      });

      test('every API route declares whether portal tokens may use it (config.portal), as the docs say', () => {
        const differ = api.routes
          .filter(
            (r) => isApiRoute(r) && r.portal !== portalMayUse(r.method === 'HEAD' ? 'GET' : r.method, r.url),
          )
          .map((r) => `${r.method} ${r.url}: config.portal ${String(r.portal)}`);
        assert.deepEqual(differ, []);
      });

      test('the table lets portal tokens use exactly the routes the docs say they may', () => {
        const routes = api.routes.filter(
          (r) => isApiRoute(r) && r.method !== 'HEAD' && `${r.method} ${r.url}` in TABLE,
        );
        const differ = routes
          .filter((r) => {
            const { access } = TABLE[`${r.method} ${r.url}`]!;
            return (access === 'customer' || access === 'any') !== portalMayUse(r.method, r.url);
          })
          .map((r) => `${r.method} ${r.url}`);
        assert.deepEqual(differ, []);
        assert.ok(routes.some((r) => portalMayUse(r.method, r.url)));
        assert.ok(routes.some((r) => !portalMayUse(r.method, r.url)));
      });

      for (const [route, entry] of Object.entries(TABLE)) {
        const [method, url] = route.split(' ') as [string, string];
        const scoped = url.includes(':project');

        test(route, async () => {
          const own = await newTarget('own');
          const other = await newTarget('other');
          const mine = await credentialsFor(own.project.id);
          const now = Date.now();
          const [payload] = mine.portal.slice(4).split('.');
          const otherPayload = Buffer.from(
            JSON.stringify({ projectId: other.project.id, exp: Math.floor(now / 1000) + 3600 }),
          ).toString('base64url');
          const refused: [string, string | null][] = [
            ['no Authorization header', null],
            ['an empty bearer token', 'Bearer '],
            ['a made-up project key', `Bearer hk_${randomBytes(32).toString('base64url')}`],
            [
              'the admin token with one character changed',
              `Bearer ${ADMIN.slice(0, -1)}${ADMIN.endsWith('x') ? 'y' : 'x'}`,
            ],
            ['the admin token with a suffix', `Bearer ${ADMIN}x`],
            ['the admin token as Basic auth', `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}`],
            ['the admin token without a scheme', ADMIN],
            [
              'a project key with one character changed',
              `Bearer ${mine.key.slice(0, -1)}${mine.key.endsWith('A') ? 'B' : 'A'}`,
            ],
            ['a revoked project key', `Bearer ${mine.revokedKey}`],
            [
              'an expired portal token',
              `Bearer ${createPortalToken(portalKey, { projectId: own.project.id, expiresAt: now - 1000 })}`,
            ],
            [
              'a portal token signed with another key',
              `Bearer ${createPortalToken(derivePortalKey('another-admin-token-0123456789'), {
                projectId: own.project.id,
                expiresAt: now + 3_600_000,
              })}`,
            ],
            [
              'a portal token moved to another project',
              `Bearer ${mine.portal.replace(payload!, otherPayload)}`,
            ],
            ['a revoked portal link', `Bearer ${mine.revokedPortal}`],
            [
              'a portal link without a generation, issued before the revocation',
              `Bearer ${mine.legacyPortal}`,
            ],
            ['a portal link made with a key since deleted', `Bearer ${mine.keyDeletedPortal}`],
            ['a portal link of a deleted project', `Bearer ${await deletedProjectPortal()}`],
          ];
          const body = entry.body;

          // Refusals first: they must change nothing, whatever the path names.
          for (const [who, token] of refused) {
            for (const target of scoped ? [own, other] : [own]) {
              const path = await entry.path(target);
              const r = await call(method, path, token, body);
              assert.equal(r.status, 401, `${who}: ${method} ${path} → ${r.status} ${r.text}`);
              assert.equal(r.json?.error?.code, 'HERALD_ERR_UNAUTHORIZED', r.text);
            }
          }
          // HEAD follows GET: refused without a token.
          if (method === 'GET') {
            const r = await call('HEAD', await entry.path(own), null);
            assert.equal(r.status, 401, `HEAD ${url} without a token`);
          }

          // The portal token first: a key's successful call may end it (revoking the project's links).
          const callers: [CallerKind, string][] = [
            ['portal', `Bearer ${mine.portal}`],
            ['send', `Bearer ${mine.send}`],
            ['read', `Bearer ${mine.read}`],
            ['key', `Bearer ${mine.key}`],
          ];
          // Another project's resources: 404 (403 on operator routes), before the body is looked at.
          if (scoped) {
            for (const [kind, token] of callers) {
              const path = await entry.path(other);
              const want = expectedStatus(entry, method, scoped, kind, false);
              const r = await call(method, path, token, body);
              assert.equal(
                r.status,
                want,
                `${kind} of another project: ${method} ${path} → ${r.status} ${r.text}`,
              );
              const malformed = await call(
                method,
                path,
                token,
                body === undefined ? undefined : { junk: [1] },
              );
              assert.equal(malformed.status, want, `${kind} of another project, bad body: ${malformed.text}`);
            }
          }
          // Its own project's path naming another project's endpoint, event, delivery, attempt or key:
          // not found to every caller that may use the route (the admin too), refused as above to others.
          if (/:(?!project\b)[A-Za-z]+/.test(url.replace('/event-types/:name', ''))) {
            const mixed: Target = { ...other, project: own.project };
            const path = await entry.path(mixed);
            for (const [kind, token] of [...callers, ['admin', `Bearer ${ADMIN}`] as [CallerKind, string]]) {
              const allowed = expectedStatus(entry, method, scoped, kind, true);
              const r = await call(method, path, token, body);
              assert.equal(
                r.status,
                allowed < 400 ? 404 : allowed,
                `${kind}, another project's resource under its own project: ${method} ${path} → ${r.text}`,
              );
            }
          }
          // No route answers OPTIONS: with a token it is not found (nothing of the route runs), without 401.
          {
            const path = await entry.path(own);
            assert.equal((await call('OPTIONS', path, null)).status, 401, `OPTIONS ${path} without a token`);
            for (const [kind, token] of callers) {
              const r = await call('OPTIONS', path, token);
              assert.equal(r.status, 404, `${kind}: OPTIONS ${path} → ${r.text}`);
            }
          }

          // Own project: allowed, or 403 where this kind of caller may not go. The admin goes last, so
          // that routes which delete the project leave it for the others first.
          for (const [kind, token] of [...callers, ['admin', `Bearer ${ADMIN}`] as [CallerKind, string]]) {
            const path = await entry.path(own);
            const want = expectedStatus(entry, method, scoped, kind, true);
            const r = await call(method, path, token, body);
            assert.equal(r.status, want, `${kind}: ${method} ${path} → ${r.status} ${r.text}`);
            if (want >= 400) assert.equal(r.json?.error?.code, 'HERALD_ERR_FORBIDDEN', r.text);
            // A key refused for its scope is told which it has and which would do.
            if (want === 403 && (kind === 'send' || kind === 'read') && entry.access !== 'operator') {
              assert.deepEqual(
                r.json.error.details,
                { scope: kind, scopes: keyScopes(entry, method) },
                `${kind}: ${method} ${path}`,
              );
              assert.match(r.json.error.message, new RegExp(`scope is ${kind}, which allows only `));
            }
            // Refused callers are refused before the body is looked at: its errors say nothing to them.
            if (want === 403 && body !== undefined) {
              const malformed = await call(method, path, token, { junk: [1] });
              assert.equal(malformed.status, 403, `${kind}, bad body: ${method} ${path} → ${malformed.text}`);
            }
            if (method === 'GET') {
              const head = await call('HEAD', await entry.path(own), token);
              assert.equal(head.status, want, `${kind}: HEAD ${path}`);
            }
          }
        });
      }

      test("a deleted project's keys and portal links are refused everywhere, installation-wide routes included", async () => {
        const project = await admin('POST', '/api/v1/projects', { name: 'short-lived' });
        const creds = await credentialsFor(project.id as string);
        for (const token of [creds.key, creds.portal]) {
          assert.equal((await call('GET', '/api/v1/event-types', `Bearer ${token}`)).status, 200);
        }
        await admin('DELETE', `/api/v1/projects/${project.id}`);
        for (const token of [creds.key, creds.portal]) {
          const r = await call('GET', '/api/v1/event-types', `Bearer ${token}`);
          assert.equal(r.status, 401, r.text);
        }
      });

      test('unknown /api/ paths answer 401 to strangers and 404 to callers', async () => {
        assert.equal((await call('GET', '/api/v1/nothing-here', null)).status, 401);
        assert.equal((await call('GET', '/api/v1/nothing-here', `Bearer ${ADMIN}`)).status, 404);
      });

      test('a request-target spelled differently still needs a token', async () => {
        // Percent-encoded paths reach the same routes: auth follows the route matched, not the spelling.
        for (const url of ['/%61pi/v1/event-types', '/api/v1/%65vent-types', '/%61pi/v1/projects']) {
          const r = await call('GET', url, null);
          assert.equal(r.status, 401, `${url} → ${r.status} ${r.text}`);
        }
        // So do absolute-form request-targets (`GET http://host/api/… HTTP/1.1`), which only a real
        // socket can send: every GET route of the table, without a token.
        await api.app.listen({ port: 0, host: '127.0.0.1' });
        const { port } = api.app.server.address() as AddressInfo;
        const target = await newTarget('absolute');
        for (const [route, entry] of Object.entries(TABLE)) {
          if (!route.startsWith('GET ')) continue;
          const path = await entry.path(target);
          for (const form of [`http://127.0.0.1:${port}${path}`, `http://elsewhere.example${path}`]) {
            const response = await rawRequest(
              port,
              `GET ${form} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
            );
            assert.match(
              response,
              /^HTTP\/1\.1 401 /,
              `GET ${form} without a token → ${response.slice(0, 200)}`,
            );
          }
        }
      });
    }),
  { sqlite: 'memory' }, // no fsync per write: ~2 s rather than ~6 s on a file
);
