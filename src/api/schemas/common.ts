/** Limits and building blocks shared by every request schema (documented in docs/api.md). */

export const LIMITS = {
  nameLength: 200,
  descriptionLength: 2000,
  urlLength: 2048,
  headers: 50,
  headerValueLength: 4096,
  /**
   * Bytes of an endpoint's custom header lines in all (`name: value` and the line end, one byte a
   * character: values are Latin-1). Receivers refuse much more: Node's HTTP server (Herald's API
   * too) answers 431 to headers over 16 KiB in all; with Herald's own lines (under 1 KiB) this
   * leaves room. 50 values of 4096 characters, 200 KiB, were accepted and every delivery got 431.
   */
  headerBytes: 8192,
  eventTypes: 200,
  retrySteps: 20,
  retryStepMaxSeconds: 7 * 24 * 3600,
  idempotencyKeyLength: 200,
  idLength: 200,
  /**
   * Room for the longest cursor Herald makes: the catalog's holds an event-type name, up to 200
   * characters (code points, as maxLength counts them), so up to 800 bytes of UTF-8 (4 for a
   * character above U+FFFF, an emoji), and its mark (catalog-cursor.ts): 801 bytes, 1,068
   * characters of base64url (cursor.ts). At 500, a page ending on a name of 125 CJK characters
   * (imported) gave a nextCursor that the next page refused; at 1000, one of 188 emoji did.
   */
  cursorLength: 1100,
  listLimit: 1000,
  secretLength: 1024,
  /** A project's own backlogLimit (pending deliveries); 0 turns its limit off. */
  backlogLimit: 1_000_000_000,
  /** Objects and arrays nested in one JSON body (the stores' JSON.stringify must not overflow). */
  jsonDepth: 64,
} as const;

/**
 * Well-formed text without NUL characters. PostgreSQL cannot store a NUL in a text column (the query
 * would fail with a 500). A lone surrogate (`"\udbff"` in JSON: half of a UTF-16 pair, not
 * Unicode) is stored by both stores as U+FFFD, so `idem-\udbff` and `idem-\udfff` would become one
 * idempotency key, and a name would be stored other than the 202 echoed it. Ajv compiles patterns
 * with the `u` flag, where `[\ud800-\udfff]` matches only a surrogate without its pair (an
 * emoji's pair is one code point). Every free-text string of a request (body, query and path)
 * carries it; validation-words.ts words the error. Payloads, examples and schemas are free-form JSON,
 * kept as sent: stored as JSON text, a lone surrogate there stays an escape.
 */
export const TEXT_PATTERN = '^[^\\u0000\\ud800-\\udfff]*$';

/**
 * A name (of a project, endpoint, API key or event type, and an event's type): TEXT_PATTERN, and no
 * control characters (C0 U+0000–U+001F, DEL and C1 U+007F–U+009F: a newline or an ESC sequence in a
 * name forges log lines and repaints terminals that show it), and not only whitespace (a name that
 * looks blank). Names stored before this rule are kept, and still read. Written without a lookahead
 * (test/api/fuzz.test.ts generates from it) and in linear time: the leading whitespace, the first
 * other character and the rest are told apart by disjoint classes. Empty passes: minLength says.
 */
export const NAME_PATTERN =
  '^(?:[^\\S\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff][^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*)?$';
/** A description: as NAME_PATTERN's characters, but line feeds and tabs are allowed, and blank is. */
export const DESCRIPTION_PATTERN = '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$';

export const nameString = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.nameLength,
  pattern: NAME_PATTERN,
} as const;
export const textString = {
  type: 'string',
  maxLength: LIMITS.descriptionLength,
  pattern: DESCRIPTION_PATTERN,
} as const;
/** Any absolute URL text; http/https is checked by `parseHttpUrl` so the error can say why. */
export const urlString = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.urlLength,
  pattern: TEXT_PATTERN,
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
      { type: 'string', minLength: 1, maxLength: LIMITS.idLength, pattern: TEXT_PATTERN },
    ]),
  ),
});

/** An id in a query string (`?endpoint`): as in a path. */
export const idQuery = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.idLength,
  pattern: TEXT_PATTERN,
} as const;

/**
 * A time in a query string: ISO-8601 or epoch ms, checked by `parseTime` (400 naming the field). Not
 * empty: `?since=` (a client's variable never set) was taken for no bound.
 */
export const timeQuery = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description:
    'Epoch milliseconds, or an RFC 3339 time (2026-01-01T10:00:00Z; seconds may be left out; a date alone is its midnight UTC); a + offset is written %2B',
} as const;

/**
 * A free-text query value (`?type`, `?eventType`). Not empty: the stores take "" for no filter, so
 * `?type=` answered the unfiltered list as if filtered; no event has an empty type.
 */
export const textQuery = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.nameLength,
  pattern: TEXT_PATTERN,
} as const;

export const pageQuery = {
  // Query strings are not coerced (bodies must not be either): `pageOf` parses and range-checks.
  limit: {
    type: 'string',
    pattern: '^[0-9]{1,6}$',
    description:
      'Items per page: an integer from 1 to 1000 (default 50). A page may hold fewer: follow nextCursor',
  },
  cursor: {
    type: 'string',
    // Not empty: `?cursor=` was taken for none, so the first page answered as if it were the next.
    minLength: 1,
    maxLength: LIMITS.cursorLength,
    description: "The nextCursor of the page before (another list's cursor is 400)",
  },
} as const;

/** `?limit&cursor` and nothing else of note. */
export const pageQuerystring = { type: 'object', properties: pageQuery } as const;

export interface PageQuerystring {
  limit?: string;
  cursor?: string;
}
