import type { FastifyInstance } from 'fastify';
import type { ApiKeyScope } from '../../domain/types.ts';
import { newApiKey, projectFor } from '../auth.ts';
import { NotFoundError } from '../errors.ts';
import { apiKeyBody, idParams } from '../schemas.ts';
import { apiKeyJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

export function apiKeyRoutes(app: FastifyInstance, { store }: RouteContext) {
  app.post<{ Params: { project: string }; Body: { name: string; scope?: ApiKeyScope } }>(
    '/api/v1/projects/:project/api-keys',
    {
      // The operator's alone: a project key that could mint keys would let a leaked key outlive
      // its deletion (security report, finding 2). Listing and deleting stay open to the project's keys.
      config: { access: 'operator', portal: false },
      schema: {
        tags: ['api-keys'],
        summary: 'Create a project API key (admin; the key is shown once)',
        params: idParams('project'),
        body: apiKeyBody,
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      const { key, keyHash, prefix } = newApiKey();
      const stored = await store.createApiKey(
        {
          projectId: project.id,
          name: request.body.name,
          scope: request.body.scope ?? 'full',
          keyHash,
          prefix,
        },
        Date.now(),
      );
      return reply.code(201).send({ ...apiKeyJson(stored), key });
    },
  );
  app.get<{ Params: { project: string } }>(
    '/api/v1/projects/:project/api-keys',
    {
      config: { access: 'read', portal: false },
      schema: { tags: ['api-keys'], summary: 'List API keys (no key material)', params: idParams('project') },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      return { data: (await store.listApiKeys(project.id)).map(apiKeyJson), nextCursor: null };
    },
  );
  app.delete<{ Params: { project: string; key: string } }>(
    '/api/v1/projects/:project/api-keys/:key',
    {
      config: { access: 'write', portal: false },
      schema: { tags: ['api-keys'], summary: 'Revoke an API key', params: idParams('project', 'key') },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      if (!(await store.deleteApiKey(project.id, request.params.key))) throw new NotFoundError('api key');
      return reply.code(204).send();
    },
  );
}
