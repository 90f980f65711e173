import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * GET /openapi.json (generated from the route schemas) and GET /docs (Swagger UI from the package's
 * own bundled assets: no CDN). Must be registered before the routes it describes.
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
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
  app.register(async (scope) => {
    scope.get(
      '/openapi.json',
      { schema: { hide: true } },
      async () => app.swagger() as unknown as Record<string, unknown>,
    );
  });
}
