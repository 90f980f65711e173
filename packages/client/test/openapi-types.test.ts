/**
 * @herald/client's methods and types held against the OpenAPI document a real `herald serve`
 * serves (/openapi.json): every operation has a method and every method an operation; each
 * answer the document describes fits the method's return type (fields, nullability, enums), and
 * each method's request type accepts exactly what the operation's schema accepts (the same fields,
 * required or optional alike, the same enums). The document's schemas are written as TypeScript
 * (openapi-to-ts.ts) beside assignments to the client's types, and tsc judges them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { test } from 'node:test';
import { startHerald } from '../../../test/e2e/harness.ts';
import { HeraldClient } from '../src/index.ts';
import { objectsWithin, reach, resolve, type Schema, toTs } from './openapi-to-ts.ts';

const ROOT = resolvePath(import.meta.dirname, '../../..');

/**
 * The method for each operation, and where its request lies among the method's parameters (`P`,
 * `Parameters<HeraldClient[method]>`): `body` and `query` are type expressions; `answer` names the
 * component the method answers when the operation answers more than one shape.
 */
interface Call {
  method: string;
  body?: string;
  query?: string;
  answer?: string;
  /** The method answers the items of the answer's `data` (an array), not the answer itself. */
  each?: boolean;
  /** Query parameters the method sets itself (the reason is in the comment beside it). */
  setByMethod?: string[];
}

const OPERATIONS: Record<string, Call[]> = {
  'POST /api/v1/projects': [{ method: 'createProject', body: 'P[0]' }],
  'GET /api/v1/projects': [{ method: 'listProjects', query: 'P[0]' }],
  'GET /api/v1/projects/{project}': [{ method: 'getProject' }],
  'PATCH /api/v1/projects/{project}': [{ method: 'updateProject', body: 'P[1]' }],
  'DELETE /api/v1/projects/{project}': [{ method: 'deleteProject' }],
  'POST /api/v1/projects/{project}/api-keys': [
    { method: 'createApiKey', body: '{ name: P[1] } & NonNullable<P[2]>' },
  ],
  'GET /api/v1/projects/{project}/api-keys': [{ method: 'listApiKeys' }],
  'DELETE /api/v1/projects/{project}/api-keys/{key}': [{ method: 'deleteApiKey' }],
  'PUT /api/v1/event-types/{name}': [{ method: 'putEventType', body: 'P[1]' }],
  'GET /api/v1/event-types/{name}': [{ method: 'getEventType' }],
  'GET /api/v1/event-types': [{ method: 'listEventTypes', query: 'P[0]' }],
  'GET /api/v1/installation': [{ method: 'getInstallation' }],
  'POST /api/v1/projects/{project}/endpoints': [{ method: 'createEndpoint', body: 'P[1]' }],
  'GET /api/v1/projects/{project}/endpoints': [{ method: 'listEndpoints', query: 'P[1]' }],
  'GET /api/v1/projects/{project}/endpoints/{endpoint}': [{ method: 'getEndpoint' }],
  'PATCH /api/v1/projects/{project}/endpoints/{endpoint}': [{ method: 'updateEndpoint', body: 'P[2]' }],
  'DELETE /api/v1/projects/{project}/endpoints/{endpoint}': [{ method: 'deleteEndpoint' }],
  'GET /api/v1/projects/{project}/endpoints/{endpoint}/secret': [{ method: 'getEndpointSecret' }],
  'POST /api/v1/projects/{project}/endpoints/{endpoint}/secret/rotate': [
    { method: 'rotateEndpointSecret', body: 'P[2]' },
  ],
  'POST /api/v1/projects/{project}/endpoints/{endpoint}/enable': [{ method: 'enableEndpoint' }],
  'POST /api/v1/projects/{project}/endpoints/{endpoint}/recover': [
    { method: 'recoverEndpoint', body: 'P[2]' },
  ],
  'POST /api/v1/projects/{project}/endpoints/{endpoint}/replay': [{ method: 'replayEndpoint', body: 'P[2]' }],
  // The type is the one argument; the method sends {} without it.
  'POST /api/v1/projects/{project}/endpoints/{endpoint}/test': [
    { method: 'testEndpoint', body: '{ eventType?: P[2] }' },
  ],
  // HeraldEvent: the whole event. A repeated key sent with a send key is answered EventWithheld, which
  // lacks payload: HeraldEvent's comment says so (see ALLOWED).
  'POST /api/v1/projects/{project}/events': [
    { method: 'sendEvent', body: 'P[1]', answer: 'EventWithDeliveries' },
  ],
  'GET /api/v1/projects/{project}/events': [{ method: 'listEvents', query: 'P[1]' }],
  'POST /api/v1/projects/{project}/events/batch': [
    {
      method: 'sendEvents',
      body: '{ events: Array<P[1][number]> }',
      answer: 'EventWithDeliveries',
      each: true,
    },
  ],
  // One method per answer: ?deliveries=false is getEventWithoutDeliveries.
  'GET /api/v1/projects/{project}/events/{event}': [
    { method: 'getEvent', answer: 'EventWithDeliveries', setByMethod: ['deliveries'] },
    { method: 'getEventWithoutDeliveries', answer: 'Event', setByMethod: ['deliveries'] },
  ],
  'GET /api/v1/projects/{project}/events/{event}/deliveries': [
    { method: 'listEventDeliveries', query: 'P[2]' },
  ],
  'GET /api/v1/projects/{project}/endpoints/{endpoint}/deliveries': [
    { method: 'listEndpointDeliveries', query: 'P[2]' },
  ],
  'GET /api/v1/projects/{project}/deliveries/{delivery}': [{ method: 'getDelivery' }],
  'POST /api/v1/projects/{project}/deliveries/{delivery}/retry': [{ method: 'retryDelivery' }],
  'GET /api/v1/projects/{project}/attempts/{attempt}': [{ method: 'getAttempt' }],
  'GET /api/v1/projects/{project}/events/{event}/attempts': [{ method: 'listEventAttempts', query: 'P[2]' }],
  'GET /api/v1/projects/{project}/endpoints/{endpoint}/attempts': [
    { method: 'listEndpointAttempts', query: 'P[2]' },
  ],
  'GET /api/v1/projects/{project}/endpoints/{endpoint}/stats': [{ method: 'endpointStats', query: 'P[2]' }],
  'GET /api/v1/projects/{project}/operational-events': [{ method: 'listOperationalEvents', query: 'P[1]' }],
  'POST /api/v1/projects/{project}/portal-links': [{ method: 'createPortalLink', body: 'P[1]' }],
  'DELETE /api/v1/projects/{project}/portal-links': [{ method: 'revokePortalLinks' }],
};

/**
 * Differences between a type and the document that stay, and why (each must still be one: a
 * difference that is gone is reported, so that its entry goes too).
 */
const ALLOWED: Record<string, string> = {
  ...allow(
    "Endpoint.secret (optional) is there on create, GET …/secret and a rotation only, as its comment says: one Endpoint type for every answer; createEndpoint's (EndpointWithSecret), getEndpointSecret's and rotateEndpointSecret's (EndpointSecrets) have it",
    'GET /api/v1/projects/{project}/endpoints (listEndpoints): fields the return type names at ["data"][number] that the document does not',
    'GET /api/v1/projects/{project}/endpoints/{endpoint} (getEndpoint): fields the return type names that the document does not',
    'PATCH /api/v1/projects/{project}/endpoints/{endpoint} (updateEndpoint): fields the return type names that the document does not',
    'POST /api/v1/projects/{project}/endpoints/{endpoint}/enable (enableEndpoint): fields the return type names that the document does not',
  ),
  ...allow(
    "HeraldEvent.withheld (optional) is a send key's repeat's (EventWithheld), answered by sendEvent and sendEvents; that answer has no payload either, which HeraldEvent's comment says rather than make every reader's payload optional",
    'POST /api/v1/projects/{project}/events (sendEvent): fields the return type names that the document does not',
    'POST /api/v1/projects/{project}/events/batch (sendEvents): fields the return type names that the document does not',
    'GET /api/v1/projects/{project}/events/{event} (getEvent): fields the return type names that the document does not',
  ),
};
function allow(why: string, ...checks: string[]): Record<string, string> {
  return Object.fromEntries(checks.map((what) => [what, why]));
}

/** HeraldClient's own members that are not one operation's method. */
const NOT_OPERATIONS = new Set(['constructor', 'close', 'request']);

interface Parameter {
  name: string;
  in: string;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

async function servedDocument(): Promise<Document> {
  const herald = await startHerald({
    args: ['--role', 'api'],
    env: { HERALD_ADMIN_TOKEN: 'openapi-types-admin-0123456789abcdef' },
  });
  try {
    const answer = await fetch(`${herald.url}/openapi.json`);
    assert.equal(answer.status, 200);
    return (await answer.json()) as Document;
  } finally {
    await herald.dispose();
  }
}

/** The API's operations of the document, as `METHOD /path`. */
const apiOperations = (doc: Document): [string, Operation][] =>
  Object.entries(doc.paths).flatMap(([path, operations]) =>
    path.startsWith('/api/')
      ? Object.entries(operations).map(([verb, op]): [string, Operation] => [
          `${verb.toUpperCase()} ${path}`,
          op,
        ])
      : [],
  );

/** A TypeScript module of checks, each on its own line with what it checks. */
class Checks {
  readonly lines: string[] = [];
  readonly what: string[] = [];
  #n = 0;
  line(text: string, what = ''): void {
    this.lines.push(text);
    this.what.push(what);
  }
  /** `value` (a type) must be assignable to `target`. */
  assignable(target: string, value: string, what: string): void {
    this.line(`export const c${this.#n++}: ${target} = null as unknown as ${value};`, what);
  }
  /** Each of `keys` (a union of names) must be none: reported as the names that are there. */
  none(keys: string, what: string): void {
    this.line(`export const c${this.#n++}: never = null as unknown as ${keys};`, what);
  }
}

function writeChecks(doc: Document): Checks {
  const components = doc.components.schemas;
  const checks = new Checks();
  checks.line(
    `import type { HeraldClient, Json } from ${JSON.stringify(join(ROOT, 'packages/client/src/index.ts'))};`,
  );
  checks.line(
    'type Known<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: 0 };',
  );
  checks.line('type Gap<A, B> = Exclude<Known<A>, Known<B>>;');
  let n = 0;
  for (const [name, op] of apiOperations(doc)) {
    for (const call of OPERATIONS[name] ?? []) {
      const at = `${name} (${call.method})`;
      const i = n++;
      checks.line(
        `type P${i} = Parameters<HeraldClient[${JSON.stringify(call.method)}]>;`,
        `${at}: the method`,
      );

      // The answer: what the server sends must fit the type the method promises.
      const ok = Object.entries(op.responses).find(([status]) => /^2/.test(status))?.[1];
      const schema = call.answer
        ? { $ref: `#/components/schemas/${call.answer}` }
        : ok?.content?.['application/json']?.schema;
      if (schema) {
        checks.line(
          `type A${i} = Awaited<ReturnType<HeraldClient[${JSON.stringify(call.method)}]>>${call.each ? '[number]' : ''};`,
        );
        checks.line(`type S${i} = ${toTs(schema, components, 'answer')};`);
        checks.assignable(`A${i}`, `S${i}`, `${at}: the answer the document describes fits the return type`);
        for (const { steps } of objectsWithin(schema, components)) {
          const where = steps.length ? ` at ${steps.map((step) => `[${step}]`).join('')}` : '';
          checks.none(
            `Gap<${reach(`S${i}`, steps)}, ${reach(`A${i}`, steps)}>`,
            `${at}: fields of the answer${where} the return type does not name`,
          );
          checks.none(
            `Gap<${reach(`A${i}`, steps)}, ${reach(`S${i}`, steps)}>`,
            `${at}: fields the return type names${where} that the document does not`,
          );
        }
      }

      // The body: exactly what the schema accepts.
      const body = op.requestBody?.content['application/json']?.schema;
      assert.equal(Boolean(body), Boolean(call.body), `${at}: a body in the document and the table alike`);
      if (body && call.body) {
        const P = (expr: string) => expr.replaceAll('P[', `P${i}[`);
        checks.line(`type I${i} = NonNullable<${P(call.body)}>;`);
        checks.line(`type SI${i} = NonNullable<${toTs(body, components, 'input')}>;`);
        checks.assignable(
          `SI${i}`,
          `I${i}`,
          `${at}: every body the method's type allows, the schema accepts`,
        );
        checks.assignable(
          `I${i}`,
          `SI${i}`,
          `${at}: every body the schema accepts, the method's type allows`,
        );
        for (const { steps } of objectsWithin(body, components)) {
          const where = steps.length ? ` at ${steps.map((step) => `[${step}]`).join('')}` : '';
          checks.none(
            `Gap<${reach(`SI${i}`, steps)}, ${reach(`I${i}`, steps)}>`,
            `${at}: body fields${where} the method cannot send`,
          );
          checks.none(
            `Gap<${reach(`I${i}`, steps)}, ${reach(`SI${i}`, steps)}>`,
            `${at}: body fields${where} the schema refuses`,
          );
        }
      }

      // The query: the same names; enums alike; values the server takes (numbers are sent as text).
      const query = (op.parameters ?? []).filter(
        (p) => p.in === 'query' && !call.setByMethod?.includes(p.name),
      );
      assert.equal(
        query.length > 0,
        Boolean(call.query),
        `${at}: query parameters in the document and the table alike`,
      );
      if (call.query) {
        const fields = query.map((p) => {
          const s = resolve(p.schema, components);
          return `${JSON.stringify(p.name)}?: ${s.enum ? toTs(s, components, 'input') : 'string | number'};`;
        });
        checks.line(`type Q${i} = NonNullable<${call.query.replaceAll('P[', `P${i}[`)}>;`);
        checks.line(`type SQ${i} = { ${fields.join(' ')} };`);
        checks.assignable(
          `SQ${i}`,
          `Q${i}`,
          `${at}: every query the method's type allows, the server accepts`,
        );
        checks.none(`Gap<SQ${i}, Q${i}>`, `${at}: query parameters the method cannot send`);
        checks.none(`Gap<Q${i}, SQ${i}>`, `${at}: query parameters the server refuses`);
        for (const p of query.filter((q) => resolve(q.schema, components).enum)) {
          const key = JSON.stringify(p.name);
          checks.assignable(
            `NonNullable<Q${i}[${key}]>`,
            `NonNullable<SQ${i}[${key}]>`,
            `${at}: every value of ?${p.name} the server takes, the method's type allows`,
          );
        }
      }
    }
  }
  return checks;
}

test('every API operation of /openapi.json has a client method, and every method an operation', async () => {
  const doc = await servedDocument();
  const documented = apiOperations(doc).map(([name]) => name);
  assert.deepEqual(
    documented.filter((name) => !OPERATIONS[name]),
    [],
    'operations without a method in this table',
  );
  assert.deepEqual(
    Object.keys(OPERATIONS).filter((name) => !documented.includes(name)),
    [],
    'operations in this table the document does not have',
  );
  // The methods of HeraldClient and of the classes it extends (a file per resource group).
  const methods: string[] = [];
  for (let proto = HeraldClient.prototype; proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    methods.push(...Object.getOwnPropertyNames(proto).filter((m) => !NOT_OPERATIONS.has(m)));
  }
  assert.ok(methods.includes('sendEvent') && methods.includes('getInstallation'), 'found the methods');
  const mapped = new Set(Object.values(OPERATIONS).flatMap((calls) => calls.map((c) => c.method)));
  assert.deepEqual(
    methods.filter((m) => !mapped.has(m)),
    [],
    'HeraldClient methods without an operation',
  );
});

test("the client's request and answer types are exactly what /openapi.json describes", async () => {
  const checks = writeChecks(await servedDocument());
  const dir = mkdtempSync(join(tmpdir(), 'herald-client-openapi-'));
  try {
    writeFileSync(join(dir, 'checks.ts'), `${checks.lines.join('\n')}\n`);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2024',
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['checks.ts'],
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir, '--pretty', 'false'],
      {
        encoding: 'utf8',
      },
    );
    // Each error said with the check of its line.
    const errors = [
      ...`${tsc.stdout}${tsc.stderr}`.matchAll(/checks\.ts\((\d+),\d+\): error TS\d+: (.*)/g),
    ].map(([, line, message]) => ({
      what: checks.what[Number(line) - 1] || checks.lines[Number(line) - 1] || '',
      message,
    }));
    assert.ok(errors.length > 0 || tsc.status === 0, `tsc failed: ${tsc.stdout}${tsc.stderr}`);
    assert.deepEqual(
      errors.filter((e) => !ALLOWED[e.what]).map((e) => `${e.what}\n    ${e.message}`),
      [],
      'the client and the document differ',
    );
    assert.deepEqual(
      Object.keys(ALLOWED).filter((what) => !errors.some((e) => e.what === what)),
      [],
      'allowed differences that are no longer there',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
