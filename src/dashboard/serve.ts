/**
 * Serves the built dashboard (dist/dashboard, from `npm run build:ui`) under /ui: hashed assets with a
 * long cache, every other path answered with index.html (the app routes in the browser), a strict
 * Content-Security-Policy whose `frame-ancestors` says who may embed the customer portal (the
 * operator's pages: Herald itself at most), and a plain
 * explanation instead of a bare 404 when the build is missing. Text files go out brotli- or
 * gzip-compressed to browsers that accept it, from the `.br`/`.gz` copies the build writes beside them
 * (precompress.ts): Content-Encoding, Vary: Accept-Encoding and an ETag per encoding; a build without
 * them is served as it is.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
// Brings @fastify/swagger's `hide` schema field into Fastify's types; erased at run time.
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply } from 'fastify';

export interface DashboardOptions {
  /** Absolute path of the built dashboard (contains index.html). */
  distDir: string;
  /**
   * CSP `frame-ancestors` sources: who may show the customer portal (/ui/portal) in an iframe
   * ("'self'", "https://app.example.com"). The operator's pages allow `'self'` of these at most.
   * Default: only Herald's own origin.
   */
  frameAncestors?: string[];
}

/** Prefix the dashboard is served under (Vite `base`). */
export const DASHBOARD_PREFIX = '/ui';

/** Hashed file names never change content: cache them for a year. index.html must always be revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** One CSP source expression: a keyword in quotes, a scheme, or a host source; never a separator. */
const SOURCE =
  /^(?:'(?:self|none)'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*\.)?[a-z0-9.-]+(?::(?:\d+|\*))?(?:\/[^\s;,]*)?|\*)$/i;

/** The CSP header value; throws on a source that is not a valid CSP source (it would corrupt the header). */
export function contentSecurityPolicy(frameAncestors: string[] = ["'self'"]): string {
  const ancestors = frameAncestors.length > 0 ? frameAncestors : ["'none'"];
  for (const source of ancestors) {
    if (!SOURCE.test(source)) throw new Error(`invalid frame-ancestors source: ${JSON.stringify(source)}`);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors.join(' ')}`,
  ].join('; ');
}

/**
 * The customer portal's pages, told apart as the app tells them (app.tsx: /ui/portal and below), on
 * the path as the browser sent it: `/ui/%70ortal` reaches the same route, but the app shows the
 * operator's sign-in there, so it is not the portal.
 */
const PORTAL_PAGE = /^\/ui\/portal(?:\/|$)/;

/**
 * Who may frame the operator's pages (everything under /ui but the portal): Herald itself when
 * `frameAncestors` allows it, nobody otherwise. The origins listed to embed the portal are the
 * platforms' apps, which must not frame the console that takes the admin token (clickjacking).
 */
export function operatorFrameAncestors(frameAncestors: string[] = ["'self'"]): string[] {
  return frameAncestors.includes("'self'") ? ["'self'"] : ["'none'"];
}

/**
 * X-Frame-Options for browsers without CSP `frame-ancestors`, when it can say the same thing: DENY
 * for no ancestors, SAMEORIGIN for `'self'` alone; none for a list of other origins (it cannot name them).
 */
export function xFrameOptions(frameAncestors: string[] = ["'self'"]): 'DENY' | 'SAMEORIGIN' | null {
  if (frameAncestors.length === 0 || (frameAncestors.length === 1 && frameAncestors[0] === "'none'"))
    return 'DENY';
  if (frameAncestors.length === 1 && frameAncestors[0] === "'self'") return 'SAMEORIGIN';
  return null;
}

const MISSING_BUILD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The dashboard is not built</h1>
<p>Herald is running and its API works, but the web dashboard has not been built in this checkout.</p>
<p>Build it with <code>npm run build:ui</code> (or <code>npx vite build --config src/dashboard/vite.config.ts</code>),
then reload this page. No restart is needed.</p>
</body></html>
`;

/** Fastify plugin: register with `app.register(dashboardPlugin, { distDir, frameAncestors })`. */
export async function dashboardPlugin(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  if (!isAbsolute(options.distDir)) throw new Error('dashboardPlugin: distDir must be an absolute path');
  const root = resolve(options.distDir);
  const framing = (ancestors: string[] | undefined) => ({
    csp: contentSecurityPolicy(ancestors),
    frameOptions: xFrameOptions(ancestors),
  });
  const portal = framing(options.frameAncestors);
  const operator = framing(operatorFrameAncestors(options.frameAncestors));

  // Only the reply.sendFile decorator: our own route decides what each path means. preCompressed:
  // `<file>.br` or `<file>.gz` when the request's Accept-Encoding takes it, and Vary on every answer.
  await app.register(fastifyStatic, { root, serve: false, preCompressed: true });

  // Every answer of this plugin's routes, whatever the URL's spelling (`/ui?x`, `/%75i`, `/u%69/…`
  // reach the same routes): the plugin is its own encapsulated scope, so the hook runs for the /ui
  // routes only, decided by the route that matched and never by the raw URL. Which framing: the
  // portal's only on the portal's own spelling, the operator's (never looser) on any other.
  app.addHook('onSend', async (request, reply, payload) => {
    const { csp, frameOptions } = PORTAL_PAGE.test(request.url.split('?', 1)[0]!) ? portal : operator;
    reply.header('content-security-policy', csp);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (frameOptions) reply.header('x-frame-options', frameOptions);
    return payload;
  });

  const serve = async (relative: string, reply: FastifyReply) => {
    if (!(await isFile(join(root, 'index.html')))) {
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(MISSING_BUILD);
    }
    const file = safeRelative(relative);
    if (file !== null && file !== '' && (await isFile(join(root, file)))) {
      reply.header('cache-control', file.startsWith('assets/') ? IMMUTABLE : REVALIDATE);
      return reply.sendFile(file, root, { cacheControl: false });
    }
    // A missing asset must not get index.html (the browser would run HTML as a script): a real 404.
    if (file === null || file.startsWith('assets/') || /\.[a-z0-9]+$/i.test(file))
      return reply.callNotFound();
    reply.header('cache-control', REVALIDATE);
    return reply.sendFile('index.html', root, { cacheControl: false });
  };

  // Not part of the API: keep these routes out of /openapi.json.
  const hidden = { schema: { hide: true } };
  app.get(DASHBOARD_PREFIX, hidden, (_request, reply) => serve('', reply));
  app.get<{ Params: { '*': string } }>(`${DASHBOARD_PREFIX}/*`, hidden, (request, reply) =>
    serve(request.params['*'] ?? '', reply),
  );
}

/** A path inside the build directory, or null for anything that tries to leave it or reach dotfiles. */
function safeRelative(relative: string): string | null {
  if (relative.includes('\0') || relative.includes('\\')) return null;
  const parts = relative.split('/').filter((part) => part !== '');
  if (parts.some((part) => part === '..' || part.startsWith('.'))) return null;
  return parts.join('/');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
