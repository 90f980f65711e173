/** JSON Schemas of request bodies and queries, with explicit limits (documented in docs/api.md). */
import type { Config } from '../config/config-types.ts';

export const LIMITS = {
  nameLength: 200,
  descriptionLength: 2000,
  urlLength: 2048,
  headers: 50,
  headerValueLength: 4096,
  eventTypes: 200,
  retrySteps: 20,
  retryStepMaxSeconds: 7 * 24 * 3600,
  idempotencyKeyLength: 200,
  listLimit: 1000,
} as const;

const name = { type: 'string', minLength: 1, maxLength: LIMITS.nameLength } as const;
const text = { type: 'string', maxLength: LIMITS.descriptionLength } as const;
const url = { type: 'string', minLength: 1, maxLength: LIMITS.urlLength } as const;
const headerName = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$";
const retrySchedule = {
  type: ['array', 'null'],
  maxItems: LIMITS.retrySteps,
  items: { type: 'number', exclusiveMinimum: 0, maximum: LIMITS.retryStepMaxSeconds },
} as const;

export const idParams = (...names: string[]) => ({
  type: 'object',
  required: names,
  properties: Object.fromEntries(names.map((n) => [n, { type: 'string', minLength: 1, maxLength: 200 }])),
});

export const pageQuery = {
  // query strings are not coerced (bodies must not be either): parsed by `pageOf`
  limit: { type: 'string', pattern: '^[0-9]{1,6}$' },
  cursor: { type: 'string', maxLength: 500 },
} as const;

export const projectBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name,
    uid: { type: ['string', 'null'], minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    retrySchedule,
    enforceCatalog: { type: 'boolean' },
  },
} as const;

export const eventTypeBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: text,
    schema: { type: ['object', 'boolean', 'null'] },
    example: {},
    deprecated: { type: 'boolean' },
  },
} as const;

export const endpointBody = (config: Config) =>
  ({
    type: 'object',
    additionalProperties: false,
    properties: {
      url,
      name: { type: 'string', maxLength: LIMITS.nameLength },
      description: text,
      eventTypes: { type: 'array', maxItems: LIMITS.eventTypes, uniqueItems: true, items: name },
      method: { type: 'string', enum: ['POST', 'PUT', 'PATCH', 'GET'] },
      headers: {
        type: 'object',
        maxProperties: LIMITS.headers,
        propertyNames: { pattern: headerName },
        additionalProperties: {
          type: 'string',
          maxLength: LIMITS.headerValueLength,
          pattern: '^[^\\r\\n\\x00]*$',
        },
      },
      active: { type: 'boolean' },
      dev: { type: 'boolean' },
      timeoutMs: { type: 'integer', minimum: 100, maximum: config.delivery.maxTimeoutMs },
      envelope: { type: 'string', enum: ['standard', 'event-data', 'raw'] },
      signature: {
        type: 'object',
        additionalProperties: false,
        required: ['scheme'],
        properties: {
          scheme: {
            type: 'string',
            enum: ['standard', 'hmac-sha256', 'stripe', 'github', 'sha256-body', 'hmac-sha1-url', 'none'],
          },
          signatureHeader: { type: 'string', pattern: headerName },
          timestampHeader: { type: 'string', pattern: headerName },
          encoding: { type: 'string', enum: ['hex', 'base64'] },
          key: { type: 'string', minLength: 1, maxLength: 512 },
        },
      },
      secret: { type: 'string', minLength: 8, maxLength: 512 },
      rateLimit: {
        type: ['object', 'null'],
        additionalProperties: false,
        required: ['perSecond'],
        properties: {
          perSecond: { type: 'number', exclusiveMinimum: 0, maximum: 100000 },
          burst: { type: 'integer', minimum: 1, maximum: 100000 },
        },
      },
      retrySchedule,
    },
  }) as const;

export const eventBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'payload'],
  properties: {
    type: name,
    payload: {},
    idempotencyKey: { type: 'string', minLength: 1, maxLength: LIMITS.idempotencyKeyLength },
    test: { type: 'boolean' },
    callbackUrl: url,
  },
} as const;

export const batchBody = (config: Config) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['events'],
    properties: { events: { type: 'array', minItems: 1, maxItems: config.maxBatchEvents, items: eventBody } },
  }) as const;
