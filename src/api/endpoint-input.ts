/** Endpoint request bodies → store input, with the checks JSON Schema cannot express. */
import type { EndpointInput as ClientEndpointInput } from '@herald/client';
import type { Config } from '../config/config-types.ts';
import { parseCidr } from '../domain/address-classifier.ts';
import { generateSecret, secretProblem } from '../domain/secret.ts';
import type { Endpoint, SignatureConfig } from '../domain/types.ts';
import type { EndpointPatch, NewEndpoint } from '../store/store.ts';
import { UnprocessableError } from './errors.ts';
import { checkSignatureConfig, parseDeliverableUrl } from './parse.ts';

/**
 * The body of POST and PATCH …/endpoints (PATCH has no `secret`: rotate instead): the wire type of
 * @herald/client, every field optional here (a PATCH sends any of them; the schema requires `url`
 * on create).
 */
export type EndpointInput = Partial<ClientEndpointInput>;

/** 422 naming `field` when the secret cannot sign with the scheme (e.g. a standard secret that is not whsec_ base64). */
export function checkSecret(scheme: SignatureConfig['scheme'], secret: string, field: string): void {
  const problem = secretProblem(scheme, secret);
  if (problem) throw new UnprocessableError(field, problem);
}

/** A create body → the endpoint to store and its first secret (imported, or generated `whsec_…`). */
export function toNewEndpoint(
  projectId: string,
  body: EndpointInput & { url: string },
  config: Config,
): { endpoint: NewEndpoint; secret: string } {
  const signature = body.signature ?? { scheme: 'standard' };
  const method = body.method ?? 'POST';
  const url = parseDeliverableUrl('body.url', body.url, config.delivery.allowNetworks.map(parseCidr));
  checkSignatureConfig(signature, method);
  if (body.secret !== undefined) checkSecret(signature.scheme, body.secret, 'body.secret');
  return {
    secret: body.secret ?? generateSecret(),
    endpoint: {
      projectId,
      url,
      name: body.name ?? '',
      description: body.description ?? '',
      eventTypes: body.eventTypes ?? [],
      method,
      headers: body.headers ?? {},
      active: body.active ?? true,
      dev: body.dev ?? false,
      timeoutMs: body.timeoutMs ?? config.delivery.defaultTimeoutMs,
      envelope: body.envelope ?? 'standard',
      signature,
      rateLimit: body.rateLimit ?? null,
      retrySchedule: body.retrySchedule ?? null,
    },
  };
}

/**
 * A PATCH body → a store patch. `currentSecret` is checked against a new scheme, so switching to
 * `standard` with an imported non-whsec secret is refused instead of failing at delivery time.
 */
export function toEndpointPatch(
  body: Omit<EndpointInput, 'secret'>,
  endpoint: Endpoint,
  currentSecret: string | null,
  config: Config,
): EndpointPatch {
  const { url, ...rest } = body;
  const patch: EndpointPatch = { ...rest };
  if (url !== undefined) {
    patch.url = parseDeliverableUrl('body.url', url, config.delivery.allowNetworks.map(parseCidr));
  }
  checkSignatureConfig(body.signature ?? endpoint.signature, body.method ?? endpoint.method);
  if (body.signature && currentSecret !== null) {
    checkSecret(body.signature.scheme, currentSecret, 'body.signature.scheme');
  }
  return patch;
}
