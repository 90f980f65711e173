/**
 * `node bench/schema-count.ts [--only=NAME] [--no-api]`: how long the keyword count of an
 * event-type schema (src/domain/schema-size.ts) takes for the largest shapes the 1 MiB body holds,
 * and what a request made meanwhile waits. Per shape:
 * - `count`: the count in this process, its wall-clock and CPU time (three runs);
 * - `PUT`: a real server (listen(0), SQLite in memory) given the schema, with GET /healthz sent one
 *   after another until the PUT is answered: the PUT's time, the longest GET, and the PUT's answer.
 * The count runs in the schema check's child process (src/api/event-type-schema-child.ts), so the
 * GETs should wait milliseconds; on the API's thread they waited as long as the count.
 */
import { parseArgs } from 'node:util';
import { schemaKeywordCount } from '../src/domain/schema-size.ts';
import { ADMIN, startApi } from '../test/api/helpers.ts';

const { values } = parseArgs({
  options: { only: { type: 'string' }, 'no-api': { type: 'boolean', default: false } },
});
const MiB = 1024 * 1024;
type Schema = Record<string, unknown>;

/** `make(n)` for the largest n whose `{"schema": …}` fits the 1 MiB body. */
function fill(make: (n: number) => Schema, hi: number): Schema {
  let lo = 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (JSON.stringify({ schema: make(mid) }).length <= MiB - 64) lo = mid;
    else hi = mid - 1;
  }
  return make(lo);
}
const defsOf = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`d${i}`, { type: 'string' }]));
const longId = (kib: number) => `https://x.test/${'a'.repeat(kib * 1024)}/s.json`;

const shapes: Record<string, () => Schema> = {
  // test/api/event-type-schemas.test.ts's hugeSchema: 500 properties named by 20,000 $refs (~250 KiB)
  'refs 20k to 500 props': () => {
    const properties: Schema = {};
    for (let i = 0; i < 500; i++) properties[`p${i}`] = { type: 'integer', minimum: i };
    const allOf = Array.from({ length: 20_000 }, () => ({ $ref: '#/$defs/leaf' }));
    return { $defs: { leaf: { type: 'object', properties } }, allOf };
  },
  'refs to one leaf': () =>
    fill(
      (n) => ({
        $defs: { a: { type: 'string' } },
        allOf: Array.from({ length: n }, () => ({ $ref: '#/$defs/a' })),
      }),
      100_000,
    ),
  'chain of refs': () =>
    fill((n) => {
      const $defs: Schema = { [`a${n}`]: { type: 'string' } };
      for (let i = 0; i < n; i++) $defs[`a${i}`] = { $ref: `#/$defs/a${i + 1}` };
      return { $defs, $ref: '#/$defs/a0' };
    }, 100_000),
  'distinct refs': () =>
    fill(
      (n) => ({ $defs: defsOf(n), allOf: Array.from({ length: n }, (_, i) => ({ $ref: `#/$defs/d${i}` })) }),
      100_000,
    ),
  'allOf of true': () => fill((n) => ({ allOf: Array.from({ length: n }, () => true) }), 400_000),
  'allOf of {}': () => fill((n) => ({ allOf: Array.from({ length: n }, () => ({})) }), 400_000),
  'flat properties': () => fill((n) => ({ type: 'object', properties: defsOf(n) }), 100_000),
  '512 KiB $id, refs': () =>
    fill(
      (n) => ({
        $id: longId(512),
        $defs: { a: { type: 'string' } },
        allOf: Array.from({ length: n }, () => ({ $ref: '#/$defs/a' })),
      }),
      100_000,
    ),
  '400 KiB $id, distinct refs': () =>
    fill(
      (n) => ({
        $id: longId(400),
        $defs: defsOf(n),
        allOf: Array.from({ length: n }, (_, i) => ({ $ref: `#/$defs/d${i}` })),
      }),
      100_000,
    ),
};

const api = values['no-api'] ? null : await startApi();
const base = api ? await api.app.listen({ port: 0, host: '127.0.0.1' }) : '';
const request = (method: string, path: string, body?: string) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
if (api) await request('PUT', '/api/v1/event-types/warm', JSON.stringify({ schema: { type: 'object' } }));

for (const [name, make] of Object.entries(shapes)) {
  if (values.only && !name.includes(values.only)) continue;
  const body = JSON.stringify({ schema: make() });
  const { schema } = JSON.parse(body) as { schema: Schema };
  const runs: string[] = [];
  let keywords = '';
  for (let i = 0; i < 3; i++) {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    try {
      keywords = String(schemaKeywordCount(schema));
    } catch (error) {
      keywords = `threw ${(error as Error).message}`;
    }
    const used = process.cpuUsage(cpu);
    runs.push(`${(performance.now() - wall).toFixed(0)}/${((used.user + used.system) / 1000).toFixed(0)}`);
  }
  console.log(
    `${name.padEnd(28)} ${(body.length / 1024).toFixed(0).padStart(5)} KiB  ${keywords.padStart(9)} keywords  count ms wall/cpu: ${runs.join(' ')}`,
  );
  if (!api) continue;
  let answered = false;
  const started = performance.now();
  const path = `/api/v1/event-types/${encodeURIComponent(name.replaceAll(' ', '.'))}`;
  // Sent again once when reset: fetch may reuse a connection the server closed while the schema was built.
  const put = request('PUT', path, body)
    .catch(() => request('PUT', path, body))
    .then(
      async (r) => ({ status: r.status, text: await r.text() }),
      (error: Error) => ({ status: 0, text: String(error.cause ?? error) }),
    );
  void put.then(() => {
    answered = true;
  });
  let gets = 0;
  let longest = 0;
  while (!answered) {
    const asked = performance.now();
    await request('GET', '/healthz').catch(() => request('GET', '/healthz'));
    longest = Math.max(longest, performance.now() - asked);
    gets++;
  }
  const { status, text } = await put;
  const message =
    status === 0 ? text : ((JSON.parse(text) as { error?: { message?: string } }).error?.message ?? '');
  console.log(
    `${''.padEnd(28)} PUT ${status} in ${(performance.now() - started).toFixed(0)} ms; ${gets} GETs meanwhile, the longest ${longest.toFixed(0)} ms: ${message.slice(0, 90)}`,
  );
}
api?.app.server.closeAllConnections();
await api?.close();
