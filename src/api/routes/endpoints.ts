import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ID_PREFIX } from '../../domain/ids.ts';
import { DEFAULT_ROTATION_GRACE_SECONDS, generateSecret } from '../../domain/secret.ts';
import { admitLever } from '../accept-events.ts';
import { projectFor } from '../auth.ts';
import {
  checkFilterInCatalog,
  checkSecret,
  type EndpointInput,
  endpointPatchCheck,
  namesNotInCatalog,
  toEndpointPatch,
  toNewEndpoint,
} from '../endpoint-input.ts';
import { ConflictError, endpointDisabled, NotFoundError, unprocessable, ValidationError } from '../errors.ts';
import { pageOf } from '../parse.ts';
import { parseTime } from '../parse-time.ts';
import {
  endpointBody,
  idParams,
  type PageQuerystring,
  pageQuerystring,
  recoverBody,
  rotateSecretBody,
  testSendBody,
} from '../schemas.ts';
import { endpointJson, endpointSecretsJson, iso } from '../serialize.ts';
import { pickTestExample } from '../test-send.ts';
import type { RouteContext } from './context.ts';

const EP = '/api/v1/projects/:project/endpoints';

/** PATCH refuses `secret`: a secret changes by a rotation, which keeps the old one valid for a grace. */
export const SECRET_NOT_PATCHED = `cannot be changed by PATCH: rotate it with POST ${EP}/:endpoint/secret/rotate (give {"secret": "…"} to import your own; the old one stays valid for graceSeconds)`;
const params = idParams('project', 'endpoint');
type EndpointParams = { project: string; endpoint: string };

/** Loads an endpoint of a project the caller may see, or 404. */
export async function endpointFor(ctx: RouteContext, request: FastifyRequest, p: EndpointParams) {
  const project = await projectFor(ctx.store, request, p.project);
  const endpoint = await ctx.store.getEndpoint(project.id, p.endpoint);
  if (!endpoint) throw new NotFoundError('endpoint');
  return { project, endpoint };
}

type TimeRangeBody = { since: string | number; until?: string | number };

/**
 * The endpoint and the time range of a lever over its history (recover, replay); 409 when it is
 * disabled: what the lever would make pending would be parked again at once. Said as a retry says
 * it, whether it was disabled by hand (`active: false`) or by its failures.
 */
async function leverOverRange(
  ctx: RouteContext,
  request: FastifyRequest<{ Params: EndpointParams; Body: TimeRangeBody }>,
) {
  const { project, endpoint } = await endpointFor(ctx, request, request.params);
  if (endpoint.status === 'disabled') throw endpointDisabled(endpoint);
  const now = Date.now();
  const since = parseTime('body.since', request.body.since) ?? 0;
  const until = parseTime('body.until', request.body.until) ?? now;
  if (since > until) throw unprocessable('body.since', 'must not be after until');
  return { project, endpoint, since, until, now };
}

/** Endpoint settings, secrets, and the manual levers on one endpoint (enable, recover, replay, test). */
export function endpointRoutes(app: FastifyInstance, ctx: RouteContext) {
  const { store, config } = ctx;
  const body = endpointBody(config);
  const { secret: _noSecretInPatch, ...patchProperties } = body.properties;

  app.post<{ Params: { project: string }; Body: EndpointInput & { url: string } }>(
    EP,
    {
      config: { access: 'write', portal: true },
      schema: {
        tags: ['endpoints'],
        summary: 'Register an endpoint (the response includes its secret)',
        params: idParams('project'),
        body: { ...body, required: ['url'] },
      },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      const { endpoint, secret } = toNewEndpoint(project.id, request.body, config);
      checkFilterInCatalog(endpoint.eventTypes, await namesNotInCatalog(store, project, endpoint.eventTypes));
      const created = await store.createEndpoint(endpoint, secret, Date.now());
      return reply.code(201).send({ ...endpointJson(created), secret });
    },
  );

  app.get<{ Params: { project: string }; Querystring: PageQuerystring }>(
    EP,
    {
      config: { access: 'read', portal: true },
      schema: {
        tags: ['endpoints'],
        summary: 'List endpoints',
        params: idParams('project'),
        querystring: pageQuerystring,
      },
    },
    async (request) => {
      const project = await projectFor(store, request, request.params.project);
      const page = await store.listEndpoints(project.id, pageOf(request.query, ID_PREFIX.endpoint));
      return { data: page.data.map(endpointJson), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: EndpointParams }>(
    `${EP}/:endpoint`,
    {
      config: { access: 'read', portal: true },
      schema: { tags: ['endpoints'], summary: 'Get an endpoint', params },
    },
    async (request) => endpointJson((await endpointFor(ctx, request, request.params)).endpoint),
  );

  app.patch<{ Params: EndpointParams; Body: Omit<EndpointInput, 'secret'> | null }>(
    `${EP}/:endpoint`,
    {
      config: { access: 'write', portal: true },
      schema: {
        tags: ['endpoints'],
        summary:
          'Change endpoint settings (only the fields given; `active: false` disables, `active: true` re-enables and answers `resumed`)',
        params,
        // Every field optional: no body (or null) is `{}`, as on every route whose body has no
        // required field (docs/api.md "Limits", Body).
        body: { ...body, type: ['object', 'null'], properties: patchProperties },
      },
      // Before the schema, whose word would be `body.secret: is not a known field`: say where it goes.
      preValidation: async (request) => {
        const sent = request.body;
        if (typeof sent === 'object' && sent !== null && Object.hasOwn(sent, 'secret')) {
          throw new ValidationError('body.secret', SECRET_NOT_PATCHED);
        }
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      // Checked on the endpoint as read, then again in the write on the endpoint as it is then and
      // its current secret (the scheme against it, the filter entries it still has): a rotation or
      // another PATCH may come between.
      const input = request.body ?? {};
      const patch = toEndpointPatch(input, endpoint, null, config);
      const missing = await namesNotInCatalog(store, project, patch.eventTypes);
      checkFilterInCatalog(patch.eventTypes, missing, endpoint.eventTypes);
      const check = endpointPatchCheck(input, config, missing);
      const now = Date.now();
      if (patch.active === true && endpoint.status === 'disabled') {
        // Re-enabling answers what POST …/enable answers, `resumed` included. The other settings
        // go first, so that the resumed deliveries go out with them (a new url, say).
        const { active: _enable, ...settings } = patch;
        if (Object.keys(settings).length > 0) {
          if (!(await store.updateEndpoint(project.id, endpoint.id, settings, now, check))) {
            throw new NotFoundError('endpoint');
          }
        }
        const enabled = await store.enableEndpoint(project.id, endpoint.id, now);
        if (!enabled) throw new NotFoundError('endpoint');
        ctx.wake();
        return { ...endpointJson(enabled.endpoint), resumed: enabled.resumed };
      }
      const updated = await store.updateEndpoint(project.id, endpoint.id, patch, now, check);
      if (!updated) throw new NotFoundError('endpoint');
      if (patch.active === true) ctx.wake();
      return endpointJson(updated);
    },
  );

  app.delete<{ Params: EndpointParams }>(
    `${EP}/:endpoint`,
    {
      config: { access: 'write', portal: true },
      schema: { tags: ['endpoints'], summary: 'Delete an endpoint (its history is kept)', params },
    },
    async (request, reply) => {
      const project = await projectFor(store, request, request.params.project);
      // The store says whether there was one: no read of the endpoint first (a round trip).
      if (!(await store.deleteEndpoint(project.id, request.params.endpoint, Date.now()))) {
        throw new NotFoundError('endpoint');
      }
      return reply.code(204).send();
    },
  );

  app.get<{ Params: EndpointParams }>(
    `${EP}/:endpoint/secret`,
    {
      config: { access: 'write', portal: true },
      schema: {
        tags: ['endpoints'],
        summary: 'The endpoint with its signing secret, and every secret still valid (rotation grace)',
        params,
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const secrets = await store.getEndpointSecrets(project.id, endpoint.id, Date.now());
      // An endpoint always has a current secret: none means it was deleted since it was found
      // (its secrets go with it), and the answer is the one a moment later, not `secret: null`.
      if (secrets.length === 0) throw new NotFoundError('endpoint');
      return endpointSecretsJson(endpoint, secrets);
    },
  );

  app.post<{ Params: EndpointParams; Body: { graceSeconds?: number; secret?: string } | undefined }>(
    `${EP}/:endpoint/secret/rotate`,
    {
      config: { access: 'write', portal: true },
      schema: {
        tags: ['endpoints'],
        summary: 'Rotate the secret (or import one); the old one stays valid for graceSeconds (default 24 h)',
        params,
        body: rotateSecretBody,
      },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const { secret: imported, graceSeconds = DEFAULT_ROTATION_GRACE_SECONDS } = request.body ?? {};
      const secret = imported ?? generateSecret();
      // An imported secret is checked in the rotation's write, against the scheme as it is then: a
      // PATCH of the scheme may come between this request's read and its write.
      const rotated = await store.rotateEndpointSecret(
        project.id,
        endpoint.id,
        secret,
        graceSeconds * 1000,
        Date.now(),
        imported === undefined
          ? undefined
          : (current) => checkSecret(current.signature.scheme, imported, 'body.secret'),
      );
      if (!rotated) throw new NotFoundError('endpoint');
      // The current secret already (with or without a standard key's `whsec_` prefix): it would be
      // valid twice, and the rotation would retire nothing but itself. Checked by the store in the
      // rotation's transaction, so two concurrent rotations to one secret cannot both pass.
      if (rotated === 'same-as-current') {
        throw new ConflictError('body.secret: is already the current secret', {
          details: { field: 'body.secret' },
        });
      }
      // The endpoint as the rotation's transaction read it: read before (endpointFor), a PATCH
      // landing in between was missing from the answer.
      return endpointSecretsJson(rotated.endpoint, rotated.secrets);
    },
  );

  app.post<{ Params: EndpointParams }>(
    `${EP}/:endpoint/enable`,
    {
      config: { access: 'write', portal: true },
      schema: { tags: ['endpoints'], summary: 'Re-enable an endpoint; its parked deliveries resume', params },
    },
    async (request) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      const result = await store.enableEndpoint(project.id, endpoint.id, Date.now());
      if (!result) throw new NotFoundError('endpoint');
      ctx.wake();
      return { ...endpointJson(result.endpoint), resumed: result.resumed };
    },
  );

  app.post<{ Params: EndpointParams; Body: TimeRangeBody }>(
    `${EP}/:endpoint/recover`,
    {
      config: { access: 'write', portal: true },
      schema: {
        tags: ['endpoints'],
        summary:
          'Retry every failed delivery of the endpoint created in [since, until]; 409 when it is disabled',
        params,
        body: recoverBody,
      },
    },
    async (request, reply) => {
      const { project, endpoint, since, until, now } = await leverOverRange(ctx, request);
      const result = await store.recoverDeliveries(project.id, endpoint.id, since, until, now);
      // None recovered: perhaps deleted or disabled since it was read (the batches recover nothing
      // of an endpoint gone or disabled, store.ts), which answered 202 where a moment later is 404,
      // or 409 (until 2026-12-06 the batches made them pending on the disabled endpoint).
      if (result.recovered === 0) {
        const current = await store.getEndpoint(project.id, endpoint.id);
        if (!current) throw new NotFoundError('endpoint');
        if (current.status === 'disabled') throw endpointDisabled(current);
      }
      if (result.recovered > 0) ctx.wake();
      return reply.code(202).send({ recovered: result.recovered, nextSince: iso(result.nextSince) });
    },
  );

  app.post<{ Params: EndpointParams; Body: TimeRangeBody }>(
    `${EP}/:endpoint/replay`,
    {
      config: { access: 'write', portal: true },
      schema: {
        tags: ['endpoints'],
        summary:
          'Send the endpoint the events of [since, until] it has no delivery for (created before it, or before its filter took their type); 409 when it is disabled',
        params,
        body: recoverBody,
      },
    },
    async (request, reply) => {
      const { project, endpoint, since, until, now } = await leverOverRange(ctx, request);
      await admitLever(ctx.backlog, project);
      const result = await store.replayMissing(project.id, endpoint.id, {
        since,
        until,
        now,
        maxDeliveries: config.maxDeliveriesPerRequest,
      });
      if (!result) throw new NotFoundError('endpoint');
      // None replayed: perhaps disabled since it was read (the batches replay nothing to an endpoint
      // no longer active, replay-batch.ts), which answered 202 with 0 and a nextSince that only
      // repeated the request; 409, as a recover says it (until 2026-12-06 a 202).
      if (result.replayed === 0) {
        const current = await store.getEndpoint(project.id, endpoint.id);
        if (!current) throw new NotFoundError('endpoint');
        if (current.status === 'disabled') throw endpointDisabled(current);
      }
      ctx.backlog?.added(project.id, result.replayed);
      if (result.replayed > 0) ctx.wake();
      return reply.code(202).send({ replayed: result.replayed, nextSince: iso(result.nextSince) });
    },
  );

  app.post<{ Params: EndpointParams; Body: { eventType?: string } | undefined }>(
    `${EP}/:endpoint/test`,
    {
      config: { access: 'write', portal: true },
      schema: {
        tags: ['endpoints'],
        summary: 'Send the catalog example of an event type to this endpoint only',
        params,
        body: testSendBody,
      },
    },
    async (request, reply) => {
      const { project, endpoint } = await endpointFor(ctx, request, request.params);
      // A disabled endpoint's new deliveries are parked at once: say so, as a retry does.
      if (endpoint.status === 'disabled') throw endpointDisabled(endpoint);
      const { type, payload } = await pickTestExample(store, endpoint, request.body?.eventType);
      await admitLever(ctx.backlog, project);
      const [accepted] = await store.acceptEvents(
        project.id,
        [{ type, payload, test: true, idempotencyKey: null, callbackUrl: null, onlyEndpointId: endpoint.id }],
        Date.now(),
      );
      const [delivery] = accepted!.deliveries;
      // The endpoint was deleted since it was found, before the accept fanned out: the test event
      // was stored without a delivery, and nothing was sent. Said as a moment later, not as a 202
      // with `deliveryId: null`.
      if (!delivery) throw new NotFoundError('endpoint');
      ctx.backlog?.added(project.id, accepted!.deliveries.length);
      ctx.wake();
      return reply.code(202).send({ eventId: accepted!.event.id, deliveryId: delivery.id, eventType: type });
    },
  );
}
