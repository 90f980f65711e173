/**
 * The served OpenAPI document's schemas written as TypeScript types, so that tsc can hold
 * @herald/client's types against them (openapi-types.test.ts). `mode`: `answer` is what the server
 * sends (a schema without a type is any JSON, the client's `Json`), `input` what it accepts (any
 * value, `unknown`).
 */

export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
}

export type Mode = 'answer' | 'input';

/** `#/components/schemas/Name` resolved in `components`, other schemas as they are. */
export function resolve(schema: Schema, components: Record<string, Schema>): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const found = components[name];
  if (!found) throw new Error(`no component ${name}`);
  return resolve(found, components);
}

export function toTs(schema: Schema, components: Record<string, Schema>, mode: Mode): string {
  const s = resolve(schema, components);
  const bare = bareType(s, components, mode);
  return s.nullable && !s.enum?.includes(null) ? `(${bare} | null)` : bare;
}

function bareType(s: Schema, components: Record<string, Schema>, mode: Mode): string {
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return `(${variants.map((v) => toTs(v, components, mode)).join(' | ')})`;
  if (s.enum) return `(${s.enum.map((value) => JSON.stringify(value)).join(' | ')})`;
  const types = s.type === undefined ? [] : [s.type].flat();
  if (types.length === 0) return mode === 'answer' ? 'Json' : 'unknown';
  return `(${types.map((type) => oneType(type, s, components, mode)).join(' | ')})`;
}

function oneType(type: string, s: Schema, components: Record<string, Schema>, mode: Mode): string {
  switch (type) {
    case 'null':
      return 'null';
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `Array<${s.items ? toTs(s.items, components, mode) : 'unknown'}>`;
    case 'object': {
      const required = new Set(s.required ?? []);
      const fields = Object.entries(s.properties ?? {}).map(
        ([name, field]) =>
          `${JSON.stringify(name)}${required.has(name) ? '' : '?'}: ${toTs(field, components, mode)};`,
      );
      const extra = s.additionalProperties;
      // Any object, as the API takes it: one typed with an interface too.
      if (mode === 'input' && extra === undefined && fields.length === 0) return 'object';
      if (extra !== false && fields.length === 0) {
        const value =
          typeof extra === 'object' ? toTs(extra, components, mode) : mode === 'answer' ? 'Json' : 'unknown';
        fields.push(`[key: string]: ${value};`);
      }
      return `{ ${fields.join(' ')} }`;
    }
    default:
      throw new Error(`schema type ${type} not handled`);
  }
}

/**
 * Every object within `schema` that names its properties, with the steps that reach the same place
 * in a type of its shape (`["signature"]`, `["data"]` then `number`): tsc compares the property
 * names there. A union's variants are compared whole, not walked into.
 */
export function objectsWithin(
  schema: Schema,
  components: Record<string, Schema>,
  steps: string[] = [],
): { steps: string[]; keys: string[] }[] {
  const s = resolve(schema, components);
  const found: { steps: string[]; keys: string[] }[] = [];
  if (s.properties && Object.keys(s.properties).length > 0) {
    found.push({ steps, keys: Object.keys(s.properties) });
    for (const [name, field] of Object.entries(s.properties)) {
      found.push(...objectsWithin(field, components, [...steps, JSON.stringify(name)]));
    }
  }
  if (s.items) found.push(...objectsWithin(s.items, components, [...steps, 'number']));
  return found;
}

/**
 * The type expression that reaches `steps` within `type`, through null and undefined, and without
 * them at the end: an optional object (`requests?: {…}`) is `{…} | undefined` there, whose keys are
 * none, so its fields would be missing from it to one comparison and never extra to the other.
 */
export const reach = (type: string, steps: string[]): string =>
  `NonNullable<${steps.reduce((at, step) => `NonNullable<${at}>[${step}]`, type)}>`;
