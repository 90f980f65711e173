/**
 * The catalog's schemas are documentation, but true documentation: PUT refuses a schema that is no
 * JSON Schema (400) and an example that does not match its schema (422), also when one of the two
 * is already stored; `herald event-types import` refuses the same entries. Payloads are not checked.
 * The check runs off the API's thread with a time limit (a pattern may backtrack without end).
 */
import assert from 'node:assert/strict';
import { execFileSync, fork, spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childCpuMicros } from '../../src/api/child-cpu-time.ts';
import { SCHEMA_CHECK_BUSY_RETRY_AFTER_S } from '../../src/api/errors.ts';
import {
  createEventTypeSchemaChecker,
  SCHEMA_CHECK_HEAP_MB,
  SCHEMA_CHECK_TIMEOUT_MS,
  WHY_CHECKING_SLOW,
} from '../../src/api/event-type-schema-check.ts';
import { parseCatalog } from '../../src/cli/commands/event-types-catalog.ts';
import { SCHEMA_MAX_KEYWORDS } from '../../src/domain/schema-size.ts';
import { ADMIN, assertError, startApi, type TestApi } from './helpers.ts';

const PURCHASE = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['amount'],
  properties: { amount: { type: 'number' } },
};

/**
 * The wall-clock bound the checks below are given (HERALD_SCHEMA_CHECK_WALL_MS). The default, ten
 * times the CPU limit, needs a tenth of a core for the check's child: on a loaded 2-core machine
 * (a dozen busy processes beside it in its session) it got 2.5-5 %, and checks that use their CPU
 * limit, or half of it, were answered busy instead (5 of this file's tests failed so). These tests
 * are about the CPU limit; the wall bound has tests of its own, with the child held (SIGSTOP).
 */
const LOADED_WALL_MS = 120_000;
const LOADED = { wallMs: LOADED_WALL_MS };

describe('event type schemas', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi({ schemaCheckWallMs: LOADED_WALL_MS });
  });
  after(() => api.close());
  const put = (name: string, body: unknown) => api.call('PUT', `/api/v1/event-types/${name}`, body);

  test('a schema that is no JSON Schema is 400 naming body.schema', async () => {
    const bad = await put('bad.schema', { schema: { type: 'nonsense' } });
    assert.match(
      assertError(bad, 400, 'HERALD_ERR_VALIDATION', 'body.schema').message,
      /not a valid JSON Schema/,
    );
    const remote = await put('remote.ref', { schema: { $ref: 'https://schemas.example/x.json' } });
    assertError(remote, 400, 'HERALD_ERR_VALIDATION', 'body.schema');
    assert.equal((await api.call('GET', '/api/v1/event-types/bad.schema')).status, 404, 'nothing stored');
  });

  test('an example that does not match its schema is 422 naming body.example, with where and why', async () => {
    const r = await put('purchase', { schema: PURCHASE, example: { amount: 'ten' } });
    assert.equal(
      assertError(r, 422, 'HERALD_ERR_UNPROCESSABLE', 'body.example').message,
      'body.example: does not match the schema: example.amount must be number (schema keyword #/properties/amount/type)',
    );
    assert.equal((await put('purchase', { schema: PURCHASE, example: { amount: 10 } })).status, 200);
  });

  test('an example refused at its root or deep inside names where in the example and the schema keyword, never the schema path alone', async () => {
    // At the root the message read "#/type must be integer": the schema's path, as if the example's.
    const root = await put('root', { schema: { type: 'integer' }, example: 'x' });
    assert.equal(
      assertError(root, 422, 'HERALD_ERR_UNPROCESSABLE', 'body.example').message,
      'body.example: does not match the schema: example must be integer (schema keyword #/type)',
    );
    const items = { type: 'object', properties: { items: { type: 'array', items: { type: 'integer' } } } };
    const deep = await put('deep', { schema: items, example: { items: [1, 'two'] } });
    assert.equal(
      assertError(deep, 422, 'HERALD_ERR_UNPROCESSABLE', 'body.example').message,
      'body.example: does not match the schema: example.items.1 must be integer (schema keyword #/properties/items/items/type)',
    );
    // A new schema the stored example does not match says the same of the stored example.
    assert.equal((await put('root', { example: 'x' })).status, 200);
    assert.equal(
      assertError(await put('root', { schema: { type: 'integer' } }), 422, undefined, 'body.schema').message,
      'body.schema: the stored example does not match the schema: example must be integer (schema keyword #/type)',
    );
  });

  test('a field left out keeps its stored value, which the new one must agree with', async () => {
    assert.equal((await put('kept', { schema: PURCHASE, example: { amount: 1 } })).status, 200);
    assertError(await put('kept', { example: { amount: 'x' } }), 422, undefined, 'body.example');
    const schema = { ...PURCHASE, properties: { amount: { type: 'string' } } };
    const r = await put('kept', { schema });
    assert.match(assertError(r, 422, undefined, 'body.schema').message, /stored example/);
    const stored = await api.call('GET', '/api/v1/event-types/kept');
    assert.deepEqual(stored.body.example, { amount: 1 }, 'unchanged');
  });

  test('draft-06 and draft-07 named over http or https are checked, never a 500; a $schema that is no string is 400', async () => {
    for (const draft of [
      'http://json-schema.org/draft-06/schema#',
      'https://json-schema.org/draft-07/schema#',
      'http://json-schema.org/draft-07/schema#',
    ]) {
      const ok = await put('drafts', { schema: { ...PURCHASE, $schema: draft }, example: { amount: 1 } });
      assert.equal(ok.status, 200, `${draft}: ${JSON.stringify(ok.body)}`);
      const bad = await put('drafts', { schema: { $schema: draft, type: 'nonsense' } });
      assertError(bad, 400, 'HERALD_ERR_VALIDATION', 'body.schema');
    }
    assertError(await put('number', { schema: { $schema: 5 } }), 400, 'HERALD_ERR_VALIDATION', 'body.schema');
    assertError(
      await put('never', { schema: false, example: 1 }),
      422,
      'HERALD_ERR_UNPROCESSABLE',
      'body.example',
    );
  });

  test('schemas of other drafts, boolean schemas and no schema are accepted; payloads are not checked', async () => {
    const draft4 = { $schema: 'http://json-schema.org/draft-04/schema#', type: 'nonsense' };
    assert.equal((await put('draft4', { schema: draft4, example: 1 })).status, 200);
    assert.equal(
      (await put('draft7', { schema: { ...PURCHASE, $schema: 'http://json-schema.org/draft-07/schema#' } }))
        .status,
      200,
    );
    assert.equal((await put('yes', { schema: true, example: 'x' })).status, 200);
    assert.equal((await put('plain', { example: { any: 'thing' } })).status, 200);
    const project = await api.project('payloads');
    const sent = await api.call('POST', `/api/v1/projects/${project.id}/events`, {
      type: 'purchase',
      payload: { amount: 'not checked' },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
  });

  test('a schema that refers to itself without end is 400 naming body.schema, saying so', async () => {
    for (const body of [
      { schema: { $ref: '#' }, example: 1 },
      { schema: { $ref: '#' } },
      { schema: { $ref: '#/$defs/a', $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } } } },
    ]) {
      const r = await put('self', body);
      assert.match(
        assertError(r, 400, 'HERALD_ERR_VALIDATION', 'body.schema').message,
        /refers to itself without end/,
        JSON.stringify(body),
      );
    }
    const tree = { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } };
    const nested = { children: [{ children: [] }] };
    assert.equal(
      (await put('tree', { schema: tree, example: nested })).status,
      200,
      'recursion into the data is fine',
    );
  });

  test('a $ref whose fragment is no percent-encoding is 400 naming body.schema, never a 500', async () => {
    // The keyword count (schema-size.ts) decoded the fragment before Ajv saw it, and threw.
    for (const ref of ['#/%', '#/%zz', '#%E0%A4']) {
      const r = await put('bad.fragment', { schema: { $ref: ref } });
      assertError(r, 400, 'HERALD_ERR_VALIDATION', 'body.schema');
    }
    assert.equal((await api.call('GET', '/api/v1/event-types/bad.fragment')).status, 404, 'nothing stored');
  });

  test('a chain of 10,000 $refs, each to the next (330 KB), is 400 naming body.schema, never a 500', async () => {
    // The keyword count (schema-size.ts) followed each $ref by recursion: past ~5,000 links the
    // stack ran out (RangeError) on the API's thread.
    const $defs: Record<string, unknown> = { a10000: { type: 'string' } };
    for (let i = 0; i < 10_000; i++) $defs[`a${i}`] = { $ref: `#/$defs/a${i + 1}` };
    const r = await put('ref.chain', { schema: { $defs, $ref: '#/$defs/a0' } });
    assert.match(
      assertError(r, 400, 'HERALD_ERR_VALIDATION', 'body.schema').message,
      /^body\.schema: the schema has 10002 keywords/,
    );
  });

  test('a flat object schema of 2,000 properties is accepted, not taken for one nested too deeply', async () => {
    // Ajv nests the code of each next property in the last one's `if (valid)` unless it checks for
    // all errors: V8's parser then overflows its stack on 2,000 properties of one object (79 KiB).
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 2000; i++) properties[`field${i}`] = { type: 'string', maxLength: 10 };
    const schema = { type: 'object', properties };
    const r = await put('wide', { schema, example: { field0: 'a', field1999: 'b' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const bad = await put('wide', { example: { field1999: 'much too long' } });
    assert.match(
      assertError(bad, 422, 'HERALD_ERR_UNPROCESSABLE', 'body.example').message,
      /example\.field1999 must NOT have more than 10 characters \(schema keyword #\/properties\/field1999\/maxLength\)/,
    );
  });

  test('a pattern that backtracks without end on the example is 400 naming body.schema after the time limit, and the API answers other requests meanwhile', async () => {
    const base = await api.app.listen({ port: 0, host: '127.0.0.1' });
    const request = (method: string, path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    // The checking child is up (earlier tests started it), so the whole limit goes to the pattern.
    assert.equal((await request('PUT', '/api/v1/event-types/warm', { schema: PURCHASE })).status, 200);
    // 27 'a's and a '!': ~2^27 steps, seconds on the API's thread without the time limit (40 would be hours).
    const redos = { schema: { type: 'string', pattern: '^(a+)+$' }, example: `${'a'.repeat(27)}!` };
    const started = performance.now();
    const answers = [
      request('PUT', '/api/v1/event-types/redos', redos),
      request('PUT', '/api/v1/event-types/redos2', redos),
    ];
    for (const wait of [100, 300, 600]) {
      await new Promise((resolve) => setTimeout(resolve, wait - (performance.now() - started)));
      const asked = performance.now();
      const health = await request('GET', '/healthz').catch((error: Error) => error);
      const took = performance.now() - asked;
      assert.ok(took < 500, `GET /healthz took ${Math.round(took)} ms while a schema was checked`);
      assert.equal(health instanceof Response ? health.status : health, 200);
    }
    for (const answer of answers) {
      const r = await answer;
      const error = assertError(
        { status: r.status, body: await r.json(), headers: {} },
        400,
        'HERALD_ERR_VALIDATION',
        'body.schema',
      );
      assert.equal(
        error.message,
        `body.schema: checking the example against the schema took longer than ${SCHEMA_CHECK_TIMEOUT_MS} ms: ${WHY_CHECKING_SLOW}`,
      );
    }
    // Each was ended once it had used its CPU time (the message says so), which a busy machine
    // gives it more slowly: within the wall-clock bound, at the latest.
    const took = performance.now() - started;
    const bound = 2 * LOADED_WALL_MS;
    assert.ok(took < bound, `two checks answered in ${Math.round(took)} ms`);
    assert.equal((await api.call('GET', '/api/v1/event-types/redos')).status, 404, 'nothing stored');
    // The child was replaced: the next check works.
    const after = await request('PUT', '/api/v1/event-types/after', {
      schema: PURCHASE,
      example: { amount: 'x' },
    });
    assert.equal(after.status, 422);
  });

  test('an example that uniqueItems takes too long to check is 400 naming body.schema, naming the likely causes rather than a pattern only', async () => {
    // Ajv compares each item of a long array of arrays with every other: 50,000 of them (389 KB)
    // are ~10^9 comparisons, far past the time limit. The old answer blamed a backtracking pattern,
    // which this schema has none of.
    const example = Array.from({ length: 50_000 }, (_, i) => [i]);
    const r = await put('unique', { schema: { type: 'array', uniqueItems: true }, example });
    const { message } = assertError(r, 400, 'HERALD_ERR_VALIDATION', 'body.schema');
    assert.equal(
      message,
      `body.schema: checking the example against the schema took longer than ${SCHEMA_CHECK_TIMEOUT_MS} ms: the likely causes are a pattern that backtracks on one of the example's strings, or uniqueItems over a long array of objects or arrays; change that pattern, or send an example with shorter strings or arrays`,
    );
    assert.equal((await api.call('GET', '/api/v1/event-types/unique')).status, 404, 'nothing stored');
  });

  test('a schema too large to compile is 400 naming body.schema, saying so, before it is compiled', async () => {
    // A ref-free schema of 500 properties that Ajv would copy in at each of 20,000 $refs (~250 KiB):
    // millions of checks to generate, hundreds of MiB. Counted in the child before it is compiled.
    const r = await put('huge', { schema: hugeSchema() });
    const { message } = assertError(r, 400, 'HERALD_ERR_VALIDATION', 'body.schema');
    assert.equal(
      message,
      `body.schema: the schema has 20060001 keywords (its $refs counted as what they name): more than ${SCHEMA_MAX_KEYWORDS} are too large to check; send one of fewer keywords (fewer properties or subschemas, or $refs to smaller ones)`,
    );
    assert.equal((await api.call('GET', '/api/v1/event-types/huge')).status, 404, 'nothing stored');
  });

  test('event-types import refuses the same entries, naming the file, entry and field', async () => {
    const file = JSON.stringify({
      eventTypes: [{ name: 'ok' }, { name: 'p', schema: PURCHASE, example: {} }],
    });
    await assert.rejects(
      parseCatalog(file, 'c.json', LOADED),
      /c\.json: eventTypes\[1\] \(p\)\.example: does not match the schema/,
    );
    const twice = JSON.stringify([{ name: 'a' }, { name: 'b' }, { name: 'a', description: 'again' }]);
    await assert.rejects(
      parseCatalog(twice, 'c.json', LOADED),
      /^CommandError: c\.json: eventTypes\[2\] \(a\)\.name: eventTypes\[0\] has that name too; give each event type once$/,
    );
    const schemaFile = JSON.stringify([{ name: 's', schema: { type: 'nonsense' } }]);
    await assert.rejects(
      parseCatalog(schemaFile, 'c.json', LOADED),
      /eventTypes\[0\] \(s\)\.schema: is not a valid JSON Schema/,
    );
    const selfFile = JSON.stringify([{ name: 'r', schema: { $ref: '#' } }]);
    await assert.rejects(
      parseCatalog(selfFile, 'c.json', LOADED),
      /eventTypes\[0\] \(r\)\.schema: .*refers to itself without end/,
    );
    const redosFile = JSON.stringify([
      { name: 'ok', schema: PURCHASE },
      { name: 'slow', schema: { type: 'string', pattern: '^(a+)+$' }, example: `${'a'.repeat(27)}!` },
    ]);
    await assert.rejects(
      parseCatalog(redosFile, 'c.json', LOADED),
      /eventTypes\[1\] \(slow\)\.schema: checking the example against the schema took longer than/,
    );
    await assert.rejects(
      parseCatalog(JSON.stringify([{ name: 'huge', schema: hugeSchema() }]), 'c.json', LOADED),
      /^CommandError: c\.json: eventTypes\[0\] \(huge\)\.schema: the schema has 20060001 keywords \(its \$refs counted as what they name\): more than 4500 are too large to check; send one of fewer keywords \(fewer properties or subschemas, or \$refs to smaller ones\)$/,
    );
  });

  test('event-types import refuses the names and descriptions PUT refuses, naming the entry and field', async () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [
        { name: 'order.*' },
        /eventTypes\[0\]\.name: "order\.\*" is not an event-type name: names hold no "\*"/,
      ],
      [{ name: 'a\nb' }, /eventTypes\[0\]\.name: must not contain control characters/],
      [{ name: '   ' }, /eventTypes\[0\]\.name: .*must not be only whitespace/],
      [{ name: 'x\udbff' }, /eventTypes\[0\]\.name: .*lone surrogates/],
      [
        { name: 'ok', description: 'bell\u0007' },
        /eventTypes\[0\] \(ok\)\.description: must not contain control/,
      ],
    ];
    for (const [entry, message] of refused) {
      const name = entry.name as string;
      // A lone surrogate has no UTF-8 to percent-encode a path with: the API never sees such a name.
      if (name.isWellFormed()) {
        const { description } = entry;
        const answer = await put(encodeURIComponent(name), description === undefined ? {} : { description });
        assert.equal(answer.status, 400, `the API refuses ${JSON.stringify(entry)}`);
      }
      await assert.rejects(
        parseCatalog(JSON.stringify([entry]), 'c.json', LOADED),
        message,
        JSON.stringify(entry),
      );
    }
    // "." and "..", which a URL resolves as path steps: the API's refusal is in event-type-names.test.ts.
    for (const name of ['.', '..']) {
      await assert.rejects(
        parseCatalog(JSON.stringify([{ name }]), 'c.json', LOADED),
        /eventTypes\[0\]\.name: "\.\.?" is not an event-type name: a URL resolves "\." and "\.\." as path steps/,
        name,
      );
    }
    assert.equal((await parseCatalog(JSON.stringify([{ name: '...' }]), 'c.json', LOADED)).length, 1);
    // Line feeds and tabs in a description, and names of any other characters, are fine for both;
    // so is a description of 2000 characters counted as the API counts them (an emoji is one).
    const fine = [
      { name: 'order.paid ✓', description: 'line one\n\tline two' },
      { name: 'emoji', description: '😀'.repeat(2000) },
    ];
    for (const { name, description } of fine) {
      assert.equal((await put(encodeURIComponent(name), { description })).status, 200, name);
    }
    assert.equal((await parseCatalog(JSON.stringify(fine), 'c.json', LOADED)).length, 2);
  });

  test('event-types import refuses the prototype keys and the nesting PUT refuses, naming the entry and field', async () => {
    const proto = '{"__proto__": {"polluted": true}}';
    const constructorKey = '{"a": [{"constructor": {"prototype": {}}}]}';
    let deep = '1';
    for (let i = 0; i < 64; i++) deep = `[${deep}]`; // 64 levels: one more than PUT's body leaves it
    const refused: [string, RegExp][] = [
      [
        `[{"name": "p", "example": ${proto}}]`,
        /eventTypes\[0\] \(p\)\.example: must not hold a "__proto__" key/,
      ],
      [
        `[{"name": "c", "schema": ${constructorKey}}]`,
        /eventTypes\[0\] \(c\)\.schema: must not hold a "__proto__" key, or a "constructor" key holding "prototype"/,
      ],
      [
        `[{"name": "d", "example": ${deep}}]`,
        /eventTypes\[0\] \(d\)\.example: must not nest objects and arrays more than 63 deep/,
      ],
    ];
    for (const [file, message] of refused) {
      const body = file.slice(1, -1).replace(/"name": "\w", /, '');
      const answer = await api.app.inject({
        method: 'PUT',
        url: '/api/v1/event-types/same',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        payload: body,
      });
      assert.equal(answer.statusCode, 400, `the API refuses ${body}`);
      await assert.rejects(parseCatalog(file, 'c.json', LOADED), message, file);
    }
    assert.equal(
      (await parseCatalog(`[{"name": "d", "example": ${deep.slice(1, -1)}}]`, 'c.json', LOADED)).length,
      1,
    );
  });

  test('every catalog in examples/catalogs/ passes', async () => {
    const dir = join(import.meta.dirname, '../../examples/catalogs');
    let entries = 0;
    for (const name of readdirSync(dir))
      entries += (await parseCatalog(readFileSync(join(dir, name), 'utf8'), name, LOADED)).length;
    assert.ok(entries >= 50, `${entries} entries`);
  });
});

/** A schema Ajv takes seconds and hundreds of MiB to compile (see its use in the suite above). */
function hugeSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < 500; i++) properties[`p${i}`] = { type: 'integer', minimum: i };
  const allOf = Array.from({ length: 20_000 }, () => ({ $ref: '#/$defs/leaf' }));
  return { $defs: { leaf: { type: 'object', properties } }, allOf };
}

/** `n` $refs to one subschema of one keyword: n + 1 keywords, ~20 bytes of JSON each. */
function refsSchema(n: number): Record<string, unknown> {
  return {
    $defs: { leaf: { type: 'string' } },
    allOf: Array.from({ length: n }, () => ({ $ref: '#/$defs/leaf' })),
  };
}

/**
 * A schema under SCHEMA_MAX_KEYWORDS (81 keywords, 880 KiB) whose compiled code is hundreds of MiB:
 * Ajv writes a `const` string into the code at each `$ref` to it, through JSON.stringify.
 */
function constRefsSchema(): Record<string, unknown> {
  const allOf = Array.from({ length: 40 }, () => ({ $ref: '#/$defs/c' }));
  return { $defs: { c: { const: 'x'.repeat(900_000) } }, allOf };
}

/** The pids of the schema check children of process `parent` (this one) still running (Linux's /proc). */
function schemaChildren(parent = process.pid): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === parent && cmdline.includes('schema-child')) found.push(Number(entry));
    } catch {} // ended meanwhile
  }
  return found;
}

/** Whether process `pid` is a schema check child still running (not ended, nor a zombie left to reap). */
function schemaChildRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('schema-child');
  } catch {
    return false; // ended
  }
}

const waitingChild = new URL('../fixtures/schema-children/waiting-child.ts', import.meta.url);

test('a schema under SCHEMA_MAX_KEYWORDS whose compiling fills the child’s heap is 400 naming body.schema, and the server goes on answering', async () => {
  // A worker thread's heap cap could end the whole process here (V8 reached it inside Ajv's
  // JSON.stringify); the child's own --max-old-space-size ends the child only.
  const api = await startApi({ schemaCheckWallMs: LOADED_WALL_MS });
  try {
    const put = (name: string, body: unknown) => api.call('PUT', `/api/v1/event-types/${name}`, body);
    const r = await put('huge.const', { schema: constRefsSchema(), example: 'y' });
    assert.match(
      assertError(r, 400, 'HERALD_ERR_VALIDATION', 'body.schema').message,
      new RegExp(
        `^body.schema: compiling the schema took more than ${SCHEMA_CHECK_HEAP_MB} MiB of memory: it is too large to check`,
      ),
    );
    assert.equal((await api.call('GET', '/api/v1/event-types/huge.const')).status, 404, 'nothing stored');
    assert.equal((await put('after', { schema: PURCHASE, example: { amount: 1 } })).status, 200);
    assert.equal((await api.call('GET', '/healthz')).status, 200);
  } finally {
    await api.close();
  }
});

test('a check its child gets no CPU for past the wall bound is 503 HERALD_ERR_BUSY with Retry-After, not a 400: the server was busy, not the input wrong', async () => {
  // The child is held as a machine too busy to run it holds it (SIGSTOP: no CPU at all), for
  // longer than the wall bound (HERALD_SCHEMA_CHECK_WALL_MS, 2 s here); the schema is one it
  // checks in milliseconds.
  const api = await startApi({ schemaCheckWallMs: 2_000 });
  const put = (name: string, body: unknown) => api.call('PUT', `/api/v1/event-types/${name}`, body);
  try {
    assert.equal((await put('busy.warm', { schema: PURCHASE })).status, 200);
    const [pid] = schemaChildren();
    assert.ok(pid, 'a schema check child is up');
    process.kill(pid, 'SIGSTOP');
    try {
      const r = await put('busy', { schema: PURCHASE, example: { amount: 1 } });
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.headers['retry-after'], String(SCHEMA_CHECK_BUSY_RETRY_AFTER_S));
      const { error } = r.body as { error: { code: string; message: string } };
      assert.equal(error.code, 'HERALD_ERR_BUSY');
      assert.equal(
        error.message,
        `body.schema: counting the schema's keywords did not end within 2000 ms, this server being too busy to give it ${SCHEMA_CHECK_TIMEOUT_MS} ms: send it again later`,
      );
    } finally {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {} // ended at the bound, as it should be
    }
    assert.equal((await api.call('GET', '/api/v1/event-types/busy')).status, 404, 'nothing stored');
    // The held child was ended: the same PUT again is checked by a new one, and passes.
    assert.equal((await put('busy', { schema: PURCHASE, example: { amount: 1 } })).status, 200);
  } finally {
    await api.close();
  }
});

test('while a 1 MiB schema of $refs is counted, the API answers other requests', async () => {
  // Counted on the API's thread, such a body held every request for 0.3-3 s (bench/schema-count.ts);
  // a GET sent once the PUT's handler began was answered only after the PUT. In the child, the GET
  // is answered while the PUT waits for it (a new child here: its start, then the count).
  const api = await startApi({ schemaCheckWallMs: LOADED_WALL_MS });
  const handlerStarts = diagnostics.channel('tracing:fastify.request.handler:start');
  let base = '';
  const request = (method: string, path: string, body?: string) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
  const order: string[] = [];
  let get: Promise<void> | undefined;
  const onStart = (store: unknown) => {
    if ((store as { request?: { method?: string } }).request?.method !== 'PUT' || get) return;
    get = request('GET', '/healthz').then((r) => {
      order.push(`GET ${r.status}`);
    });
  };
  try {
    base = await api.app.listen({ port: 0, host: '127.0.0.1' });
    const body = JSON.stringify({ schema: refsSchema(40_000) });
    assert.ok(body.length < 1024 * 1024, `${body.length} bytes, within the body limit`);
    handlerStarts.subscribe(onStart);
    const put = await request('PUT', '/api/v1/event-types/many.refs', body);
    order.push(`PUT ${put.status}`);
    assert.match(
      assertError(
        { status: put.status, body: await put.json(), headers: {} },
        400,
        'HERALD_ERR_VALIDATION',
        'body.schema',
      ).message,
      /^body\.schema: the schema has 80001 keywords \(its \$refs counted as what they name\)/,
    );
    await get;
    assert.deepEqual(order, ['GET 200', 'PUT 400']);
  } finally {
    handlerStarts.unsubscribe(onStart);
    await api.close();
  }
});

test('a schema of more keywords than SCHEMA_MAX_KEYWORDS is a problem naming the schema, counted in the child before it is compiled', async () => {
  // Refused in milliseconds of the child's CPU, where compiling it takes the whole time limit or
  // heap (the test after next): the answer is the count's, not the time limit's.
  const checker = createEventTypeSchemaChecker({ wallMs: LOADED_WALL_MS });
  try {
    const problem = await checker.check(hugeSchema(), {});
    assert.deepEqual(problem, {
      field: 'schema',
      message: `the schema has 20060001 keywords (its $refs counted as what they name): more than ${SCHEMA_MAX_KEYWORDS} are too large to check; send one of fewer keywords (fewer properties or subschemas, or $refs to smaller ones)`,
    });
    assert.equal(checker.childUp(), true, 'counted in the child, which is kept for the next check');
    // A flat object of 2,000 properties (4,002 keywords) is checked, in the child.
    const properties = Object.fromEntries(
      Array.from({ length: 2000 }, (_, i) => [`field${i}`, { type: 'string', maxLength: 10 }]),
    );
    assert.equal(await checker.check({ type: 'object', properties }, {}), null);
  } finally {
    await checker.close();
  }
});

test('a schema that takes longer than the time limit to compile is a problem saying so: the child is killed, the next check gets a new one', async () => {
  // A heap its compiling cannot fill within the time: only the time limit stops it. A limit lower
  // than the default (SCHEMA_CHECK_TIMEOUT_MS, which the suite above runs into through the API):
  // the compiling goes on for seconds past either, and each ms of the limit is CPU time spent.
  // Past SCHEMA_MAX_KEYWORDS: this checker counts none, to reach the time limit.
  const checker = createEventTypeSchemaChecker({
    wallMs: LOADED_WALL_MS,
    heapMb: 2_048,
    timeoutMs: 300,
    maxKeywords: Number.POSITIVE_INFINITY,
  });
  try {
    const problem = await checker.check(hugeSchema(), {});
    assert.equal(problem?.field, 'schema');
    assert.match(
      problem?.message ?? '',
      /^compiling the schema took longer than 300 ms: it is too large to check/,
    );
    assert.equal(await checker.check({ type: 'integer' }, 1), null);
  } finally {
    await checker.close();
  }
});

test('a schema whose keyword count runs out of time is answered as the count, not as compiling it', async () => {
  // 2,000,000 `{}` in an allOf (6 MiB): counting them takes seconds of CPU (1 MiB of them, which
  // the API takes, 0.6-0.9 s on a loaded 2-core machine: near the default 1,000 ms), past this
  // limit before anything is compiled. Until 2026-12-07 the answer was "compiling the schema took
  // longer than …". A heap that holds the parsed schema, so that only the time limit stops it.
  const checker = createEventTypeSchemaChecker({ wallMs: LOADED_WALL_MS, heapMb: 1_024, timeoutMs: 200 });
  try {
    const schema = { allOf: Array.from({ length: 2_000_000 }, () => ({})) };
    assert.deepEqual(await checker.check(schema, {}), {
      field: 'schema',
      message:
        "counting the schema's keywords took longer than 200 ms: it has too many subschemas to check; send one of fewer subschemas and $refs",
    });
    assert.equal(await checker.check({ type: 'integer' }, 1), null, 'a new child for the next check');
  } finally {
    await checker.close();
  }
});

test('the time limit counts the child’s CPU time: a check the machine gives no CPU for a while is not refused; past ten times the limit on the clock it is', async () => {
  // A child that answers after waiting, using no CPU: as a check does on a machine too busy to run it.
  const checker = createEventTypeSchemaChecker({ timeoutMs: 100, childUrl: waitingChild });
  try {
    assert.equal(
      await checker.check({ type: 'integer' }, { wait: 400 }),
      null,
      'four times the limit waiting',
    );
    const starved = await checker.check({ type: 'integer' }, { wait: 1_500 });
    assert.deepEqual(starved, {
      field: 'schema',
      message:
        'compiling the schema did not end within 1000 ms, this server being too busy to give it 100 ms: send it again later',
      busy: true,
    });
    assert.equal(await checker.check({ type: 'integer' }, {}), null, 'a new child for the next check');
  } finally {
    await checker.close();
  }
  // The real child on a check that uses its CPU: killed once it has used the limit. Held first
  // (SIGSTOP) for longer than the default wall bound (1 s here), as a loaded machine holds it:
  // given a bound that long (HERALD_SCHEMA_CHECK_WALL_MS), it is judged by the CPU it then uses.
  const real = createEventTypeSchemaChecker({ wallMs: LOADED_WALL_MS, timeoutMs: 100 });
  try {
    const others = new Set(schemaChildren());
    assert.equal(await real.check({ type: 'integer' }, 1), null, 'the child up');
    const [pid] = schemaChildren().filter((p) => !others.has(p));
    assert.ok(pid, "the checker's child");
    process.kill(pid, 'SIGSTOP');
    const answer = real.check({ type: 'string', pattern: '^(a+)+$' }, `${'a'.repeat(40)}!`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    try {
      process.kill(pid, 'SIGCONT');
    } catch {} // ended meanwhile (at a wall bound shorter than the hold): the answer says so
    const problem = await answer;
    assert.match(problem?.message ?? '', /^checking the example against the schema took longer than 100 ms/);
    assert.equal(await real.check({ type: 'integer' }, 1), null, 'a new child for the next check');
  } finally {
    await real.close();
  }
});

test('a child’s answer that came by the wall bound while this process was too busy to read it is taken, not thrown away for a busy answer', async () => {
  // This thread held (as a loaded machine holds the API's) past the wall bound, while the child,
  // which needs no CPU for it, answers: the answer waits unread in the channel, and the timer due
  // at the bound comes first once the thread is free.
  const checker = createEventTypeSchemaChecker({ timeoutMs: 100, wallMs: 1_000, childUrl: waitingChild });
  try {
    assert.equal(await checker.check({ type: 'integer' }, {}), null, 'the child up');
    const answer = checker.check({ type: 'integer' }, { wait: 200 });
    await new Promise((resolve) => setImmediate(resolve)); // the check sent
    const until = performance.now() + 3_000;
    while (performance.now() < until);
    assert.equal(await answer, null);
  } finally {
    await checker.close();
  }
});

test('where a child’s CPU time cannot be read (no /proc) the check runs, its time limit on the clock', async () => {
  const checker = createEventTypeSchemaChecker({ timeoutMs: 100, cpuMicros: async () => null });
  try {
    assert.equal(await checker.check({ type: 'integer' }, 1), null);
    const problem = await checker.check({ type: 'string', pattern: '^(a+)+$' }, `${'a'.repeat(40)}!`);
    assert.match(problem?.message ?? '', /^checking the example against the schema took longer than 100 ms/);
  } finally {
    await checker.close();
  }
});

test('the time limit holds while libuv’s thread pool is taken: the child’s CPU time is read without it', async () => {
  // The pool's threads held, as the dispatcher's DNS lookups hold them when receivers' resolver
  // does not answer: here by opens of a FIFO nothing writes to yet. Read through the pool, the
  // child’s CPU time waited behind them, and the limit with it, for as long as they were held.
  const dir = mkdtempSync(join(tmpdir(), 'herald-pool-'));
  const fifo = join(dir, 'held');
  execFileSync('mkfifo', [fifo]);
  const held = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE) || 4 }, () => open(fifo, 'r'));
  const checker = createEventTypeSchemaChecker({ wallMs: LOADED_WALL_MS, timeoutMs: 100 });
  try {
    const answer = checker.check({ type: 'string', pattern: '^(a+)+$' }, `${'a'.repeat(40)}!`);
    const waiting = new Promise<'waiting'>((r) => setTimeout(r, 30_000, 'waiting').unref());
    const problem = await Promise.race([answer, waiting]);
    assert.notEqual(problem, 'waiting', 'not answered 30 s on, with the thread pool held');
    assert.match(
      (problem as { message: string }).message,
      /^checking the example against the schema took longer than 100 ms/,
    );
  } finally {
    closeSync(openSync(fifo, 'w')); // the opens waiting on it end
    for (const handle of await Promise.all(held)) await handle.close();
    await checker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent checks wait their turn in one child, each with a time limit of its own', async () => {
  // Three checks that each use 60 % of the limit in CPU: together they would be over it.
  const checker = createEventTypeSchemaChecker({
    wallMs: LOADED_WALL_MS,
    timeoutMs: 500,
    childUrl: waitingChild,
  });
  try {
    const answers = Promise.all([1, 2, 3].map(() => checker.check({ type: 'integer' }, { spin: 300 })));
    assert.equal(schemaChildren().length, 1, 'one child for the three');
    assert.deepEqual(await answers, [null, null, null]);
  } finally {
    await checker.close();
  }
});

test('a child that dies of something else fails only the check it ran, as a problem naming the schema; the checks waiting get a new child', async () => {
  const checker = createEventTypeSchemaChecker({ wallMs: LOADED_WALL_MS, childUrl: waitingChild });
  try {
    const dying = checker.check({ type: 'integer' }, { exit: 3 });
    const waiting = checker.check({ type: 'integer' }, {});
    assert.deepEqual(await dying, {
      field: 'schema',
      message:
        'compiling the schema ended the schema check process (exit code 3): it was not checked; send it again, or a smaller schema if it ends so again',
    });
    assert.equal(await waiting, null);
    assert.equal(checker.childUp(), true);
  } finally {
    await checker.close();
  }
  // A child that cannot start answers the check it was started for, and the next gets another.
  const broken = createEventTypeSchemaChecker({ childUrl: new URL('file:///nonexistent/schema-child.ts') });
  try {
    const [first, second] = await Promise.all([
      broken.check({ type: 'integer' }, 1),
      broken.check({ type: 'integer' }, 1),
    ]);
    assert.match(
      first?.message ?? '',
      /^the schema check process did not start \(exit code 1\): send it again later$/,
    );
    assert.equal(first?.busy, true, "the server's state, not the input's: the API's 503");
    assert.deepEqual(second, first);
  } finally {
    await broken.close();
  }
  // One fork itself refuses (a path Node cannot pass to the system): the same, not a rejection.
  const refused = createEventTypeSchemaChecker({ childUrl: new URL('file:///tmp/schema%00child.ts') });
  try {
    const problem = await refused.check({ type: 'integer' }, 1);
    assert.equal(problem?.field, 'schema');
    assert.match(
      problem?.message ?? '',
      /^the schema check process did not start \(.+\): send it again later$/,
    );
    assert.equal(problem?.busy, true);
    assert.equal(refused.childUp(), false);
  } finally {
    await refused.close();
  }
});

test('the schema check child ends once idle, and the next check starts another; close() ends it', async () => {
  const checker = createEventTypeSchemaChecker({ wallMs: LOADED_WALL_MS, idleMs: 100 });
  try {
    assert.equal(checker.childUp(), false, 'no child before the first check');
    assert.equal(await checker.check({ type: 'integer' }, 1), null);
    assert.equal(checker.childUp(), true);
    const end = Date.now() + 5_000;
    while ((checker.childUp() || schemaChildren().length > 0) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(checker.childUp(), false, 'the child was still up 5 s after its last check');
    assert.deepEqual(schemaChildren(), [], 'its process has ended');
    const problem = await checker.check({ type: 'integer' }, 'x');
    assert.equal(problem?.field, 'example');
    assert.equal(schemaChildren().length, 1);
  } finally {
    await checker.close();
  }
  assert.equal(checker.childUp(), false);
  assert.deepEqual(schemaChildren(), [], 'close() ended the child');
});

test('an idle schema check child does not keep a process alive, and a check under way does', async () => {
  // A process (as a CLI is) that awaits a check, prints its answer and leaves the checker open,
  // with an idle time of ten minutes: it must print the answer, then end by itself.
  const module = new URL('../../src/api/event-type-schema-check.ts', import.meta.url).href;
  const script = `
    const { createEventTypeSchemaChecker } = await import(${JSON.stringify(module)});
    const checker = createEventTypeSchemaChecker({ idleMs: 600_000 });
    const problem = await checker.check({ type: 'integer' }, 'x');
    console.log(JSON.stringify(problem));
  `;
  const cli = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  cli.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text;
  });
  const killer = setTimeout(() => cli.kill('SIGKILL'), 60_000);
  const [code, signal] = (await once(cli, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  assert.equal(signal, null, 'it was still running a minute on: the idle child held it');
  assert.equal(code, 0);
  assert.equal(JSON.parse(out).field, 'example', 'it waited for the answer');
});

test('a schema check child whose parent is killed during a check that runs without end ends too, rather than spin on orphaned', async () => {
  // The child's thread, in the RegExp, never sees its channel close, and no parent is left to kill
  // it at the time limit: it ran on at full CPU for as long as the pattern backtracks (hours). A
  // time limit of ten minutes here: only the parent's end can stop this check.
  const module = new URL('../../src/api/event-type-schema-check.ts', import.meta.url).href;
  const script = `
    const { createEventTypeSchemaChecker } = await import(${JSON.stringify(module)});
    const checker = createEventTypeSchemaChecker({ timeoutMs: 600_000 });
    await checker.check({ type: 'integer' }, 1);
    void checker.check({ type: 'string', pattern: '^(a+)+$' }, 'a'.repeat(40) + '!');
    console.log('checking');
    setInterval(() => {}, 60_000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let child: number | undefined;
  try {
    await once(parent.stdout, 'data');
    [child] = schemaChildren(parent.pid);
    assert.ok(child, 'the parent has a schema check child');
    // Killed once the child is in the check: its CPU time grows (0.2 s of it).
    const cpuAtStart = (await childCpuMicros(child)) ?? 0;
    let end = Date.now() + 60_000;
    while (((await childCpuMicros(child)) ?? 0) - cpuAtStart < 200_000 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    end = Date.now() + 30_000;
    while (schemaChildRunning(child) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      schemaChildRunning(child),
      false,
      'the child was still running 30 s after its parent was killed',
    );
  } finally {
    if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    if (child !== undefined && schemaChildRunning(child)) process.kill(child, 'SIGKILL');
  }
});

test('a schema check child says it is ready once its parent watch runs, not while that thread still starts (its CPU then counted against the first check)', async () => {
  // Starting the watch's thread takes 100-180 ms of the child's CPU (load 12 on 2 cores). The child
  // said ready as the thread began to start, so the first check came while it did, and that CPU was
  // counted against the check's time limit (the child's CPU over the 1.5 s after ready: 100-180 ms,
  // 0-30 ms without the thread). Ready now comes once the thread watches.
  const child = fork(
    fileURLToPath(new URL('../../src/api/event-type-schema-child.ts', import.meta.url)),
    [],
    {
      execArgv: [`--max-old-space-size=${SCHEMA_CHECK_HEAP_MB}`],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    },
  );
  try {
    const [message] = (await once(child, 'message')) as [unknown];
    assert.deepEqual(message, { type: 'ready', watching: true });
  } finally {
    child.kill('SIGKILL');
  }
});

test('a process that closes its checker once the checks are answered (as event-types import does) goes on past close()', async () => {
  // The idle child is unref'd; close() awaited its exit with nothing holding the process, so Node
  // ended it inside close() ("unsettled top-level await", exit code 13): every `herald event-types
  // import` of an entry with a schema failed so.
  const module = new URL('../../src/api/event-type-schema-check.ts', import.meta.url).href;
  const script = `
    const { createEventTypeSchemaChecker } = await import(${JSON.stringify(module)});
    const checker = createEventTypeSchemaChecker();
    const problem = await checker.check({ type: 'integer' }, 'x');
    await checker.close();
    console.log(JSON.stringify({ field: problem.field, childUp: checker.childUp() }));
  `;
  const cli = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  cli.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text;
  });
  cli.stderr.setEncoding('utf8').on('data', (text: string) => {
    err += text;
  });
  const [code] = (await once(cli, 'exit')) as [number | null];
  assert.equal(code, 0, err);
  assert.deepEqual(JSON.parse(out), { field: 'example', childUp: false });
});

test('a schema whose compiling fills the child’s heap is a problem naming the schema, and the checks waiting behind it get a new child', async () => {
  // A 16 MiB heap and no time limit to speak of: only the memory cap can stop this one, a flat
  // object of 2,000 properties (4,002 keywords, under SCHEMA_MAX_KEYWORDS), which needs ~30 MiB.
  const checker = createEventTypeSchemaChecker({ heapMb: 16, timeoutMs: 120_000 });
  try {
    const properties = Object.fromEntries(
      Array.from({ length: 2000 }, (_, i) => [`field${i}`, { type: 'string', maxLength: 10 }]),
    );
    const huge = checker.check({ type: 'object', properties }, {});
    const after = checker.check({ type: 'integer' }, 'x');
    const problem = await huge;
    assert.equal(problem?.field, 'schema');
    assert.match(
      problem?.message ?? '',
      /^compiling the schema took more than 16 MiB of memory: it is too large to check/,
    );
    assert.equal((await after)?.field, 'example', 'the check queued behind it ran in a new child');
    assert.equal(await checker.check({ type: 'integer' }, 1), null);
  } finally {
    await checker.close();
  }
});
