/**
 * Checks a real response against what Herald's OpenAPI document says the operation answers for
 * that status, with Ajv. Strict: every object schema that lists properties and says nothing about
 * others is taken to allow no others, so a field the API sends and the document does not name fails
 * too (the document itself leaves them open: more fields may come).
 */
import assert from 'node:assert/strict';
import { Ajv, type ValidateFunction } from 'ajv';
import type { Schema } from './route-table.ts';

const BASE = 'https://herald.invalid/components/schemas/';
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A copy of `schema` with its component refs resolvable by Ajv, and closed objects. */
function prepare(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map(prepare);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref') {
      assert.match(String(value), /^#\/components\/schemas\/[A-Za-z]+$/, `unexpected $ref ${value}`);
      out.$ref = BASE + String(value).slice('#/components/schemas/'.length);
    } else if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, prepare(v)]));
    } else if (key === 'enum') out.enum = value;
    else out[key] = prepare(value);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export interface Answer {
  status: number;
  contentType: string | null;
  text: string;
}

export interface OpenApiValidator {
  /** The document's response object for an operation and status (refs followed); undefined if none. */
  response(method: string, path: string, status: number): Schema | undefined;
  /** Asserts the answer is what the document says `method path` answers with its status. */
  check(method: string, path: string, answer: Answer): void;
}

// biome-ignore lint/suspicious/noExplicitAny: the document is read loosely
export function openApiValidator(doc: any): OpenApiValidator {
  const ajv = new Ajv({ strict: true, allErrors: true });
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => ISO_TIME.test(s) && !Number.isNaN(Date.parse(s)),
  });
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    ajv.addSchema({ ...prepare(schema), $id: BASE + name });
  }
  const compiled = new Map<string, ValidateFunction>();

  const response = (method: string, path: string, status: number): Schema | undefined => {
    const operation = doc.paths[path]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${path} is not in the document`);
    let r = operation.responses[String(status)];
    if (r?.$ref) r = doc.components.responses[String(r.$ref).replace('#/components/responses/', '')];
    return r;
  };

  return {
    response,
    check(method, path, answer) {
      const what = `${method} ${path} → ${answer.status}`;
      const r = response(method, path, answer.status);
      assert.ok(r, `${what}: the document has no response for this status (${answer.text.slice(0, 300)})`);
      if (!r.content) {
        assert.equal(answer.text, '', `${what}: the document says no body`);
        return;
      }
      const mediaType = answer.contentType?.split(';')[0]?.trim() ?? '';
      const media = r.content[mediaType];
      assert.ok(media?.schema, `${what}: no schema for ${mediaType} (documented: ${Object.keys(r.content)})`);
      const key = `${what} ${mediaType}`;
      let validate = compiled.get(key);
      if (!validate) {
        validate = ajv.compile(prepare(media.schema));
        compiled.set(key, validate);
      }
      const body = mediaType === 'application/json' ? JSON.parse(answer.text) : answer.text;
      assert.ok(
        validate(body),
        `${what}: ${ajv.errorsText(validate.errors, { separator: '\n' })}\n${answer.text.slice(0, 2000)}`,
      );
    },
  };
}
