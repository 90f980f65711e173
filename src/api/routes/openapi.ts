import { createHash } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { describeResponses } from '../openapi/describe-responses.ts';
import { markKeyScopes } from '../openapi/key-scopes.ts';
import { markOptionalBody } from '../openapi/optional-bodies.ts';

/**
 * The one inline `<style>` Swagger UI renders: in the SVG of its top bar's logo (from
 * swagger-ui-standalone-preset.js). Allowed by its hash rather than by 'unsafe-inline'.
 */
export const DOCS_INLINE_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';

/**
 * Content-Security-Policy of /docs: what Swagger UI needs (its bundled scripts and styles, the
 * spec at /docs/json, "Try it out" requests to this origin, data: images in its CSS, its logo's
 * style) and nothing
 * else. No `upgrade-insecure-requests` (the plugin's default has it): over plain http on a LAN
 * address it would send the assets' requests to https and the page would stay blank.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'self' 'sha256-${createHash('sha256').update(DOCS_INLINE_STYLE).digest('base64')}'`,
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The other headers of every /docs response: never framed (older browsers), no sniffing, no referrer. */
const DOCS_HEADERS = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * GET /openapi.json (generated from the route schemas; responses from src/api/openapi/) and GET /docs (Swagger UI from the package's
 * own bundled assets: no CDN), with DOCS_CSP and DOCS_HEADERS on every /docs response. Must be
 * registered before the routes it describes.
 */
export function openApiRoutes(app: FastifyInstance): void {
  app.register(swagger, {
    openapi: {
      info: {
        title: 'Herald API',
        version: '1',
        description: 'Self-hosted webhook platform: events in, signed deliveries out.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // The responses are added to the document only, not to the routes (describe-responses.ts).
    transformObject: describeResponses,
    transform: (route) => markOptionalBody({ ...route, ...markKeyScopes(route) }),
  });
  // In a scope of its own: the headers hook runs for /docs and its assets only, not on the API.
  app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      for (const [name, value] of Object.entries(DOCS_HEADERS)) reply.header(name, value);
      return payload;
    });
    await scope.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  });
  app.register(async (scope) => {
    scope.get(
      '/openapi.json',
      { schema: { hide: true } },
      async () => app.swagger() as unknown as Record<string, unknown>,
    );
  });
}
