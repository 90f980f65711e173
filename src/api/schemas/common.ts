/** Limits and building blocks shared by every request schema (documented in docs/api.md). */

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
  idLength: 200,
  cursorLength: 500,
  listLimit: 1000,
  secretLength: 1024,
  /** Objects and arrays nested in one JSON body (the stores' JSON.stringify must not overflow). */
  jsonDepth: 64,
} as const;

/**
 * No NUL characters: PostgreSQL cannot store them in text columns (the query would fail with a 500).
 * Every free-text string of a request carries it; `validationMessage` in errors.ts words the error.
 */
export const NO_NUL_PATTERN = '^[^\\u0000]*$';

export const nameString = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.nameLength,
  pattern: NO_NUL_PATTERN,
} as const;
export const textString = {
  type: 'string',
  maxLength: LIMITS.descriptionLength,
  pattern: NO_NUL_PATTERN,
} as const;
/** Any absolute URL text; http/https is checked by `parseHttpUrl` so the error can say why. */
export const urlString = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.urlLength,
  pattern: NO_NUL_PATTERN,
} as const;
/** RFC 9110 token characters. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$";

export const retryScheduleSchema = {
  type: ['array', 'null'],
  maxItems: LIMITS.retrySteps,
  items: { type: 'number', exclusiveMinimum: 0, maximum: LIMITS.retryStepMaxSeconds },
} as const;

/** Path parameters, each a non-empty id (or project uid / event-type name). */
export const idParams = (...names: string[]) => ({
  type: 'object',
  required: names,
  properties: Object.fromEntries(
    names.map((n) => [
      n,
      { type: 'string', minLength: 1, maxLength: LIMITS.idLength, pattern: NO_NUL_PATTERN },
    ]),
  ),
});

/** A time in a query string: ISO-8601 or epoch ms, checked by `parseTime` (400 naming the field). */
export const timeQuery = { type: 'string', maxLength: 64 } as const;

/** A free-text query value (`?type`, `?eventType`). */
export const textQuery = { type: 'string', maxLength: LIMITS.nameLength, pattern: NO_NUL_PATTERN } as const;

export const pageQuery = {
  // Query strings are not coerced (bodies must not be either): `pageOf` parses and range-checks.
  limit: { type: 'string', pattern: '^[0-9]{1,6}$' },
  cursor: { type: 'string', maxLength: LIMITS.cursorLength },
} as const;

/** `?limit&cursor` and nothing else of note. */
export const pageQuerystring = { type: 'object', properties: pageQuery } as const;

export interface PageQuerystring {
  limit?: string;
  cursor?: string;
}
