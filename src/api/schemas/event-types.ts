/** Request schemas of /api/v1/event-types. */
import { LIMITS, NAME_PATTERN, TEXT_PATTERN, textString } from './common.ts';

/** An event type read by name: any name stored, those from before NAME_PATTERN included. */
export const eventTypeParams = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: LIMITS.nameLength, pattern: TEXT_PATTERN },
  },
} as const;

/** An event type created or updated (PUT): its name is a name (NAME_PATTERN), as events' types are. */
export const eventTypeNameParams = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: LIMITS.nameLength, pattern: NAME_PATTERN },
  },
} as const;

/**
 * Every field optional (one left out keeps its stored value): no body (or null) is `{}`, which
 * creates an entry of just its name or leaves a stored one as it is, as on every route whose body
 * has no required field (docs/api.md "Limits", Body).
 */
export const eventTypeBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    description: textString,
    schema: { type: ['object', 'boolean', 'null'] },
    example: {},
    deprecated: { type: 'boolean' },
  },
} as const;
