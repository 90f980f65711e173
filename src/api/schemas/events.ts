/** Request schemas of /api/v1/projects/:project/events. */
import type { Config } from '../../config/config-types.ts';
import { LIMITS, nameString, pageQuery, TEXT_PATTERN, textQuery, timeQuery, urlString } from './common.ts';

export const eventBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'payload'],
  properties: {
    type: nameString,
    payload: {},
    idempotencyKey: {
      type: 'string',
      minLength: 1,
      maxLength: LIMITS.idempotencyKeyLength,
      pattern: TEXT_PATTERN,
    },
    test: { type: 'boolean' },
    callbackUrl: urlString,
    callbackEnvelope: { type: 'string', enum: ['standard', 'event-data', 'raw'] },
  },
} as const;

export const batchBody = (config: Config) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['events'],
    properties: {
      events: { type: 'array', minItems: 1, maxItems: config.maxBatchEvents, items: eventBody },
    },
  }) as const;

export const eventListQuerystring = {
  type: 'object',
  properties: {
    ...pageQuery,
    type: { ...textQuery, description: 'Only events of this type (the name exactly)' },
    since: {
      ...timeQuery,
      description: `Only events created at or after this time. ${timeQuery.description}`,
    },
    until: {
      ...timeQuery,
      description: `Only events created at or before this time. ${timeQuery.description}`,
    },
    idempotencyKey: {
      type: 'string',
      minLength: 1,
      maxLength: LIMITS.idempotencyKeyLength,
      pattern: TEXT_PATTERN,
      description:
        'Only events sent with this idempotency key (exactly), however long ago. A page looks at 10,000 events at most (fewer items, or none, and a nextCursor): narrow it with since and until',
    },
  },
} as const;

/** GET …/events/:event: `deliveries=false` answers the event without its deliveries (a wide event's are MBs). */
export const eventQuerystring = {
  type: 'object',
  properties: {
    deliveries: { type: 'string', enum: ['true', 'false'] },
  },
} as const;

/** GET …/events/:event/deliveries: a page of the event's deliveries, optionally in one state. */
export const eventDeliveriesQuerystring = {
  type: 'object',
  properties: {
    ...pageQuery,
    status: { type: 'string', enum: ['pending', 'succeeded', 'failed', 'parked'] },
  },
} as const;

/** GET …/endpoints/:endpoint/deliveries: a page of what waits for the endpoint, in one state. */
export const endpointDeliveriesQuerystring = {
  type: 'object',
  properties: {
    ...pageQuery,
    status: { type: 'string', enum: ['pending', 'parked'] },
  },
} as const;

export const attemptListQuerystring = {
  type: 'object',
  properties: {
    ...pageQuery,
    status: { type: 'string', enum: ['succeeded', 'failed'] },
    since: {
      ...timeQuery,
      description: `Only attempts started at or after this time. ${timeQuery.description}`,
    },
    until: {
      ...timeQuery,
      description: `Only attempts started at or before this time. ${timeQuery.description}`,
    },
    eventType: { ...textQuery, description: 'Only attempts of events of this type (the name exactly)' },
  },
} as const;
