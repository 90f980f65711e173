/**
 * How large a JSON Schema is for Ajv to compile, counted before Ajv sees it: the keywords of its
 * subschemas, each local `$ref` counting the keywords of what it names. Ajv generates code for each
 * keyword, and copies the code of a subschema into every place a `$ref` names it from: with this
 * repository's options its heap in the check's child process grows ~7-9 KB per keyword compiled
 * (measured 2026-12-06: a flat object of 2,000 properties, 4,002 keywords, fits a 32 MiB heap; one
 * of 714 properties with 7 keywords each, 5,001, needs 40-48 MiB; 1,250 such properties more than 64
 * MiB; 20,000 `$ref`s to one of 500 properties, hundreds of MiB). The child has a heap cap, at which
 * V8 ends the child only; a schema past SCHEMA_MAX_KEYWORDS is refused before it is compiled all
 * the same, because that answer takes milliseconds, where compiling it would take the child's whole
 * time limit or heap and then a new child's start. The child counts, within the check's time limit:
 * a body of 1 MiB of `$ref`s takes a few hundred ms to count (bench/schema-count.ts), which on the
 * API's thread held every other request that long. (Before the child, a worker thread's heap cap was
 * all there was, and V8 could not always stop a thread at it: inside a `JSON.stringify` it ended the
 * whole process. The count does not bound a schema's size by itself: a few `$ref`s to a large
 * `const` make code of tens of MiB, which the child's cap stops.)
 */

/** Past this many keywords (its `$ref`s counted as what they name) a schema is not checked. */
export const SCHEMA_MAX_KEYWORDS = 4_500;

/** Keywords Ajv generates no code for: annotations, and `$defs`, compiled only where a `$ref` names them. */
const NO_CODE = new Set([
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$comment',
  '$vocabulary',
  '$defs',
  'definitions',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'format',
  'contentMediaType',
  'contentEncoding',
  'contentSchema',
]);

/** Keywords whose value is one schema. */
const ONE = [
  'not',
  'if',
  'then',
  'else',
  'items',
  'additionalItems',
  'contains',
  'additionalProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
];
/** Keywords whose value is an array of schemas (`items` too, before draft 2020-12). */
const MANY = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
/** Keywords whose value maps names to schemas (`dependencies` to lists of names too). */
const BY_NAME = [
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
];
const REFS = ['$ref', '$dynamicRef', '$recursiveRef'];
/** Keys under which a node may hold a subschema or a `$ref`: a node with none of them is a leaf. */
const INNER = new Set([...ONE, ...MANY, ...BY_NAME, ...REFS]);
/** Whether `node` holds no subschema and no `$ref`: counted at once, without a walk of its own. */
const isLeaf = (node: Node) => {
  for (const key of Object.keys(node)) if (INNER.has(key)) return false;
  return true;
};
/** The keywords of `node` itself that Ajv generates code for. */
const ownKeywords = (node: Node) => {
  let total = 0;
  for (const key of Object.keys(node)) if (!NO_CODE.has(key)) total += 1;
  return total;
};

type Node = Record<string, unknown>;
/** A node being counted: yields the counting of a node under it, is sent its count, returns its own. */
type Counting = Generator<Counting, number, number>;
const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The subschemas of `node` directly under it (under `$defs` too when `all`). */
function children(node: Node, all: boolean): unknown[] {
  const found: unknown[] = [];
  for (const key of ONE) if (isNode(node[key]) || typeof node[key] === 'boolean') found.push(node[key]);
  // One by one: spread into push, an `allOf` of 200,000 `true`s (1 MiB) ran the stack out.
  for (const key of MANY)
    if (Array.isArray(node[key])) for (const value of node[key] as unknown[]) found.push(value);
  for (const key of BY_NAME) {
    if (!all && (key === '$defs' || key === 'definitions')) continue;
    const map = node[key];
    if (isNode(map)) for (const value of Object.values(map)) if (!Array.isArray(value)) found.push(value);
  }
  return found.filter((value) => isNode(value) || typeof value === 'boolean');
}

const ROOT = 'herald:/schema';

/** Every schema resource (by `$id`, resolved) and anchor of `schema`, and the base URI of each node. */
function index(schema: Node): { byUri: Map<string, Node>; baseOf: Map<Node, string> } {
  const byUri = new Map<string, Node>([[ROOT, schema]]);
  const baseOf = new Map<Node, string>();
  const walk = (node: unknown, base: string) => {
    if (!isNode(node) || baseOf.has(node)) return;
    let own = base;
    if (typeof node.$id === 'string' && node !== schema) {
      const uri = resolve(node.$id, base);
      if (uri !== null) {
        if (node.$id.startsWith('#'))
          byUri.set(uri, node); // draft 06/07: an anchor
        else {
          own = uri.replace(/#.*$/, '');
          byUri.set(own, node);
        }
      }
    }
    baseOf.set(node, own);
    for (const key of ['$anchor', '$dynamicAnchor']) {
      if (typeof node[key] === 'string') byUri.set(`${own}#${node[key]}`, node);
    }
    if (isLeaf(node)) return;
    for (const child of children(node, true)) walk(child, own);
  };
  walk(schema, ROOT);
  return { byUri, baseOf };
}

function resolve(ref: string, base: string): string | null {
  try {
    return new URL(ref, base).href;
  } catch {
    return null;
  }
}

/** `text` percent-decoded; null when it is not percent-encoding (a `%` not before two hex digits, or not UTF-8). */
function decoded(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** What `ref` names, from a node of base URI `base`: null when it is not in this schema. */
function target(ref: string, base: string, byUri: Map<string, Node>): unknown {
  const uri = resolve(ref, base);
  if (uri === null) return null;
  const hash = uri.indexOf('#');
  const resource = hash < 0 ? uri : uri.slice(0, hash);
  const fragment = hash < 0 ? '' : decoded(uri.slice(hash + 1));
  // Not percent-encoding (`#/%`): names nothing here; Ajv refuses it. Decoded, it threw: a 500.
  if (fragment === null) return null;
  if (fragment && !fragment.startsWith('/')) return byUri.get(`${resource}#${fragment}`) ?? null;
  let node: unknown = byUri.get(resource) ?? null;
  if (!fragment) return node;
  for (const step of fragment.slice(1).split('/')) {
    const key = step.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Whether `value` holds a `$ref` anywhere (as Ajv tells which subschemas to copy in at a `$ref`),
 * remembered in `known`: 20,000 `$ref`s may name one subschema of thousands of keywords.
 */
function hasRef(value: unknown, known: Map<object, boolean>): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const remembered = known.get(value);
  if (remembered !== undefined) return remembered;
  let found = false;
  if (Array.isArray(value)) found = value.some((inner) => hasRef(inner, known));
  else {
    for (const [key, inner] of Object.entries(value)) {
      found =
        REFS.includes(key) || key === '$dynamicAnchor' || key === '$recursiveAnchor' || hasRef(inner, known);
      if (found) break;
    }
  }
  known.set(value, found);
  return found;
}

/**
 * The number of keywords Ajv compiles for `schema`: those of each subschema, not under `$defs`, a
 * local `$ref` (also `$dynamicRef`, `$recursiveRef`) adding those of what it names: at each `$ref`
 * when that holds no `$ref` itself (Ajv copies its code in), else once (Ajv compiles it as a
 * function of its own). A `$ref` that leads back into a subschema being counted adds nothing more
 * (a cycle is counted once); one to another document, which the check refuses anyway, adds nothing.
 */
export function schemaKeywordCount(schema: unknown): number {
  if (!isNode(schema)) return 1;
  const { byUri, baseOf } = index(schema);
  const counted = new Map<unknown, number>();
  const counting = new Set<unknown>();
  const compiled = new Set<unknown>([schema]);
  const refs = new Map<object, boolean>();
  const named = new Map<string, unknown>(); // what each $ref names, by base URI and $ref
  /** A node's count at once (not a schema, counted already, or in a cycle), else its counting. */
  const enter = (node: unknown): number | Counting => {
    if (!isNode(node)) return 1;
    const known = counted.get(node);
    if (known !== undefined) return known;
    if (counting.has(node)) return 0;
    // Most nodes of a large schema (`{"type": "string"}`, `{}`): no generator, no list of children.
    if (isLeaf(node)) {
      const own = ownKeywords(node);
      counted.set(node, own);
      return own;
    }
    counting.add(node);
    return countOf(node);
  };
  /** Counts `node`: a subschema or $ref target known at once is added here, another's counting yielded, its count sent back. */
  function* countOf(node: Node): Counting {
    let total = ownKeywords(node);
    const base = baseOf.get(node) ?? ROOT;
    for (const key of REFS) {
      if (typeof node[key] !== 'string') continue;
      const ref = `${base} ${node[key]}`;
      if (!named.has(ref)) named.set(ref, target(node[key] as string, base, byUri));
      const to = named.get(ref);
      if (to === null || to === undefined) continue;
      // Copied in at each $ref when it holds none; else a function of its own, compiled once and
      // called from each $ref.
      if (hasRef(to, refs)) {
        if (compiled.has(to)) continue;
        compiled.add(to);
      }
      const inner = enter(to);
      total += typeof inner === 'number' ? inner : yield inner;
    }
    for (const child of children(node, false)) {
      const inner = enter(child);
      total += typeof inner === 'number' ? inner : yield inner;
    }
    counting.delete(node);
    counted.set(node, total);
    return total;
  }
  // Depth first, on a stack of its own: a chain of $refs each to the next is as deep as it is
  // long, and counted by recursion, 10,000 links (330 KB) ran the thread's stack out (a 500).
  const started = enter(schema);
  if (typeof started === 'number') return started;
  const stack: Counting[] = [started];
  let step = started.next(0);
  for (;;) {
    if (step.done) {
      stack.pop();
      const below = stack.at(-1);
      if (below === undefined) return step.value;
      step = below.next(step.value);
      continue;
    }
    stack.push(step.value);
    step = step.value.next(0);
  }
}

/** The problem with a schema too large to check, or null. */
export function schemaSizeProblem(schema: unknown, max = SCHEMA_MAX_KEYWORDS): string | null {
  const n = schemaKeywordCount(schema);
  return n > max
    ? `the schema has ${n} keywords (its $refs counted as what they name): more than ${max} are too large to check; send one of fewer keywords (fewer properties or subschemas, or $refs to smaller ones)`
    : null;
}
