/** Request schemas of /api/v1/projects/:project/endpoints and its sub-routes. */
import type { Config } from '../../config/config-types.ts';
import { STATS_BUCKET_SIZES } from '../parse-time.ts';
import {
  HEADER_NAME_PATTERN,
  LIMITS,
  NAME_PATTERN,
  nameString,
  retryScheduleSchema,
  TEXT_PATTERN,
  textString,
  timeQuery,
  urlString,
} from './common.ts';

/** Every scheme of DESIGN "Signature schemes". */
export const SIGNATURE_SCHEMES = [
  'standard',
  'hmac-sha256',
  'stripe',
  'github',
  'sha256-body',
  'hmac-sha1-url',
  'none',
] as const;

/** Every method an endpoint may be called with (DESIGN "Envelopes and methods"). */
export const HTTP_METHODS = ['POST', 'PUT', 'PATCH', 'GET'] as const;
/** Every envelope an endpoint may wrap its payloads in. */
export const ENVELOPES = ['standard', 'event-data', 'raw'] as const;

const secretString = {
  type: 'string',
  minLength: 8,
  maxLength: LIMITS.secretLength,
  pattern: TEXT_PATTERN,
} as const;

/** Create and PATCH share it; create adds `required: ['url']`. */
export const endpointBody = (config: Config) =>
  ({
    type: 'object',
    additionalProperties: false,
    properties: {
      url: urlString,
      name: { type: 'string', maxLength: LIMITS.nameLength, pattern: NAME_PATTERN },
      description: textString,
      // `*` is refused by checkEventTypeFilter (endpoint-input.ts), which names the entry and says why.
      eventTypes: {
        type: 'array',
        description:
          'Event-type names, matched exactly: no wildcards (an entry holding * is 400 naming body.eventTypes.<index>). In a project with enforceCatalog, a name not in the catalog is 422. Empty: every type.',
        maxItems: LIMITS.eventTypes,
        uniqueItems: true,
        items: nameString,
      },
      method: { type: 'string', enum: HTTP_METHODS },
      // Names and values are checked by checkCustomHeaders (endpoint-input.ts), not by patterns
      // here, so that the error names the header (`body.headers.X-Env`) and says what is wrong.
      headers: {
        type: 'object',
        description: `Names: HTTP tokens of at most 100 characters, each once in any letter case, none a header Herald sets. Values: tab, printable ASCII and U+0080–U+00FF, no space or tab at either end. Otherwise 400 naming body.headers.<name>. The lines (name: value and the line end) at most ${LIMITS.headerBytes} bytes in all, else 400 naming body.headers. A Content-Type is taken, and sent instead of Herald’s, when it describes the body: application/json or application/<name>+json (hmac-sha1-url: application/x-www-form-urlencoded; sha256-body: text/plain), with any parameters, a charset being utf-8; never with GET, which has no body.`,
        maxProperties: LIMITS.headers,
        additionalProperties: { type: 'string', maxLength: LIMITS.headerValueLength },
      },
      active: { type: 'boolean' },
      dev: { type: 'boolean' },
      timeoutMs: { type: 'integer', minimum: 100, maximum: config.delivery.maxTimeoutMs },
      envelope: { type: 'string', enum: ENVELOPES },
      signature: {
        type: 'object',
        additionalProperties: false,
        required: ['scheme'],
        properties: {
          scheme: { type: 'string', enum: SIGNATURE_SCHEMES },
          signatureHeader: { type: 'string', pattern: HEADER_NAME_PATTERN },
          timestampHeader: { type: 'string', pattern: HEADER_NAME_PATTERN },
          encoding: { type: 'string', enum: ['hex', 'base64'] },
          key: { type: 'string', minLength: 1, maxLength: 512, pattern: TEXT_PATTERN },
        },
      },
      secret: secretString,
      rateLimit: {
        type: ['object', 'null'],
        additionalProperties: false,
        required: ['perSecond'],
        properties: {
          perSecond: { type: 'number', exclusiveMinimum: 0, maximum: 100_000 },
          burst: { type: 'integer', minimum: 1, maximum: 100_000 },
        },
      },
      retrySchedule: retryScheduleSchema,
    },
  }) as const;

export const rotateSecretBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    graceSeconds: { type: 'integer', minimum: 0, maximum: 7 * 24 * 3600 },
    secret: secretString,
  },
} as const;

export const testSendBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { eventType: nameString },
} as const;

export const recoverBody = {
  type: 'object',
  additionalProperties: false,
  required: ['since'],
  properties: {
    // Not empty: `{"since": ""}` was taken for no bound, a recover or replay of the whole history.
    since: { type: ['string', 'number'], minLength: 1, maxLength: 64 },
    until: { type: ['string', 'number'], minLength: 1, maxLength: 64 },
  },
} as const;

export const statsQuerystring = {
  type: 'object',
  properties: {
    since: {
      ...timeQuery,
      description: 'Start of the range (default: a day before until); at most 90 days before until.',
    },
    until: { ...timeQuery, description: 'End of the range (default: now).' },
    bucket: {
      type: 'string',
      enum: [...STATS_BUCKET_SIZES],
      description: 'Bucket size: 1m, 5m, 15m, 1h (default), 6h or 1d',
    },
  },
} as const;
