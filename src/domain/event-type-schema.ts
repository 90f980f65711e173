/**
 * Checks an event type's JSON Schema and its example against it, for the catalog (PUT
 * /api/v1/event-types/:name and `herald event-types import`). The schema stays documentation for
 * receivers: payloads are never checked against it. But a schema that is no JSON Schema, or an
 * example that does not match it, would show receivers (dashboard, test sends) something untrue.
 *
 * Drafts 2020-12 (also when `$schema` is absent), 2019-09, 07 and 06 are checked with Ajv; a schema
 * naming another draft is taken as it is. No `$ref` is fetched: one to another document is refused.
 *
 * This check is synchronous and may run without end (a `pattern` that backtracks on the example):
 * the API and the CLI run it in a child process with a time limit and a heap cap
 * (api/event-type-schema-check.ts).
 */
import { Ajv, type AnySchema, type ErrorObject } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** What is wrong, and with which of the two fields. */
export interface EventTypeSchemaProblem {
  field: 'schema' | 'example';
  message: string;
}

// allErrors: without it Ajv nests the code for each next keyword or property inside the last one's
// `if (valid)`, and V8 overflows its stack parsing an object schema of 2,000 properties (79 KiB,
// refused as "nested too deeply"; 1,000 took ~0.5 s of the time limit). With it the checks follow
// one another: 2,000 properties compile in ~0.14 s. The message still names the first error.
// code.optimize off: Ajv's passes over the generated code took most of the rest (2,000 properties:
// 0.27 s with them) and only make code that runs once here a little faster.
const OPTIONS = {
  strict: false,
  allErrors: true,
  validateFormats: false,
  code: { optimize: false },
} as const;
const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';
const DRAFT_2019 = 'https://json-schema.org/draft/2019-09/schema';

let validators: { v2020: Ajv2020; v2019: Ajv2019; v07: Ajv } | null = null;
/**
 * Schema text checked with `validators` so far. Ajv keeps every schema it compiled, and its
 * validation function, in the instance's code scope, and `removeSchema` does not take them out:
 * 5,000 checks of 5 KB schemas kept ~460 MB (17 times their text), in the API's check child as
 * long as PUTs keep it up, and in `herald event-types import` (830 MB resident for such a catalog).
 * Past this much text the instances are dropped and made anew (~15 ms), the first check after.
 */
let checkedChars = 0;
const FRESH_VALIDATORS_AFTER_CHARS = 1024 * 1024;

/**
 * The Ajv instance for the draft `$schema` names (drafts 06 and 07, over http or https, are checked
 * as draft-07, the meta-schema this Ajv holds); null for a draft not checked here. `schemaChars`
 * (the schema's JSON text) counts toward FRESH_VALIDATORS_AFTER_CHARS.
 */
function validatorFor(
  schema: Record<string, unknown>,
  schemaChars: number,
): { ajv: Ajv | Ajv2019 | Ajv2020; draft07: boolean } | null {
  if (checkedChars > FRESH_VALIDATORS_AFTER_CHARS) validators = null;
  if (!validators) {
    validators = { v2020: new Ajv2020(OPTIONS), v2019: new Ajv2019(OPTIONS), v07: new Ajv(OPTIONS) };
    checkedChars = 0;
  }
  checkedChars += schemaChars;
  const draft = typeof schema.$schema === 'string' ? schema.$schema.replace(/#$/, '') : DRAFT_2020;
  if (draft === DRAFT_2020) return { ajv: validators.v2020, draft07: false };
  if (draft === DRAFT_2019) return { ajv: validators.v2019, draft07: false };
  if (/^https?:\/\/json-schema\.org\/draft-0[67]\/schema$/.test(draft))
    return { ajv: validators.v07, draft07: true };
  return null;
}

/**
 * The problem with `schema` (as stored: an object, a boolean or null) and `example`, or null.
 * `compiled` is called once the schema is compiled, before the example is checked against it: what
 * runs past a time limit after that is the example's check (a pattern), before it the schema.
 */
export function eventTypeSchemaProblem(
  schema: unknown,
  example: unknown,
  compiled?: () => void,
): EventTypeSchemaProblem | null {
  if (schema === null || schema === undefined || schema === true) return null;
  if (schema === false) {
    return example === null || example === undefined
      ? null
      : { field: 'example', message: 'does not match the schema: the schema false matches nothing' };
  }
  // Numbers the API keeps exactly (json-text.ts: 18446744073709551615 as its digits) become plain
  // numbers for Ajv, which wants a number for `maximum` and compares the example's as numbers.
  const schemaText = JSON.stringify(schema);
  schema = JSON.parse(schemaText);
  example = plain(example);
  if (typeof schema !== 'object' || Array.isArray(schema)) {
    return { field: 'schema', message: 'must be a JSON Schema: an object or a boolean' };
  }
  const { $schema } = schema as Record<string, unknown>;
  if ($schema !== undefined && typeof $schema !== 'string') {
    return { field: 'schema', message: 'is not a valid JSON Schema: /$schema must be a string' };
  }
  const found = validatorFor(schema as Record<string, unknown>, schemaText.length);
  if (!found) return null;
  const { ajv } = found;
  // Its own copy without $id (a catalog has many schemas, and two with one $id would clash), and
  // for drafts 06 and 07 without $schema (Ajv knows draft-07's meta-schema by its http name only).
  const { $id: _id, ...rest } = schema as Record<string, unknown>;
  const own: Record<string, unknown> = { ...rest };
  if (found.draft07) delete own.$schema;
  try {
    if (!ajv.validateSchema(own as AnySchema)) {
      return { field: 'schema', message: `is not a valid JSON Schema: ${describe(ajv.errors)}` };
    }
    const validate = ajv.compile(own as AnySchema);
    compiled?.();
    if (example === null || example === undefined) {
      // Nothing to match, but a schema that refers to itself without end (`{"$ref": "#"}`)
      // throws on any value: null shows it without being able to loop in a pattern.
      validate(null);
      return null;
    }
    if (validate(example)) return null;
    return { field: 'example', message: `does not match the schema: ${describeExample(validate.errors)}` };
  } catch (error) {
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      return { field: 'schema', message: tooDeep(own) };
    }
    return { field: 'schema', message: `cannot be used: ${(error as Error).message}` };
  } finally {
    ajv.removeSchema(own as AnySchema); // Ajv keeps every compiled schema otherwise
  }
}

/**
 * What a stack overflow while compiling or checking means: a `$ref` that leads back to itself before
 * checking anything (`{"$ref": "#"}`, or `a` to `b` to `a`), or, without any `$ref`, a schema nested
 * deeper than the checker can follow.
 */
function tooDeep(schema: Record<string, unknown>): string {
  let text = '';
  try {
    text = JSON.stringify(schema);
  } catch {} // nested too deeply for JSON.stringify too
  return /"\$(ref|dynamicRef|recursiveRef)":/.test(text)
    ? 'cannot be used: it refers to itself without end (a $ref that leads back to itself before checking anything)'
    : 'cannot be used: it is nested too deeply to be checked';
}

/** `value` as plain JSON values: exactly kept numbers (raw JSON text) become numbers. */
function plain(value: unknown): unknown {
  return value === null || value === undefined ? value : JSON.parse(JSON.stringify(value));
}

/**
 * The example's first error, as where in the example, what, and the schema keyword that says so
 * (`example.items.0 must be integer (schema keyword #/properties/items/items/type)`). Where in the
 * example is a dotted path from `example`, as the API names fields: `describe`'s `#/type` for an
 * error at the example's root was the schema's path, read as if it were the example's.
 */
function describeExample(errors: ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  if (!first) return 'unknown error';
  // instancePath is a JSON Pointer: "" at the root, else "/" before each step, `~1` for "/", `~0` for "~".
  const steps = first.instancePath.split('/').slice(1);
  const where = ['example', ...steps.map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))].join('.');
  return `${where} ${first.message ?? 'is invalid'} (schema keyword ${first.schemaPath})`;
}

/** The schema's first error against its meta-schema, as `<where> <what>` (`/$schema must be string`). */
function describe(errors: ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  if (!first) return 'unknown error';
  const where = first.instancePath || first.schemaPath || '/';
  return `${where} ${first.message ?? 'is invalid'}`;
}
