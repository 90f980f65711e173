/** Event request bodies → store input, with the checks JSON Schema cannot express. */
import type { EventInput as ClientEventInput } from '@herald/client';
import type { FastifyRequest } from 'fastify';
import type { Cidr } from '../domain/address-classifier.ts';
import { eventTypeNameProblem } from '../domain/event-type-name.ts';
import { lookAlikeHint } from '../domain/look-alike-names.ts';
import type { Json, Project } from '../domain/types.ts';
import type { NewEventInput, Store } from '../store/store.ts';
import { type CatalogLookup, catalogLookAlike, catalogLookup } from './catalog-lookup.ts';
import { UnprocessableError, ValidationError } from './errors.ts';
import { parseDeliverableUrl } from './parse.ts';
import { LIMITS } from './schemas/common.ts';

/** One event as POST …/events (or one item of …/events/batch) takes it: the wire type of @herald/client, its payload parsed JSON. */
export type EventInput = ClientEventInput<Json>;

/** What toNewEvent asks the store: whether a type is in the catalog, whether a key holds an event. */
export interface EventLookups {
  inCatalog: CatalogLookup;
  /** The project's idempotency key holds an event accepted within its 24 h (a retry's). */
  keyHeld: (key: string) => Promise<boolean>;
}

/** EventLookups for one request to `projectId`'s events. */
export function eventLookups(
  store: Pick<Store, 'hasEventType' | 'heldIdempotencyKeys'>,
  projectId: string,
): EventLookups {
  return {
    inCatalog: catalogLookup(store),
    keyHeld: async (key) => (await store.heldIdempotencyKeys(projectId, [key], Date.now())).size > 0,
  };
}

/**
 * The `Idempotency-Key` header, if any; 400 when it is empty (a client's unset variable: taken as
 * no key, every retry would store the event again; the body's `""` is refused too), too long, sent
 * more than once (Node would join the copies into one key, `a, b`) or not printable ASCII (header
 * bytes are read as Latin-1, so `é` would not match the same key sent in the body).
 */
export function idempotencyKeyHeader(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  if (typeof value !== 'string') return undefined;
  if (value === '') {
    throw new ValidationError('headers.idempotency-key', 'must not be empty', { details: { limit: 1 } });
  }
  const raw = request.raw.rawHeaders;
  let copies = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'idempotency-key') copies++;
  if (copies > 1) throw new ValidationError('headers.idempotency-key', 'must be sent once');
  if (!/^[\x20-\x7e]+$/.test(value)) {
    throw new ValidationError(
      'headers.idempotency-key',
      'must be printable ASCII (send other keys as the body field idempotencyKey)',
    );
  }
  if (value.length > LIMITS.idempotencyKeyLength) {
    throw new ValidationError(
      'headers.idempotency-key',
      `must be at most ${LIMITS.idempotencyKeyLength} characters long`,
      { details: { limit: LIMITS.idempotencyKeyLength } },
    );
  }
  return value;
}

/**
 * Checks what the schema cannot (callback URL, reachable under `allow`; a type holding `*`; enforced
 * catalog, asked of `inCatalog`, unless the event's key holds one: a retry) and builds store input. `prefix` names fields in errors (`body`,
 * `body.events.3`); a body key and a header key that differ are refused.
 */
export async function toNewEvent(
  lookups: EventLookups,
  project: Project,
  input: EventInput,
  prefix: string,
  allow: readonly Cidr[],
  headerKey?: string,
): Promise<NewEventInput> {
  if (input.idempotencyKey !== undefined && headerKey !== undefined && input.idempotencyKey !== headerKey) {
    throw new ValidationError(`${prefix}.idempotencyKey`, 'differs from the Idempotency-Key header');
  }
  const callbackUrl = input.callbackUrl
    ? parseDeliverableUrl(`${prefix}.callbackUrl`, input.callbackUrl, allow)
    : null;
  if (input.callbackEnvelope !== undefined && callbackUrl === null) {
    throw new ValidationError(`${prefix}.callbackEnvelope`, 'applies only with a callbackUrl');
  }
  // In every project, enforcing its catalog or not: an event typed `order.*` would reach only the
  // endpoints that take every type, since no filter may name it; and an enforced catalog's entry
  // stored before the catalog took names by the filters' rule does not vouch for it either.
  const notAName = eventTypeNameProblem(input.type);
  if (notAName) {
    throw new ValidationError(
      `${prefix}.type`,
      `${JSON.stringify(input.type)} is not an event-type name: ${notAName}`,
    );
  }
  const key = input.idempotencyKey ?? headerKey;
  // A retry of an event stored before the project enforced its catalog (or before its type left
  // it) is answered with that event, as any repeat of its key is (docs/api.md "Idempotency keys"):
  // a 422 would tell its client it failed for good, while it is stored and being delivered. Asked
  // only of a type the catalog refuses (a key whose 24 h end between this and the accept, within
  // milliseconds, stores the event as it would have been before the catalog was enforced).
  if (
    project.enforceCatalog &&
    !(await lookups.inCatalog(input.type)) &&
    !(key !== undefined && (await lookups.keyHeld(key)))
  ) {
    const lookAlike = await catalogLookAlike(lookups.inCatalog, input.type);
    throw new UnprocessableError(
      `${prefix}.type`,
      `"${input.type}" is not in the event-type catalog (the project enforces it)${lookAlike === null ? '' : `; ${lookAlikeHint(input.type, lookAlike)}`}`,
    );
  }
  return {
    type: input.type,
    payload: input.payload,
    test: input.test ?? false,
    idempotencyKey: input.idempotencyKey ?? headerKey ?? null,
    callbackUrl,
    ...(input.callbackEnvelope ? { callbackEnvelope: input.callbackEnvelope } : {}),
  };
}
