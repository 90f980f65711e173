/** /healthz, /readyz, /metrics, /openapi.json and /docs. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/api/build-app.ts';
import { DOCS_CSP, DOCS_INLINE_STYLE } from '../../src/api/routes/openapi.ts';
import { SEALED_WITH_ANOTHER_KEY } from '../../src/delivery/secret-key-readiness.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { CHECK_EVERY_MS } from '../../src/store/sqlite/database-file-watch.ts';
import { withPostgres } from '../support/postgres.ts';
import { type Body, startApi, type TestApi } from './helpers.ts';
import { openApiValidator } from './openapi-validator.ts';

/** Every route of DESIGN "HTTP API v1" (OpenAPI path syntax). */
const ROUTES: [string, string][] = [
  ['post', '/api/v1/projects'],
  ['get', '/api/v1/projects'],
  ['get', '/api/v1/projects/{project}'],
  ['patch', '/api/v1/projects/{project}'],
  ['delete', '/api/v1/projects/{project}'],
  ['post', '/api/v1/projects/{project}/api-keys'],
  ['get', '/api/v1/projects/{project}/api-keys'],
  ['delete', '/api/v1/projects/{project}/api-keys/{key}'],
  ['put', '/api/v1/event-types/{name}'],
  ['get', '/api/v1/event-types'],
  ['get', '/api/v1/event-types/{name}'],
  ['post', '/api/v1/projects/{project}/endpoints'],
  ['get', '/api/v1/projects/{project}/endpoints'],
  ['get', '/api/v1/projects/{project}/endpoints/{endpoint}'],
  ['patch', '/api/v1/projects/{project}/endpoints/{endpoint}'],
  ['delete', '/api/v1/projects/{project}/endpoints/{endpoint}'],
  ['get', '/api/v1/projects/{project}/endpoints/{endpoint}/secret'],
  ['post', '/api/v1/projects/{project}/endpoints/{endpoint}/secret/rotate'],
  ['post', '/api/v1/projects/{project}/endpoints/{endpoint}/test'],
  ['post', '/api/v1/projects/{project}/endpoints/{endpoint}/enable'],
  ['post', '/api/v1/projects/{project}/endpoints/{endpoint}/recover'],
  ['get', '/api/v1/projects/{project}/endpoints/{endpoint}/attempts'],
  ['get', '/api/v1/projects/{project}/endpoints/{endpoint}/stats'],
  ['post', '/api/v1/projects/{project}/events'],
  ['post', '/api/v1/projects/{project}/events/batch'],
  ['get', '/api/v1/projects/{project}/events'],
  ['get', '/api/v1/projects/{project}/events/{event}'],
  ['get', '/api/v1/projects/{project}/events/{event}/deliveries'],
  ['get', '/api/v1/projects/{project}/events/{event}/attempts'],
  ['get', '/api/v1/projects/{project}/deliveries/{delivery}'],
  ['post', '/api/v1/projects/{project}/deliveries/{delivery}/retry'],
  ['get', '/api/v1/projects/{project}/attempts/{attempt}'],
  ['get', '/api/v1/projects/{project}/operational-events'],
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
];

describe('health, metrics, OpenAPI', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi(
      {},
      { metrics: { contentType: 'text/plain; version=0.0.4', render: async () => 'herald_up 1\n' } },
    );
  });
  after(() => api.close());

  test('healthz is always 200; readyz follows the ready flag and the store', async () => {
    assert.equal((await api.call('GET', '/healthz', undefined, { token: null })).status, 200);
    assert.equal((await api.call('GET', '/readyz', undefined, { token: null })).status, 503);
    api.app.setReady(true);
    assert.equal((await api.call('GET', '/readyz', undefined, { token: null })).status, 200);
    api.app.setReady(false);
    assert.equal((await api.call('GET', '/readyz', undefined, { token: null })).status, 503);
  });

  test('readyz says starting before the process is ready and stopping from its shutdown on, for good', async () => {
    const other = await startApi();
    try {
      const readyz = async () => {
        const answer = await other.call('GET', '/readyz', undefined, { token: null });
        return { status: answer.status, body: answer.body };
      };
      assert.deepEqual(await readyz(), { status: 503, body: { status: 'starting' } });
      other.app.setReady(true);
      other.app.setStopping();
      assert.deepEqual(await readyz(), { status: 503, body: { status: 'stopping' } });
      other.app.setReady(true);
      assert.deepEqual(
        await readyz(),
        { status: 503, body: { status: 'stopping' } },
        'a stop is not taken back',
      );
    } finally {
      await other.close();
    }
  });

  test('readyz is 503 when the store cannot answer', async () => {
    const other = await startApi();
    other.app.setReady(true);
    assert.equal((await other.call('GET', '/readyz', undefined, { token: null })).status, 200);
    await other.store.close();
    assert.equal((await other.call('GET', '/readyz', undefined, { token: null })).status, 503);
    await other.app.close();
    rmSync(other.dir, { recursive: true, force: true });
  });

  test('every status /readyz answers is one the OpenAPI document gives', async () => {
    const answers: { status: number; text: string }[] = [];
    const readyz = async (app: FastifyInstance) => {
      const r = await app.inject({ method: 'GET', url: '/readyz' });
      answers.push({ status: r.statusCode, text: r.body });
    };
    // A dispatcher that cannot open the endpoint secrets (secret-key-readiness.ts) holds it unready.
    const sealed = buildApp({
      store: api.store,
      config: api.config,
      notReady: () => SEALED_WITH_ANOTHER_KEY,
    });
    await sealed.ready();
    sealed.setReady(true);
    await readyz(sealed);
    await sealed.close();
    // The SQLite file deleted under the server (its watch looks at most once a second).
    const gone = await startApi({}, { onDisk: true });
    gone.app.setReady(true);
    rmSync(join(gone.dir, 'herald.db'));
    await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS + 100));
    await readyz(gone.app);
    await gone.close();
    // A PostgreSQL that answers reads but takes no writes (the URL leads to a standby): a database
    // whose sessions start read-only stands in for one.
    const server = await withPostgres();
    try {
      const url = await server.createDatabase();
      const migrated = new PostgresStore(url);
      await migrated.migrate();
      await migrated.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(
        `ALTER DATABASE "${new URL(url).pathname.slice(1)}" SET default_transaction_read_only = on`,
      );
      await admin.end();
      const standby = new PostgresStore(url);
      const readOnly = await startApi({}, { store: standby });
      readOnly.app.setReady(true);
      await readyz(readOnly.app);
      await readOnly.close();
      await standby.close();
    } finally {
      await server.stop();
    }
    assert.deepEqual(
      answers.map((a) => [a.status, JSON.parse(a.text).status]),
      [
        [503, SEALED_WITH_ANOTHER_KEY],
        [503, 'database file deleted or replaced'],
        [503, 'database read-only'],
      ],
    );
    const doc = (await api.call('GET', '/openapi.json', undefined, { token: null })).body;
    const validator = openApiValidator(doc);
    for (const answer of answers) {
      validator.check('GET', '/readyz', { ...answer, contentType: 'application/json; charset=utf-8' });
    }
  });

  test('metrics serves what the metrics source renders; 404 without one', async () => {
    const r = await api.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, 'herald_up 1\n');
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const bare = await startApi();
    assert.equal((await bare.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    await bare.close();
  });

  test('openapi.json describes every route, with request schemas', async () => {
    const r = await api.call('GET', '/openapi.json', undefined, { token: null });
    assert.equal(r.status, 200);
    const doc: Body = r.body;
    assert.match(doc.openapi, /^3\./);
    for (const [method, path] of ROUTES) {
      assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is missing`);
    }
    // The Idempotency-Key header of a single event is listed with the operation's parameters.
    const send = doc.paths['/api/v1/projects/{project}/events'].post;
    const header = send.parameters.find((p: Body) => p.in === 'header' && p.name === 'idempotency-key');
    assert.ok(header, 'POST …/events lists the Idempotency-Key header');
    assert.match(header.description, /printable ASCII, 1 to 200 characters/);
    const create = doc.paths['/api/v1/projects/{project}/endpoints'].post;
    const schema = create.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required, ['url']);
    assert.equal(schema.properties.url.maxLength, 2048);
    assert.equal(schema.properties.headers.maxProperties, 50);
    // Probes and scrapes need no token; the API's routes need the bearer token.
    for (const path of ['/healthz', '/readyz', '/metrics'])
      assert.deepEqual(doc.paths[path].get.security, [], path);
    assert.ok(doc.security?.length || create.security?.length, 'the API routes name the bearer token');
    assert.notDeepEqual(create.security, []);
  });

  test('docs are served from bundled assets', async () => {
    const page = await api.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /swagger/i);
    assert.doesNotMatch(page.body, /https?:\/\/(cdn|unpkg|cdnjs)/);
    // Every script is a file of this origin: the CSP's script-src 'self' runs them all.
    assert.doesNotMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>/);
  });

  test('docs carry a CSP (frame-ancestors none), X-Frame-Options DENY and nosniff, on the page and its assets', async () => {
    for (const url of [
      '/docs',
      '/docs/',
      '/docs/static/swagger-ui-bundle.js',
      '/docs/json',
      '/docs/static/nope.js',
    ]) {
      const r = await api.app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, url.endsWith('nope.js') ? 404 : 200, url);
      const csp = String(r.headers['content-security-policy']);
      assert.equal(csp, DOCS_CSP, url);
      assert.equal(r.headers['x-frame-options'], 'DENY', url);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(r.headers['referrer-policy'], 'no-referrer', url);
    }
    const directives = new Map(
      DOCS_CSP.split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/);
        return [name, values];
      }),
    );
    assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), ["'self'"]);
    assert.deepEqual(directives.get('connect-src'), ["'self'"]);
    assert.doesNotMatch(DOCS_CSP, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/);
    // The inline style the CSP allows by hash is the one Swagger UI's bundled assets render.
    const preset = readFileSync(
      join(
        import.meta.dirname,
        '../../node_modules/@fastify/swagger-ui/static/swagger-ui-standalone-preset.js',
      ),
      'utf8',
    );
    assert.ok(preset.includes(DOCS_INLINE_STYLE), 'the logo style of the bundled Swagger UI changed');
    // The API itself is not touched by the docs' hook.
    const health = await api.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.headers['content-security-policy'], undefined);
    assert.equal(health.headers['x-frame-options'], undefined);
  });
});
