/**
 * What a schema validation failure says: the field it is about (`body.url`, `querystring.limit`)
 * and a sentence in words, where Ajv's own message quotes a regular expression
 * (`must match pattern "^[0-9]{1,6}$"`) or says `must NOT have more than 50 properties`. Pure;
 * errors.ts turns it into the 400.
 */
import { counted } from '../domain/counted.ts';
import {
  DESCRIPTION_PATTERN,
  HEADER_NAME_PATTERN,
  NAME_PATTERN,
  pageQuery,
  TEXT_PATTERN,
} from './schemas/common.ts';
import { projectBody } from './schemas/projects.ts';

export interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: {
    missingProperty?: string;
    additionalProperty?: string;
    pattern?: string;
    allowedValues?: unknown[];
    limit?: unknown;
    type?: unknown;
  };
  /** The schema the value failed (Ajv's `verbose`): for an unknown field, the object's known ones. */
  parentSchema?: { properties?: Record<string, unknown> };
}

/** Known fields listed in an unknown field's message, at most. */
const KNOWN_FIELDS_LISTED = 30;

/** `is not a known field (known: since, until, bucket)`: what the object takes, when its schema says. */
function unknownFieldMessage(issue: AjvIssue): string {
  const known = Object.keys(issue.parentSchema?.properties ?? {});
  if (known.length === 0) return 'is not a known field';
  const listed = known.slice(0, KNOWN_FIELDS_LISTED).join(', ');
  return `is not a known field (known: ${listed}${known.length > KNOWN_FIELDS_LISTED ? ', …' : ''})`;
}

/**
 * What each `pattern` of the request schemas means, in words: Ajv's own message quotes the regular
 * expression (`must match pattern "^[0-9]{1,6}$"`). Every pattern a route uses has one (a test
 * reads them all from the OpenAPI document); an unknown one still gets a sentence, and its pattern
 * in `details.pattern`.
 */
const PATTERN_MESSAGES: Record<string, string> = {
  [TEXT_PATTERN]: 'must not contain NUL characters or lone surrogates (text must be well-formed Unicode)',
  [NAME_PATTERN]:
    'must not contain control characters (U+0000 to U+001F, U+007F to U+009F: newlines, tabs, escapes) or lone surrogates, and must not be only whitespace',
  [DESCRIPTION_PATTERN]:
    'must not contain control characters other than line feeds and tabs (U+0000 to U+001F, U+007F to U+009F) or lone surrogates',
  [HEADER_NAME_PATTERN]: "must be an HTTP header name: 1 to 100 letters, digits or any of !#$%&'*+-.^_`|~",
  [pageQuery.limit.pattern]: 'must be an integer from 1 to 1000',
  [projectBody.properties.uid.pattern]:
    'must start with a letter or a digit, and hold only letters, digits, ".", "_" and "-"',
};

/** The readable message for a schema `pattern`; undefined for one PATTERN_MESSAGES does not know. */
export function patternMessage(pattern: string): string | undefined {
  return Object.hasOwn(PATTERN_MESSAGES, pattern) ? PATTERN_MESSAGES[pattern] : undefined;
}

/** Size and range limits in words (Ajv says `must NOT have more than 50 properties`). */
const LIMIT_MESSAGES: Record<string, (limit: number) => string> = {
  maxProperties: (n) => `must have at most ${counted(n, 'entries')}`,
  minProperties: (n) => `must have at least ${counted(n, 'entries')}`,
  maxItems: (n) => `must have at most ${counted(n, 'items')}`,
  minItems: (n) => `must have at least ${counted(n, 'items')}`,
  maxLength: (n) => `must be at most ${counted(n, 'characters')} long`,
  minLength: (n) => (n === 1 ? 'must not be empty' : `must be at least ${n} characters long`),
  maximum: (n) => `must be at most ${n}`,
  minimum: (n) => `must be at least ${n}`,
};

/** JSON types in words (Ajv says `must be array,null`). */
const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** `must be <types>` in words, from Ajv's `type` param (`"string"`, `["array", "null"]`, `"array,null"`). */
export function typeMessage(type: unknown): string | undefined {
  const names = Array.isArray(type) ? type : typeof type === 'string' ? type.split(',') : [];
  const words = names.map((name) => (typeof name === 'string' ? TYPE_WORDS[name] : undefined));
  if (words.length === 0 || words.some((w) => w === undefined)) return undefined;
  return `must be ${words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`}`;
}

/** A schema `enum`'s values as a message lists them: strings bare, anything else as JSON. */
const listValues = (values: unknown[]) =>
  values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');

/** The field a validation error is about, as a dotted path (`body.url`, `querystring.limit`). */
export function validationField(context: string, issue: AjvIssue | undefined): string {
  if (!issue) return context;
  const path = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
  const leaf = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  return [context, path, leaf].filter(Boolean).join('.');
}

/** The field, the message and any details of the first schema issue of a failed validation. */
export function validationWords(
  first: unknown,
  context: string | undefined,
): { field: string; message: string; details?: Record<string, unknown> } {
  const issue = first as AjvIssue | undefined;
  const field = validationField(context ?? 'body', issue);
  let message = issue?.message ?? 'is invalid';
  let details: Record<string, unknown> | undefined;
  if (issue?.params?.additionalProperty) message = unknownFieldMessage(issue);
  if (issue?.params?.missingProperty) message = 'is required';
  const { pattern, allowedValues } = issue?.params ?? {};
  if (issue?.keyword === 'type') message = typeMessage(issue.params?.type) ?? message;
  if (issue?.keyword === 'pattern' && typeof pattern === 'string') {
    const words = patternMessage(pattern);
    message = words ?? 'is not in the accepted format';
    if (!words) details = { pattern };
  }
  if (issue?.keyword === 'enum' && Array.isArray(allowedValues)) {
    message = `must be one of ${listValues(allowedValues)}`;
    details = { allowedValues };
  }
  const limit = issue?.params?.limit;
  const bound =
    typeof limit === 'number' && issue?.keyword ? LIMIT_MESSAGES[issue.keyword]?.(limit) : undefined;
  if (bound !== undefined) {
    message = bound;
    details = { limit };
  }
  return details ? { field, message, details } : { field, message };
}
