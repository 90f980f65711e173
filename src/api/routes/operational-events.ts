import type { FastifyInstance } from 'fastify';
import { ID_PREFIX } from '../../domain/ids.ts';
import { projectFor } from '../auth.ts';
import { pageOf } from '../parse.ts';
import { idParams, type PageQuerystring, pageQuerystring } from '../schemas.ts';
import { operationalEventJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

/** GET …/operational-events: what Herald reported about a project's endpoints. */
export function operationalEventRoutes(app: FastifyInstance, { store }: RouteContext) {
  app.get<{ Params: { project: string }; Querystring: PageQuerystring }>(
    '/api/v1/projects/:project/operational-events',
    {
      schema: {
        tags: ['operational-events'],
        summary: 'endpoint.disabled, endpoint.recovered, delivery.exhausted: newest first',
        params: idParams('project'),
        querystring: pageQuerystring,
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const page = await store.listOperationalEvents(
        project.id,
        pageOf(request.query, ID_PREFIX.operationalEvent),
      );
      return { data: page.data.map(operationalEventJson), nextCursor: page.nextCursor };
    },
  );
}
