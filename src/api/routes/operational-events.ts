import type { FastifyInstance } from 'fastify';
import { ID_PREFIX } from '../../domain/ids.ts';
import type { OperationalEventType } from '../../domain/types.ts';
import { OPERATIONAL_EVENT_TYPES } from '../../operator/operator-project.ts';
import { projectFor } from '../auth.ts';
import { pageOf } from '../parse.ts';
import { idParams, idQuery, type PageQuerystring, pageQuery } from '../schemas.ts';
import { operationalEventJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

/**
 * `?limit&cursor`, `?type`: one of the three kinds (a misspelt one is refused, listing them), and
 * `?endpoint`: an endpoint's id (one Herald never reported on, deleted or not, lists none).
 */
const querystring = {
  type: 'object',
  properties: {
    ...pageQuery,
    type: { type: 'string', enum: OPERATIONAL_EVENT_TYPES },
    endpoint: {
      ...idQuery,
      description:
        "An endpoint's id (ep_…): only the events Herald reported about it (none for an id it never reported on)",
    },
  },
} as const;

/** GET …/operational-events: what Herald reported about a project's endpoints. */
export function operationalEventRoutes(app: FastifyInstance, { store }: RouteContext) {
  app.get<{
    Params: { project: string };
    Querystring: PageQuerystring & { type?: OperationalEventType; endpoint?: string };
  }>(
    '/api/v1/projects/:project/operational-events',
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['operational-events'],
        summary:
          'endpoint.disabled, endpoint.recovered, delivery.exhausted: newest first (?type: one of them; ?endpoint: one endpoint’s)',
        params: idParams('project'),
        querystring,
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const page = await store.listOperationalEvents(project.id, {
        ...pageOf(request.query, ID_PREFIX.operationalEvent),
        ...(request.query.type ? { type: request.query.type } : {}),
        ...(request.query.endpoint ? { endpointId: request.query.endpoint } : {}),
      });
      return { data: page.data.map(operationalEventJson), nextCursor: page.nextCursor };
    },
  );
}
