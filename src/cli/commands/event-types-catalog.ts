/**
 * `herald event-types import FILE`: a catalog file read, checked with the API's rules and
 * upserted into the store. Loaded by event-types-import.ts only when an import runs.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../api/body-parsers.ts';
import {
  EVENT_TYPE_PUT_ATTEMPTS,
  pairWith,
  upsertEventTypeChecked,
} from '../../api/event-type-checked-write.ts';
import { createEventTypeSchemaChecker } from '../../api/event-type-schema-check.ts';
import { DESCRIPTION_PATTERN, LIMITS, NAME_PATTERN } from '../../api/schemas/common.ts';
import { patternMessage } from '../../api/validation-words.ts';
import { type ConfigFlags, loadConfig } from '../../config/load-config.ts';
import { eventTypeNameProblem } from '../../domain/event-type-name.ts';
import type { Json } from '../../domain/types.ts';
import { openStore } from '../../store/open-store.ts';
import { DatabaseInUseError, type ServingLock, takeServingLock } from '../../store/sqlite/serving-lock.ts';
import type { EventTypeInput, Store } from '../../store/store.ts';
import { cliIo } from '../cli-io.ts';
import { readTextFile } from '../read-text-file.ts';
import { CommandError } from '../run-command.ts';
import { visible } from '../terminal-text.ts';

/** How the entries' schemas are checked: the wall-clock bound of each (HERALD_SCHEMA_CHECK_WALL_MS). */
type SchemaChecks = { wallMs?: number };

/** Reads, checks and stores the catalog in `file`; says how many event types it imported. */
export async function importCatalog(file: string, flags: Pick<ConfigFlags, 'database' | 'dataDir'>) {
  const config = loadConfig({ flags, resolveAdminToken: false, env: cliIo().env });
  const checks = { wallMs: config.schemaCheckWallMs };
  const inputs = await parseCatalog(readTextFile(file, 'import', file), file, checks);
  // The default ./herald-data is where this shell stands: run elsewhere than serve (a subdirectory,
  // another terminal), the import made a new database there and said it imported, and the running
  // Herald never saw a type of it. Into a new database, then, only when its place is named.
  const defaultFile = resolve(config.databaseUrl.slice('sqlite:'.length));
  if (!config.databasePlaceGiven && !existsSync(defaultFile)) {
    throw new CommandError(
      `there is no database at ${defaultFile}, the default place (./herald-data in the current directory): run the import where herald serve runs, or name its database with --data-dir DIR or --database URL (or HERALD_DATA_DIR, HERALD_DATABASE_URL); nothing was imported`,
    );
  }
  // An import writes beside a running serve, but the open's migrations may not run under it: the
  // process serving a SQLite file (an older version, in an upgrade) would go on on a schema it was
  // not written for. Held while the store opens, when no process serves the file.
  const serving: { lock: ServingLock | null; served: boolean } = { lock: null, served: false };
  const store = await openStore(config.databaseUrl, {
    dataDir: config.dataDir,
    encryptionKey: config.encryptionKey,
    firstInProcess: true,
    beforeOpen: (file) => {
      try {
        serving.lock = takeServingLock(file);
      } catch (error) {
        if (!(error instanceof DatabaseInUseError)) throw error;
        serving.served = true;
      }
    },
    onMigrationApplying: (migration) => {
      if (!serving.served) return;
      throw new CommandError(
        `the database lacks migration ${migration} of this version, and a Herald process serves it (an older version): start this version's serve on it first (or stop that one and run herald migrate); nothing was imported`,
      );
    },
  }).finally(() => serving.lock?.release());
  try {
    await storeCatalog(store, inputs, file, checks);
  } finally {
    await store.close();
  }
  // A status line, on stderr as every `herald:` line (docs/cli.md): stdout holds output only.
  const count = `${inputs.length} event type${inputs.length === 1 ? '' : 's'}`;
  cliIo().stderr.write(`herald: imported ${count} from ${visible(file)}\n`);
}

/**
 * Writes checked `inputs` (parseCatalog). An entry that gives one of schema and example is checked
 * against the stored other first, all before anything is written, and written only if that is still
 * the value checked, as a PUT is (upsertEventTypeChecked): another writer may change it meanwhile.
 */
export async function storeCatalog(
  store: Store,
  inputs: EventTypeInput[],
  file: string,
  checks: SchemaChecks = {},
): Promise<void> {
  const halves = inputs.flatMap((input, index) =>
    (input.schema === undefined) === (input.example === undefined) ? [] : [{ input, index }],
  );
  const schemas = createEventTypeSchemaChecker(checks);
  try {
    const check = async (
      { input, index }: (typeof halves)[number],
      schema: Json | null,
      example: Json | null,
    ) => {
      const problem = await schemas.check(schema, example);
      if (!problem) return;
      // As PUT names them: the field given, or the stored one when that is what is wrong.
      const at = `${file}: eventTypes[${index}] (${input.name})`;
      const gave = input.schema !== undefined ? 'schema' : 'example';
      if (problem.field === gave) {
        const against = gave === 'example' ? 'against the stored schema: ' : '';
        throw new CommandError(`${at}.${gave}: ${against}${problem.message}`);
      }
      const stored = gave === 'schema' ? 'the stored example' : 'the stored schema:';
      throw new CommandError(`${at}.${gave}: ${stored} ${problem.message}`);
    };
    for (const half of halves) {
      await check(half, ...pairWith(half.input, await store.getEventType(half.input.name)));
    }
    const now = Date.now();
    for (const [index, input] of inputs.entries()) {
      if ((input.schema === undefined) === (input.example === undefined)) {
        await store.upsertEventType(input, now);
        continue;
      }
      const written = await upsertEventTypeChecked(store, input, (schema, example) =>
        check({ input, index }, schema, example),
      );
      if (!written) {
        throw new CommandError(
          `${file}: eventTypes[${index}] (${input.name}): its stored ${input.example === undefined ? 'example' : 'schema'} changed ${EVENT_TYPE_PUT_ATTEMPTS} times while this entry was checked against it (another writer); the entries before it were imported: run the import again`,
        );
      }
    }
  } finally {
    await schemas.close();
  }
}

/**
 * The event types of a catalog file; rejects naming the file and the entry when one is malformed.
 * Each schema and example is checked on a thread of its own, with the API's time limit.
 */
export async function parseCatalog(
  text: string,
  file: string,
  checks: SchemaChecks = {},
): Promise<EventTypeInput[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new CommandError(`${file} is not valid JSON`, { cause });
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    // A misspelt key (`evenTypes`, `eventtypes`) was skipped, its entries with it, without a word.
    const unknownKey = Object.keys(parsed).find((key) => !CATALOG_KEYS.has(key));
    if (unknownKey !== undefined) {
      throw new CommandError(
        `${file}: unknown top-level key ${JSON.stringify(unknownKey)}: a catalog holds "eventTypes" (and may hold notes for people in ${CATALOG_NOTES.map((key) => `"${key}"`).join(', ')})`,
      );
    }
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { eventTypes?: unknown } | null)?.eventTypes;
  if (!Array.isArray(list))
    throw new CommandError(`${file}: expected {"eventTypes": [...]} or an array of event types`);
  const inputs = list.map((entry: unknown, index) =>
    toEventTypeInput(entry, `${file}: eventTypes[${index}]`),
  );
  // One type given twice: the later entry silently replaced the earlier, and the count printed
  // (`imported 2 event types`) was of entries, not of types. Which one was meant is the author's call.
  const first = new Map<string, number>();
  for (const [index, { name }] of inputs.entries()) {
    const earlier = first.get(name);
    if (earlier !== undefined) {
      throw new CommandError(
        `${file}: eventTypes[${index}] (${name}).name: eventTypes[${earlier}] has that name too; give each event type once`,
      );
    }
    first.set(name, index);
  }
  const schemas = createEventTypeSchemaChecker(checks);
  try {
    for (const [index, input] of inputs.entries()) {
      const problem = await schemas.check(input.schema, input.example);
      if (problem) {
        throw new CommandError(
          `${file}: eventTypes[${index}] (${input.name}).${problem.field}: ${problem.message}`,
        );
      }
    }
  } finally {
    await schemas.close();
  }
  return inputs;
}

/** What the catalogs in examples/catalogs/ say about their service, for people: not read. */
const CATALOG_NOTES = ['service', 'description', 'eventNames', 'recommendedEndpoint'];
const CATALOG_KEYS = new Set(['eventTypes', ...CATALOG_NOTES]);
const ALLOWED_KEYS = new Set(['name', 'description', 'schema', 'example', 'deprecated']);
// As Ajv compiles the API's patterns: with the `u` flag, so a surrogate pair is one character.
const NAME = new RegExp(NAME_PATTERN, 'u');
const DESCRIPTION = new RegExp(DESCRIPTION_PATTERN, 'u');

/**
 * One catalog entry, checked with the same rules (and limits) as the body of
 * `PUT /api/v1/event-types/:name` (src/api/schemas.ts `eventTypeBody`), so a file imports exactly
 * when the same entries would be accepted over the API (its schema and example: parseCatalog).
 */
function toEventTypeInput(entry: unknown, where: string): EventTypeInput {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new CommandError(`${where}: expected an object`);
  }
  const record = entry as Record<string, unknown>;
  const unknownKey = Object.keys(record).find((key) => !ALLOWED_KEYS.has(key));
  if (unknownKey !== undefined) throw new CommandError(`${where}: unknown field "${unknownKey}"`);
  const { name, description, schema, example, deprecated } = record;
  if (typeof name !== 'string' || name.length === 0 || name.length > LIMITS.nameLength) {
    throw new CommandError(`${where}.name: expected a string of 1 to ${LIMITS.nameLength} characters`);
  }
  // The name is not quoted in `where` until it is known to hold no control characters.
  if (!NAME.test(name)) throw new CommandError(`${where}.name: ${patternMessage(NAME_PATTERN)}`);
  const notAName = eventTypeNameProblem(name);
  if (notAName) {
    throw new CommandError(`${where}.name: ${JSON.stringify(name)} is not an event-type name: ${notAName}`);
  }
  const at = `${where} (${name})`;
  if (
    description !== undefined &&
    (typeof description !== 'string' || codePoints(description) > LIMITS.descriptionLength)
  ) {
    throw new CommandError(
      `${at}.description: expected a string of at most ${LIMITS.descriptionLength} characters`,
    );
  }
  if (description !== undefined && !DESCRIPTION.test(description)) {
    throw new CommandError(`${at}.description: ${patternMessage(DESCRIPTION_PATTERN)}`);
  }
  if (schema !== undefined && schema !== null && typeof schema !== 'boolean' && !isPlainObject(schema)) {
    throw new CommandError(`${at}.schema: expected a JSON Schema (an object or a boolean) or null`);
  }
  for (const [field, value] of [
    ['schema', schema],
    ['example', example],
  ] as const) {
    const problem = jsonValueProblem(value);
    if (problem) throw new CommandError(`${at}.${field}: ${problem}`);
  }
  if (deprecated !== undefined && typeof deprecated !== 'boolean') {
    throw new CommandError(`${at}.deprecated: expected true or false`);
  }
  const input: EventTypeInput = { name };
  if (description !== undefined) input.description = description as string;
  if (schema !== undefined) input.schema = schema as Json;
  if (example !== undefined) input.example = example as Json;
  if (deprecated !== undefined) input.deprecated = deprecated as boolean;
  return input;
}

/** A length as the API's schemas count it (Ajv's maxLength): an emoji, two UTF-16 units, is one character. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What the API's body parser refuses in a schema or an example, which `PUT` sends as a field of its
 * body (docs/api.md "Limits"): nesting past what the body leaves it, and a `__proto__` key, or a
 * `constructor` key holding `prototype`, which JSON.parse keeps as own keys and an object copied
 * from the value would take as its prototype.
 */
function jsonValueProblem(value: unknown): string | null {
  if (value === undefined || value === null || typeof value !== 'object') return null;
  const max = MAX_JSON_DEPTH - 1; // the body itself is one level
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    text = ''; // nested too deeply for JSON.stringify: JSON.parse goes deeper
  }
  if (text === '' || nestsDeeperThan(text, max))
    return `must not nest objects and arrays more than ${max} deep`;
  // At most `max` deep now: the walk's recursion is bounded.
  const prototypeKey = (v: unknown): boolean =>
    typeof v === 'object' &&
    v !== null &&
    Object.entries(v).some(
      ([key, inner]) =>
        key === '__proto__' ||
        (key === 'constructor' && typeof inner === 'object' && inner !== null && 'prototype' in inner) ||
        prototypeKey(inner),
    );
  return prototypeKey(value)
    ? 'must not hold a "__proto__" key, or a "constructor" key holding "prototype", anywhere (they could change the prototypes of objects made from it)'
    : null;
}
