/**
 * docs/api.md and the OpenAPI document the server serves describe the same API: every operation of
 * the document has its section in api.md (a heading naming its method and path, or the health
 * table's row), every route api.md gives a section is in the document, each query parameter an
 * operation takes is named in its section, and every error code of api.md's Errors table is named in
 * the document by a response of its status. So a new route, parameter or error code cannot ship in
 * one and not the other. What the sections say is read by people, not by this test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Body, startApi, type TestApi } from './helpers.ts';

const API_MD = readFileSync(resolve(import.meta.dirname, '../../docs/api.md'), 'utf8');

/** Routes api.md describes that are not API operations, and not in the document. */
const NOT_OPERATIONS = ['/openapi.json', '/docs', '/ui'];

interface Section {
  /** The routes its heading names: `GET | PATCH | DELETE /api/v1/projects/:project`, `POST …/endpoints/:endpoint/test`. */
  routes: { methods: string[]; path: string }[];
  text: string;
}

/** api.md cut at its headings, and the health table's rows (one section each). */
function sections(): Section[] {
  const found: Section[] = [];
  let current: Section | undefined;
  for (const line of API_MD.split('\n')) {
    const heading = /^#{2,6} (.*)$/.exec(line)?.[1];
    const row = /^\| `(GET) (\/[^`\s]*)`/.exec(line);
    if (heading !== undefined) {
      current = { routes: [], text: '' };
      found.push(current);
      for (const m of heading.matchAll(
        /`((?:GET|POST|PUT|PATCH|DELETE)(?: \| (?:GET|POST|PUT|PATCH|DELETE))*) ((?:\/|…\/)[^`?\s]*)/g,
      )) {
        current.routes.push({ methods: m[1]!.split(' | '), path: m[2]! });
      }
    } else if (row) {
      found.push({ routes: [{ methods: [row[1]!], path: row[2]! }], text: line });
      continue;
    }
    if (current) current.text += `${line}\n`;
  }
  return found;
}

/** `…/endpoints/:endpoint/test` stands for a route under `/api/v1/projects/:project/`. */
const names = (written: string, path: string) =>
  written === path ||
  (written.startsWith('…/') &&
    path.startsWith('/api/v1/projects/:project/') &&
    path.endsWith(written.slice(1)));

/** The document's operations, paths written as api.md writes them (`:project`). */
function operations(doc: Body): { method: string; path: string; operation: Body }[] {
  return Object.entries<Body>(doc.paths).flatMap(([path, ops]) =>
    Object.entries<Body>(ops)
      .filter(([, operation]) => operation?.responses)
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path: path.replace(/\{(\w+)\}/g, ':$1'),
        operation,
      })),
  );
}

const sectionsOf = (all: Section[], method: string, path: string) =>
  all.filter((s) => s.routes.some((r) => r.methods.includes(method) && names(r.path, path)));

describe('docs/api.md and the OpenAPI document', () => {
  let api: TestApi;
  let doc: Body;
  before(async () => {
    api = await startApi();
    const r = await api.call('GET', '/openapi.json', undefined, { token: null });
    assert.equal(r.status, 200);
    doc = r.body;
  });
  after(() => api.close());

  test('every operation of the document has one section in api.md, and every route api.md heads a section with is in the document', () => {
    const all = sections();
    const ops = operations(doc);
    assert.ok(ops.length > 30, `read the document's operations: ${ops.length}`);
    const without = ops
      .filter(({ method, path }) => sectionsOf(all, method, path).length !== 1)
      .map(({ method, path }) => `${method} ${path}: ${sectionsOf(all, method, path).length} sections`);
    assert.deepEqual(without, []);
    const notInDocument = all
      .flatMap((s) => s.routes.flatMap((r) => r.methods.map((method) => ({ method, path: r.path }))))
      .filter(({ path }) => !NOT_OPERATIONS.includes(path))
      .filter(({ method, path }) => !ops.some((op) => op.method === method && names(path, op.path)))
      .map(({ method, path }) => `${method} ${path}`);
    assert.deepEqual(notInDocument, []);
  });

  test("each query parameter of an operation is named in the operation's section of api.md", () => {
    const all = sections();
    const unnamed = operations(doc).flatMap(({ method, path, operation }) => {
      const [section] = sectionsOf(all, method, path);
      if (!section) return [];
      return (operation.parameters ?? [])
        .filter((p: Body) => p.in === 'query')
        .map((p: Body) => p.name as string)
        .filter((name: string) => !new RegExp(`[?&\`]${name}\\b`).test(section.text))
        .map((name: string) => `${method} ${path} ?${name}`);
    });
    assert.deepEqual(unnamed, []);
  });

  test('each query parameter of the document says which values it takes: an enum, or a description', () => {
    // A generated client sees only the document: `limit`'s schema (1 to 6 digits) would let it
    // send 5000, and `bucket`'s (any 8 characters) 2h, both 400.
    const silent = operations(doc).flatMap(({ method, path, operation }) =>
      (operation.parameters ?? [])
        .filter((p: Body) => p.in === 'query' && !p.schema?.enum && !p.description)
        .map((p: Body) => `${method} ${path} ?${p.name}`),
    );
    assert.deepEqual(silent, []);
  });

  test('each page schema of the document says the order its list answers in', async () => {
    // Two of everything a list holds, made one after the other (ids sort by creation).
    const project = await api.project('Order A');
    await api.project('Order B');
    for (const name of ['first', 'second']) {
      assert.equal((await api.call('POST', `/api/v1/projects/${project.id}/api-keys`, { name })).status, 201);
    }
    const endpoints: string[] = [];
    for (const path of ['a', 'b']) {
      const r = await api.call('POST', `/api/v1/projects/${project.id}/endpoints`, {
        url: `https://hooks.example.com/${path}`,
      });
      endpoints.push(r.body.id);
    }
    const events: string[] = [];
    for (const n of [1, 2]) {
      const r = await api.call('POST', `/api/v1/projects/${project.id}/events`, {
        type: 'order.made',
        payload: { n },
      });
      events.push(r.body.id);
    }
    for (const name of ['b.type', 'a.type']) {
      assert.equal((await api.call('PUT', `/api/v1/event-types/${name}`, {})).status, 200);
    }
    // endpoint.disabled, then endpoint.recovered
    await api.call('PATCH', `/api/v1/projects/${project.id}/endpoints/${endpoints[0]}`, { active: false });
    await api.call('POST', `/api/v1/projects/${project.id}/endpoints/${endpoints[0]}/enable`);

    const P = `/api/v1/projects/${project.id}`;
    const lists: [schema: string, url: string, key: string][] = [
      ['ProjectPage', '/api/v1/projects', 'id'],
      ['ApiKeyPage', `${P}/api-keys`, 'id'],
      ['EndpointPage', `${P}/endpoints`, 'id'],
      ['EventPage', `${P}/events`, 'id'],
      ['DeliveryPage', `${P}/events/${events[0]}/deliveries`, 'id'],
      ['OperationalEventPage', `${P}/operational-events`, 'id'],
      ['EventTypePage', '/api/v1/event-types', 'name'],
    ];
    const wrong: string[] = [];
    for (const [schema, url, key] of lists) {
      const r = await api.call('GET', url);
      assert.equal(r.status, 200, `${url}: ${r.text}`);
      const keys: string[] = r.body.data.map((item: Body) => item[key]);
      assert.ok(keys.length >= 2, `${url} lists two or more: ${keys.join(', ')}`);
      const ascending = keys.every((k, i) => i === 0 || keys[i - 1]! < k);
      const descending = keys.every((k, i) => i === 0 || keys[i - 1]! > k);
      const order =
        key === 'name' && ascending
          ? /\bby name\b/
          : descending
            ? /\bnewest first\b/
            : ascending
              ? /\boldest first\b/
              : null;
      assert.ok(order, `${url} answers in no order: ${keys.join(', ')}`);
      const described: string = doc.components.schemas[schema].description ?? '';
      const others = [/\bby name\b/, /\bnewest first\b/, /\boldest first\b/].filter(
        (o) => o.source !== order.source,
      );
      if (!order.test(described) || others.some((o) => o.test(described))) {
        wrong.push(`${schema}: "${described}", but ${url} answers ${order.source.replaceAll('\\b', '')}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test("every error code of api.md's Errors table is named in the document by a response of its status", () => {
    const errors = API_MD.slice(API_MD.indexOf('### Errors'), API_MD.indexOf('### Ids, times, pagination'));
    const rows = [...errors.matchAll(/^\| (\d{3}) \| ([^|]+) \|/gm)].flatMap(([, status, codes]) =>
      [...codes!.matchAll(/`(HERALD_ERR_[A-Z_]+)`/g)].map((m) => ({ status: status!, code: m[1]! })),
    );
    assert.ok(rows.length > 20, `read the Errors table: ${rows.length} codes`);
    const described = (response: Body): string => {
      const ref = response?.$ref as string | undefined;
      return ref
        ? (doc.components.responses[ref.split('/').pop()!]?.description ?? '')
        : (response?.description ?? '');
    };
    const unnamed = rows.filter(({ status, code }) => {
      const responses = operations(doc).map(({ operation }) => operation.responses);
      const ofStatus = responses.filter((r) => r[status]).map((r) => described(r[status]));
      // A status no operation lists is one of `default`'s ("Any other error …").
      const texts = ofStatus.length > 0 ? ofStatus : responses.map((r) => described(r.default));
      return !texts.some((text) => new RegExp(`\\b${code}\\b`).test(text));
    });
    assert.deepEqual(
      unnamed.map(({ status, code }) => `${status} ${code}`),
      [],
    );
  });
});
