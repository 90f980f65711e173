import type { FastifyInstance } from 'fastify';
import { generateSecret } from '../../domain/secret.ts';
import type { Endpoint, Envelope, HttpMethod, RateLimit, SignatureConfig } from '../../domain/types.ts';
import type { EndpointPatch } from '../../store/store.ts';
import { projectFor } from '../auth.ts';
import { notFound } from '../errors.ts';
import { checkImportedSecret, checkSignatureConfig, pageOf, parseHttpUrl } from '../parse.ts';
import { endpointBody, idParams, pageQuery } from '../schemas.ts';
import { endpointJson, secretsJson } from '../serialize.ts';
import type { RouteContext } from './context.ts';

export interface EndpointInput {
  url?: string;
  name?: string;
  description?: string;
  eventTypes?: string[];
  method?: HttpMethod;
  headers?: Record<string, string>;
  active?: boolean;
  dev?: boolean;
  timeoutMs?: number;
  envelope?: Envelope;
  signature?: SignatureConfig;
  secret?: string;
  rateLimit?: RateLimit | null;
  retrySchedule?: number[] | null;
}

const EP = '/api/v1/projects/:project/endpoints';
const params = idParams('project', 'endpoint');

/** Loads an endpoint of a project the caller may see, or 404. */
export async function endpointFor(
  ctx: RouteContext,
  request: Parameters<typeof projectFor>[1],
  p: { project: string; endpoint: string },
  portal = true,
) {
  const project = await projectFor(ctx.store, request, p.project, { portal });
  const endpoint = await ctx.store.getEndpoint(project.id, p.endpoint);
  if (!endpoint) throw notFound('endpoint');
  return { project, endpoint };
}

export function endpointRoutes(app: FastifyInstance, ctx: RouteContext) {
  const { store, config } = ctx;

  app.post<{ Params: { project: string }; Body: EndpointInput }>(
    EP,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Register an endpoint (the response includes its secret)',
        params: idParams('project'),
        body: { ...endpointBody(config), required: ['url'] },
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      const b = request.body;
      const signature = b.signature ?? { scheme: 'standard' };
      checkSignatureConfig(signature, b.method ?? 'POST');
      if (b.secret !== undefined) checkImportedSecret(signature.scheme, b.secret);
      const secret = b.secret ?? generateSecret();
      const endpoint = await store.createEndpoint(
        {
          projectId: project.id,
          url: parseHttpUrl('body.url', b.url!),
          name: b.name ?? '',
          description: b.description ?? '',
          eventTypes: b.eventTypes ?? [],
          method: b.method ?? 'POST',
          headers: b.headers ?? {},
          active: b.active ?? true,
          dev: b.dev ?? false,
          timeoutMs: b.timeoutMs ?? config.delivery.defaultTimeoutMs,
          envelope: b.envelope ?? 'standard',
          signature,
          rateLimit: b.rateLimit ?? null,
          retrySchedule: b.retrySchedule ?? null,
        },
        secret,
        Date.now(),
      );
      return reply.code(201).send({ ...endpointJson(endpoint), secret });
    },
  );

  app.get<{ Params: { project: string }; Querystring: { limit?: string; cursor?: string } }>(
    EP,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'List endpoints',
        params: idParams('project'),
        querystring: { type: 'object', properties: pageQuery },
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const page = await store.listEndpoints(project.id, pageOf(request.query));
      return { data: page.data.map(endpointJson), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { project: string; endpoint: string } }>(
    `${EP}/:endpoint`,
    { schema: { tags: ['endpoints'], summary: 'Get an endpoint', params } },
    async (request) => endpointJson((await endpointFor(ctx, request, request.params)).endpoint),
  );

  app.patch<{ Params: { project: string; endpoint: string }; Body: EndpointInput }>(
    `${EP}/:endpoint`,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Change endpoint settings',
        params,
        body: endpointBody(config),
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const { secret: _ignored, url, ...rest } = request.body;
      checkSignatureConfig(rest.signature ?? endpoint.signature, rest.method ?? endpoint.method);
      const patch: EndpointPatch = { ...rest };
      if (url !== undefined) patch.url = parseHttpUrl('body.url', url);
      const updated = await store.updateEndpoint(project.id, endpoint.id, patch, Date.now());
      return endpointJson(updated as Endpoint);
    },
  );

  app.delete<{ Params: { project: string; endpoint: string } }>(
    `${EP}/:endpoint`,
    { schema: { tags: ['endpoints'], summary: 'Delete an endpoint (its history is kept)', params } },
    async (request, reply) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      await store.deleteEndpoint(project.id, endpoint.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { project: string; endpoint: string } }>(
    `${EP}/:endpoint/secret`,
    { schema: { tags: ['endpoints'], summary: 'Reveal the signing secret(s) valid now', params } },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      return secretsJson(await store.getEndpointSecrets(project.id, endpoint.id, Date.now()));
    },
  );

  app.post<{
    Params: { project: string; endpoint: string };
    Body: { graceSeconds?: number; secret?: string } | undefined;
  }>(
    `${EP}/:endpoint/secret/rotate`,
    {
      schema: {
        tags: ['endpoints'],
        summary: 'Rotate the secret; the old one keeps signing for graceSeconds (default 24 h)',
        params,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            graceSeconds: { type: 'integer', minimum: 0, maximum: 7 * 24 * 3600 },
            secret: { type: 'string', minLength: 8, maxLength: 512 },
          },
        },
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const body = request.body ?? {};
      if (body.secret !== undefined) checkImportedSecret(endpoint.signature.scheme, body.secret);
      const secret = body.secret ?? generateSecret();
      const graceMs = (body.graceSeconds ?? 86_400) * 1000;
      const secrets = await store.rotateEndpointSecret(project.id, endpoint.id, secret, graceMs, Date.now());
      return secretsJson(secrets ?? []);
    },
  );

  app.post<{ Params: { project: string; endpoint: string } }>(
    `${EP}/:endpoint/enable`,
    {
      schema: { tags: ['endpoints'], summary: 'Re-enable an endpoint; its parked deliveries resume', params },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const result = await store.enableEndpoint(project.id, endpoint.id, Date.now());
      return { ...endpointJson(result!.endpoint), resumed: result!.resumed };
    },
  );
}
