/** Endpoint request bodies → store input, with the checks JSON Schema cannot express. */
import type { EndpointInput as ClientEndpointInput } from '@herald/client';
import type { Config } from '../config/config-types.ts';
import { parseCidr } from '../domain/address-classifier.ts';
import { contentTypeProblem, contentTypeRefusal } from '../domain/custom-content-type.ts';
import { eventTypeNameProblem } from '../domain/event-type-name.ts';
import {
  hasOuterWhitespace,
  isHeaderName,
  isSendableHeaderValue,
  MAX_HEADER_NAME_LENGTH,
} from '../domain/header-syntax.ts';
import { lookAlikeHint } from '../domain/look-alike-names.ts';
import { isReservedHeader, RESERVED_HEADER_WORDS } from '../domain/reserved-headers.ts';
import { generateSecret, secretProblem } from '../domain/secret.ts';
import type { Endpoint, HttpMethod, Project, SignatureConfig } from '../domain/types.ts';
import type { EndpointCheck, EndpointPatch, NewEndpoint, Store } from '../store/store.ts';
import { catalogLookAlike, catalogLookup } from './catalog-lookup.ts';
import { invalid, UnprocessableError, ValidationError } from './errors.ts';
import { checkSignatureConfig, parseDeliverableUrl } from './parse.ts';
import { LIMITS } from './schemas/common.ts';

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

/** An endpoint URL delivery could reach (parseDeliverableUrl: 400, or 422 outside the allowed networks). */
export function parseEndpointUrl(field: string, value: string, config: Config): string {
  return parseDeliverableUrl(field, value, config.delivery.allowNetworks.map(parseCidr));
}

/**
 * 400 naming `body.headers.<name>` for a custom header Herald could not send as given: a name that
 * is not an HTTP token, a second spelling of a name (names are case-insensitive: only one would be
 * sent), a header Herald sets itself (content, host, hop-by-hop, every scheme's signature headers,
 * the endpoint's own `signatureHeader`/`timestampHeader`: see isReservedHeader), or a value HTTP
 * cannot carry (U+0000–U+001F but tab, U+007F, characters above U+00FF; U+0080–U+009F are taken:
 * they are bytes 0x80–0x9F on the wire, which a value spelling out UTF-8 holds). Build-request drops all of these at
 * send time; refusing them here says so when the endpoint is saved instead of never. A value that
 * starts or ends with a space or a tab is refused too: it is sent, but arrives without them. A
 * `Content-Type` is taken when it describes the body `method` and the scheme send (and then
 * replaces Herald's): see custom-content-type.ts. 400 naming `body.headers` when the lines come to
 * more than LIMITS.headerBytes in all, or to more than `keptBytes` (what the endpoint has: a PATCH
 * may send back a set stored before the limit).
 */
export function checkCustomHeaders(
  headers: Record<string, string>,
  method: HttpMethod,
  signature: SignatureConfig,
  keptBytes = 0,
): void {
  const bytes = customHeaderBytes(headers);
  const limit = Math.max(LIMITS.headerBytes, keptBytes);
  if (bytes > limit) {
    throw new ValidationError(
      'body.headers',
      `must come to at most ${limit} bytes in all (each "name: value" line with its line end; these come to ${bytes}): receivers refuse larger headers (Node answers 431 over 16 KiB in all)`,
      { details: { limit } },
    );
  }
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const field = `body.headers.${name}`;
    if (!isHeaderName(name)) {
      throw invalid(
        field,
        `a header name must be 1–${MAX_HEADER_NAME_LENGTH} token characters (letters, digits and !#$%&'*+-.^_\`|~)`,
      );
    }
    const lower = name.toLowerCase();
    const first = seen.get(lower);
    if (first !== undefined) {
      throw invalid(field, `repeats the header ${first} (header names are case-insensitive)`);
    }
    seen.set(lower, name);
    if (lower === 'content-type') {
      const problem = contentTypeRefusal(value, method, signature.scheme);
      if (problem !== null) throw invalid(field, problem);
    } else if (isReservedHeader(name, signature)) {
      throw invalid(field, RESERVED_HEADER_WORDS);
    }
    if (!isSendableHeaderValue(value)) {
      throw invalid(
        field,
        'a header value may hold tab, printable ASCII and U+0080–U+00FF only (no U+0000–U+001F but tab, no U+007F, nothing above U+00FF)',
      );
    }
    if (hasOuterWhitespace(value)) {
      throw invalid(
        field,
        `must not start or end with a space or a tab: HTTP drops them, so the receiver would read ${JSON.stringify(value.replace(/^[ \t]+|[ \t]+$/g, ''))}`,
      );
    }
  }
}

/** The bytes of custom header lines on the wire: `name: value\r\n` each, a byte a character. */
export function customHeaderBytes(headers: Record<string, string>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) bytes += name.length + 2 + String(value).length + 2;
  return bytes;
}

/**
 * 400 naming `body.eventTypes.<i>` for a filter entry holding `*`: a filter lists event-type names,
 * matched exactly, so `order.*` or `*` would never match an event (an empty filter is every type);
 * and for `.` or `..`, no event's type (event-type-name.ts), with that reason (it said the
 * wildcard's for them too).
 * `kept`: the entries the endpoint already has, which a PATCH may send back as they are (one stored
 * before this check goes on matching nothing, as before; the dashboard sends the whole filter back).
 */
export function checkEventTypeFilter(eventTypes: readonly string[], kept: readonly string[] = []): void {
  eventTypes.forEach((name, i) => {
    const problem = eventTypeNameProblem(name);
    if (problem !== null && !kept.includes(name)) {
      throw invalid(
        `body.eventTypes.${i}`,
        name.includes('*')
          ? `${JSON.stringify(name)} is not an event-type name: filters match names exactly, without wildcards; list each type, or leave eventTypes empty for every type`
          : `${JSON.stringify(name)} is not an event-type name: ${problem}`,
      );
    }
  });
}

/**
 * The entries of `eventTypes` that are not in the event-type catalog, when the project enforces it
 * (none otherwise). Looked up before the write, and still true in it: a catalog entry is never
 * removed or renamed. Turning enforceCatalog on does not touch the filters endpoints have, so a
 * write the project's turn to enforcing comes just before is as if it came just after.
 */
export async function namesNotInCatalog(
  store: Store,
  project: Project,
  eventTypes: readonly string[] | undefined,
): Promise<MissingNames> {
  if (!project.enforceCatalog || !eventTypes) return new Map();
  const inCatalog = catalogLookup(store);
  const found = await Promise.all(eventTypes.map(inCatalog));
  const missing = eventTypes.filter((_, i) => !found[i]);
  return new Map(
    await Promise.all(missing.map(async (name) => [name, await catalogLookAlike(inCatalog, name)] as const)),
  );
}

/** Filter entries outside an enforced catalog, each with the entry it only looks like (catalogLookAlike), or null. */
export type MissingNames = ReadonlyMap<string, string | null>;

/**
 * 422 naming `body.eventTypes.<i>` for a filter entry that is not in the event-type catalog
 * (`missing`: namesNotInCatalog) when the project enforces it: events of that type are refused (422
 * on POST …/events), so the endpoint would never receive one. Without enforceCatalog any name is
 * accepted, as events of any type are. `kept`: the entries the endpoint already has, which a PATCH
 * may send back as they are (stored before the project enforced the catalog; the dashboard sends
 * the whole filter back). A PATCH checks them again in its write (endpointPatchCheck), on the
 * filter as it is then: another PATCH may have removed the entry meanwhile.
 */
export function checkFilterInCatalog(
  eventTypes: readonly string[] | undefined,
  missing: MissingNames,
  kept: readonly string[] = [],
): void {
  const i = eventTypes?.findIndex((name) => missing.has(name) && !kept.includes(name)) ?? -1;
  if (i !== -1) {
    const name = eventTypes![i]!;
    const lookAlike = missing.get(name);
    throw new UnprocessableError(
      `body.eventTypes.${i}`,
      lookAlike
        ? `"${name}" is not in the event-type catalog (the project enforces it); ${lookAlikeHint(name, lookAlike)}`
        : `"${name}" is not in the event-type catalog (the project enforces it), so no event of that type could be sent to the endpoint; add it to the catalog first (PUT /api/v1/event-types/:name)`,
    );
  }
}

/** A create body → the endpoint to store and its first secret (imported, or generated `whsec_…`). */
export function toNewEndpoint(
  projectId: string,
  body: EndpointInput & { url: string },
  config: Config,
): { endpoint: NewEndpoint; secret: string } {
  const signature = body.signature ?? { scheme: 'standard' };
  const method = body.method ?? 'POST';
  const url = parseEndpointUrl('body.url', body.url, config);
  checkSignatureConfig(signature, method);
  if (body.eventTypes) checkEventTypeFilter(body.eventTypes);
  if (body.headers) checkCustomHeaders(body.headers, method, signature);
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
 * The checks of a PATCH body that depend on the endpoint as it is (toEndpointPatch on it and its
 * current secret, the filter's entries outside an enforced catalog against the ones it has), for
 * Store.updateEndpoint to run in its write: checked only before it, on the endpoint as read then, a
 * PATCH of the scheme and a concurrent rotation to a secret that scheme cannot use (or custom
 * headers and a concurrent PATCH naming one as the signature header, or a filter entry sent back
 * as kept and a concurrent PATCH removing it) both passed, and the endpoint was left in a state
 * either request would have been refused in. `missing`: namesNotInCatalog of the body's filter.
 * Undefined when the body changes nothing they look at.
 */
export function endpointPatchCheck(
  body: Omit<EndpointInput, 'secret'>,
  config: Config,
  missing: MissingNames = new Map(),
): EndpointCheck | undefined {
  const { signature, headers, method, eventTypes } = body;
  if (signature === undefined && headers === undefined && method === undefined && eventTypes === undefined) {
    return undefined;
  }
  return (current, currentSecret) => {
    toEndpointPatch(body, current, currentSecret, config);
    checkFilterInCatalog(eventTypes, missing, current.eventTypes);
  };
}

/**
 * A PATCH body → a store patch. `currentSecret` is checked against a new scheme, so switching to
 * `standard` with an imported non-whsec secret is refused instead of failing at delivery time
 * (null: not checked here; endpointPatchCheck checks it in the write).
 */
export function toEndpointPatch(
  body: Omit<EndpointInput, 'secret'>,
  endpoint: Endpoint,
  currentSecret: string | null,
  config: Config,
): EndpointPatch {
  const { url, ...rest } = body;
  const patch: EndpointPatch = { ...rest };
  if (url !== undefined) patch.url = parseEndpointUrl('body.url', url, config);
  if (body.eventTypes) checkEventTypeFilter(body.eventTypes, endpoint.eventTypes);
  const signature = body.signature ?? endpoint.signature;
  const method = body.method ?? endpoint.method;
  // Only when the PATCH changes them: an endpoint an older Herald stored with settings now refused
  // can still be disabled, renamed or moved without changing how its receiver checks it.
  if (body.signature !== undefined || body.method !== undefined) {
    checkSignatureConfig(signature, method);
  }
  if (body.headers) checkCustomHeaders(body.headers, method, signature, customHeaderBytes(endpoint.headers));
  else if (body.signature !== undefined || body.method !== undefined) {
    checkKeptContentType(endpoint, body, method, signature);
  }
  if (!body.headers && body.signature) {
    // The headers kept: one named like the new signature or timestamp header would be dropped.
    for (const name of Object.keys(endpoint.headers)) {
      if (isReservedHeader(name, signature) && !isReservedHeader(name, endpoint.signature)) {
        throw new UnprocessableError(
          'body.signature',
          `the endpoint's custom header ${name} has the name of a header this signature sets; change or remove it in the same PATCH (headers)`,
        );
      }
    }
  }
  if (body.signature && currentSecret !== null) {
    checkSecret(body.signature.scheme, currentSecret, 'body.signature.scheme');
  }
  return patch;
}

/**
 * 422 naming the field a PATCH changes (`body.method` or `body.signature.scheme`) when the
 * endpoint's kept custom Content-Type, which describes its body now, would no longer describe it (`application/json` and a
 * switch to GET, which has none, or to `hmac-sha1-url`, which sends a form). Refused rather than
 * dropped at send time: the receiver would get another Content-Type than the one the endpoint
 * shows. The message names the header too; change or remove it in the same PATCH (headers).
 */
function checkKeptContentType(
  endpoint: Endpoint,
  body: Omit<EndpointInput, 'secret'>,
  method: HttpMethod,
  signature: SignatureConfig,
): void {
  const kept = endpoint.headers;
  // The one sent now: the first spelling that fits (build-request). One that does not fit (stored
  // before the API checked it, maybe beside another spelling) is already left out of the requests:
  // the change does not alter what the receiver gets of it, so it is not held up by it.
  const name = Object.keys(kept).find(
    (header) =>
      header.toLowerCase() === 'content-type' &&
      contentTypeProblem(kept[header]!, endpoint.method, endpoint.signature.scheme) === null,
  );
  if (name === undefined) return;
  const problem = contentTypeProblem(kept[name]!, method, signature.scheme);
  if (problem === null) return;
  // The change that makes it misfit: a GET has no body whatever the scheme; otherwise the scheme's format.
  const byMethod = body.method !== undefined && (method === 'GET' || body.signature === undefined);
  const field = byMethod ? 'body.method' : 'body.signature.scheme';
  throw new UnprocessableError(
    field,
    `the endpoint's custom header ${name} (headers.${name}: ${JSON.stringify(kept[name])}) would no longer fit: ${problem}; change or remove it in the same PATCH (headers)`,
    { details: { headers: `body.headers.${name}` } },
  );
}
