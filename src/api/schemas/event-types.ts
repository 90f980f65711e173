/** Request schemas of /api/v1/event-types. */
import { LIMITS, TEXT_PATTERN, textString } from './common.ts';

export const eventTypeParams = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: LIMITS.nameLength, pattern: TEXT_PATTERN },
  },
} as const;

export const eventTypeBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: textString,
    schema: { type: ['object', 'boolean', 'null'] },
    example: {},
    deprecated: { type: 'boolean' },
  },
} as const;
