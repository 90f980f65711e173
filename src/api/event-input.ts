/** Event request bodies → store input, with the checks JSON Schema cannot express. */
import type { EventInput } from '@herald/client';
import type { FastifyRequest } from 'fastify';
import type { Cidr } from '../domain/address-classifier.ts';
import type { Project } from '../domain/types.ts';
import type { NewEventInput, Store } from '../store/store.ts';
import { UnprocessableError, ValidationError } from './errors.ts';
import { parseDeliverableUrl } from './parse.ts';
import { LIMITS } from './schemas/common.ts';

/** One event as POST …/events (or one item of …/events/batch) takes it: the wire type of @herald/client. */
export type { EventInput } from '@herald/client';

/** The `Idempotency-Key` header, if any; 400 when it is too long. */
export function idempotencyKeyHeader(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  if (typeof value !== 'string' || value === '') return undefined;
  if (value.length > LIMITS.idempotencyKeyLength) {
    throw new ValidationError(
      'headers.idempotency-key',
      `must be at most ${LIMITS.idempotencyKeyLength} characters`,
    );
  }
  return value;
}

/**
 * Checks what the schema cannot (callback URL, reachable under `allow`; enforced catalog) and builds
 * store input. `prefix` names fields in errors (`body`, `body.events.3`); the body's key wins over
 * the header's.
 */
export async function toNewEvent(
  store: Store,
  project: Project,
  input: EventInput,
  prefix: string,
  allow: readonly Cidr[],
  headerKey?: string,
): Promise<NewEventInput> {
  const callbackUrl = input.callbackUrl
    ? parseDeliverableUrl(`${prefix}.callbackUrl`, input.callbackUrl, allow)
    : null;
  if (project.enforceCatalog && !(await store.getEventType(input.type))) {
    throw new UnprocessableError(
      `${prefix}.type`,
      `"${input.type}" is not in the event-type catalog (the project enforces it)`,
    );
  }
  return {
    type: input.type,
    payload: input.payload,
    test: input.test ?? false,
    idempotencyKey: input.idempotencyKey ?? headerKey ?? null,
    callbackUrl,
  };
}
