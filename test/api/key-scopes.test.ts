/**
 * Project API key scopes (POST …/api-keys {scope}): what is made and listed, what is refused, and
 * what a leaked send-only key cannot do. The route-by-route matrix is test/api/auth-matrix.test.ts.
 * What a store decides (the scope stored and read back with the key, an unknown one a later version
 * wrote, what a send key repeating an idempotency key is answered, the key a portal link was made
 * with) runs on SQLite and on PostgreSQL (one cluster for the file); what the API alone decides
 * (the OpenAPI document, routes that must declare their access) runs once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newApiKey } from '../../src/api/auth.ts';
import { buildApp } from '../../src/api/build-app.ts';
import { type OpenStore, onBothStores } from '../support/both-stores.ts';
import { assertError, startApi, type TestApi } from './helpers.ts';

const keys = (id: string) => `/api/v1/projects/${id}/api-keys`;

onBothStores(
  (storeName, open) =>
    describe(`API key scopes (${storeName})`, () => {
      let api: TestApi;
      let opened: Awaited<ReturnType<OpenStore>>;
      let project: { id: string };

      before(async () => {
        opened = await open();
        api = await startApi({}, { store: opened.store });
        project = await api.project('scopes');
      });
      after(async () => {
        await api?.close();
        await opened?.done();
      });

      test('a key is made with the scope asked for, full when none is, and listings show it but never the key', async () => {
        const made: Record<string, { id: string; key: string; scope: string }> = {};
        for (const [name, scope] of [
          ['default', undefined],
          ['producer', 'send'],
          ['monitor', 'read'],
          ['ops', 'full'],
        ] as const) {
          const r = await api.call(
            'POST',
            keys(project.id),
            scope === undefined ? { name } : { name, scope },
          );
          assert.equal(r.status, 201, r.text);
          assert.match(r.body.key, /^hk_/);
          made[name] = r.body;
        }
        assert.deepEqual(
          Object.values(made).map((k) => k.scope),
          ['full', 'send', 'read', 'full'],
        );
        const listed = await api.call('GET', keys(project.id));
        assert.equal(listed.status, 200);
        const byName = Object.fromEntries(listed.body.data.map((k: { name: string }) => [k.name, k]));
        for (const [name, key] of Object.entries(made)) {
          assert.equal(byName[name].scope, key.scope, name);
          assert.equal(byName[name].id, key.id);
          assert.equal('key' in byName[name], false, 'no key in listings');
          assert.equal('keyHash' in byName[name], false);
          assert.ok(!listed.text!.includes(key.key), 'the key appears nowhere in the listing');
        }
        // A read-only key may list them too (scopes included), but a send-only key may not.
        assert.equal(
          (await api.call('GET', keys(project.id), undefined, { token: made.monitor!.key })).status,
          200,
        );
        const refused = await api.call('GET', keys(project.id), undefined, { token: made.producer!.key });
        assertError(refused, 403, 'HERALD_ERR_FORBIDDEN');
      });

      test('an unknown scope is 400 naming body.scope, and no key is made', async () => {
        const before = (await api.call('GET', keys(project.id))).body.data.length;
        for (const scope of ['admin', 'SEND', '', 'send,read', 5, null, ['send']]) {
          const r = await api.call('POST', keys(project.id), { name: 'bad', scope });
          assertError(r, 400, 'HERALD_ERR_VALIDATION', 'body.scope');
          assert.match(r.body.error.message, /^body\.scope: /, r.text);
        }
        assert.equal((await api.call('GET', keys(project.id))).body.data.length, before);
      });

      test('a refusal names the key’s scope, what it allows, and the scopes that would do', async () => {
        const send = (await api.call('POST', keys(project.id), { name: 'p', scope: 'send' })).body.key;
        const endpoint = (
          await api.call('POST', `/api/v1/projects/${project.id}/endpoints`, {
            url: 'https://receiver.example/h',
          })
        ).body;
        const r = await api.call(
          'GET',
          `/api/v1/projects/${project.id}/endpoints/${endpoint.id}/secret`,
          undefined,
          { token: send },
        );
        assertError(r, 403, 'HERALD_ERR_FORBIDDEN');
        assert.equal(
          r.body.error.message,
          "this API key's scope is send, which allows only sending events (POST …/events and …/events/batch) and reading the installation settings and the event catalog; this route needs a key of scope full",
        );
        assert.deepEqual(r.body.error.details, { scope: 'send', scopes: ['full'] });
      });

      test('a leaked send-only key sends events, and cannot redirect an endpoint, read its secret or payloads, delete it, or make a portal link', async () => {
        const send = (await api.call('POST', keys(project.id), { name: 'leaked', scope: 'send' })).body.key;
        const base = `/api/v1/projects/${project.id}`;
        const endpoint = (
          await api.call('POST', `${base}/endpoints`, { url: 'https://receiver.example/real' })
        ).body;
        const as = { token: send };
        const sent = await api.call(
          'POST',
          `${base}/events`,
          { type: 'order.paid', payload: { card: '4242' } },
          as,
        );
        assert.equal(sent.status, 202, sent.text);
        const batch = await api.call(
          'POST',
          `${base}/events/batch`,
          { events: [{ type: 'a', payload: {} }] },
          as,
        );
        assert.equal(batch.status, 202, batch.text);
        assert.equal((await api.call('GET', '/api/v1/installation', undefined, as)).status, 200);
        const attempts: [string, string, unknown?][] = [
          ['PATCH', `${base}/endpoints/${endpoint.id}`, { url: 'https://attacker.example/steal' }],
          ['GET', `${base}/endpoints/${endpoint.id}/secret`],
          ['POST', `${base}/endpoints/${endpoint.id}/secret/rotate`, {}],
          ['GET', `${base}/events/${sent.body.id}`],
          ['GET', `${base}/events`],
          ['DELETE', `${base}/endpoints/${endpoint.id}`],
          ['POST', `${base}/endpoints`, { url: 'https://attacker.example/new' }],
          ['POST', `${base}/portal-links`, { expiresIn: 3600 }],
        ];
        for (const [method, url, body] of attempts) {
          assertError(await api.call(method, url, body, as), 403, 'HERALD_ERR_FORBIDDEN');
        }
        const after = (await api.call('GET', `${base}/endpoints/${endpoint.id}`)).body;
        assert.equal(after.url, 'https://receiver.example/real', 'the endpoint still goes where it went');
      });

      test('a send-only key repeating an idempotency key learns the original event’s id, not its payload, callback URL or delivery states', async () => {
        const own = await api.project('repeats'); // its one endpoint only
        const base = `/api/v1/projects/${own.id}`;
        await api.call('POST', `${base}/endpoints`, { url: 'https://receiver.example/orders' });
        const send = (await api.call('POST', keys(own.id), { name: 'guesser', scope: 'send' })).body.key;
        // Another sender's events, with keys an attacker can guess (order numbers).
        const original = await api.call('POST', `${base}/events`, {
          type: 'order.paid',
          payload: { card: '4242-secret' },
          idempotencyKey: 'order-9001',
          callbackUrl: 'https://callback.example/token-secret',
        });
        assert.equal(original.status, 202, original.text);
        const batchOriginal = await api.call('POST', `${base}/events/batch`, {
          events: [{ type: 'order.paid', payload: { card: '5555-secret' }, idempotencyKey: 'order-9002' }],
        });
        assert.equal(batchOriginal.status, 202, batchOriginal.text);
        const as = { token: send };
        const one = await api.call(
          'POST',
          `${base}/events`,
          { type: 'probe', payload: {}, idempotencyKey: 'order-9001' },
          as,
        );
        assert.equal(one.status, 202, one.text);
        assert.equal(one.headers['idempotent-replayed'], 'true');
        assert.equal(one.body.id, original.body.id, 'the repeat names the event it repeats');
        assert.equal(one.body.deliveryCount, 2);
        assert.deepEqual(one.body.deliveries, []);
        assert.deepEqual(one.body.withheld, ['payload', 'callbackUrl', 'callbackEnvelope', 'deliveries']);
        const batch = await api.call(
          'POST',
          `${base}/events/batch`,
          {
            events: [
              { type: 'probe', payload: {}, idempotencyKey: 'order-9002' },
              { type: 'probe', payload: {}, idempotencyKey: 'order-9001' },
            ],
          },
          as,
        );
        assert.equal(batch.status, 202, batch.text);
        assert.deepEqual(
          batch.body.data.map((e: { id: string }) => e.id),
          [batchOriginal.body.data[0].id, original.body.id],
        );
        for (const r of [one, batch]) {
          for (const secret of ['4242-secret', '5555-secret', 'token-secret', 'receiver.example']) {
            assert.ok(!r.text!.includes(secret), `${secret} is not in ${r.text}`);
          }
        }
        // A key that may read the project is answered the original whole, as before.
        const whole = await api.call('POST', `${base}/events`, {
          type: 'probe',
          payload: {},
          idempotencyKey: 'order-9001',
        });
        assert.deepEqual(whole.body.payload, { card: '4242-secret' });
        assert.equal(whole.body.deliveries.length, 2);
        // And a send key's own new event is answered whole (its deliveries included).
        const fresh = await api.call('POST', `${base}/events`, { type: 'new', payload: { a: 1 } }, as);
        assert.deepEqual(fresh.body.payload, { a: 1 });
        assert.equal(fresh.body.deliveries.length, 1);
      });

      test('a stored scope this version does not know (a later version wrote it) is refused everywhere', async () => {
        const { key, keyHash, prefix } = newApiKey();
        await api.store.createApiKey(
          // biome-ignore lint/suspicious/noExplicitAny: a value the types do not allow, as a later version could write
          { projectId: project.id, name: 'future', keyHash, prefix, scope: 'admin' as any },
          Date.now(),
        );
        for (const [method, url, body] of [
          ['GET', '/api/v1/installation'],
          ['GET', `/api/v1/projects/${project.id}`],
          ['POST', `/api/v1/projects/${project.id}/events`, { type: 'a', payload: {} }],
        ] as [string, string, unknown?][]) {
          const r = await api.call(method, url, body, { token: key });
          assertError(r, 403, 'HERALD_ERR_FORBIDDEN');
          assert.match(r.body.error.message, /scope is admin, which allows nothing/);
        }
      });

      test('portal links made with a full key keep working', async () => {
        const full = await api.apiKey(project.id);
        const link = await api.call(
          'POST',
          `/api/v1/projects/${project.id}/portal-links`,
          { expiresIn: 60 },
          {
            token: full,
          },
        );
        assert.equal(link.status, 201, link.text);
        const r = await api.call('GET', `/api/v1/projects/${project.id}/endpoints`, undefined, {
          token: link.body.token,
        });
        assert.equal(r.status, 200, r.text);
      });
    }),
  { sqlite: 'memory' },
);

describe('API key scopes, whatever the store', () => {
  let api: TestApi;

  before(async () => {
    api = await startApi();
  });
  after(() => api?.close());

  test('the OpenAPI document says which key scopes may call each operation, and the 403 of the others', async () => {
    const doc = (await api.call('GET', '/openapi.json', undefined, { token: null })).body;
    const P = '/api/v1/projects/{project}';
    // biome-ignore lint/suspicious/noExplicitAny: the document is read loosely
    const op = (path: string, method: string): any => doc.paths[path][method];
    assert.deepEqual(op(`${P}/events`, 'post')['x-herald-key-scopes'], ['full', 'send']);
    assert.deepEqual(op(`${P}/events`, 'get')['x-herald-key-scopes'], ['full', 'read']);
    assert.deepEqual(op(`${P}/endpoints/{endpoint}/secret`, 'get')['x-herald-key-scopes'], ['full']);
    assert.deepEqual(op('/api/v1/installation', 'get')['x-herald-key-scopes'], ['full', 'send', 'read']);
    assert.deepEqual(op('/api/v1/projects', 'post')['x-herald-key-scopes'], []);
    assert.match(JSON.stringify(op(`${P}/events`, 'post').responses[403]), /scope than full or send/);
    assert.equal(
      op('/api/v1/installation', 'get').responses[403],
      undefined,
      'every key and portal link may',
    );
    // And whether a customer portal link may (portal-access.ts), with its 403 where it may not.
    assert.equal(op(`${P}/events`, 'get')['x-herald-portal'], true);
    assert.equal(op(`${P}/events`, 'post')['x-herald-portal'], false);
    assert.equal(op('/api/v1/projects', 'post')['x-herald-portal'], false);
    assert.match(JSON.stringify(op(`${P}/events`, 'post').responses[403]), /a customer portal link/);
    assert.doesNotMatch(JSON.stringify(op(`${P}/endpoints`, 'post').responses[403] ?? ''), /portal link/);
    assert.match(
      JSON.stringify(op(`${P}/api-keys`, 'get').responses[403]),
      /scope than full or read .*; a customer portal link/,
    );
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, operation] of Object.entries(item)) {
        assert.ok(
          Array.isArray((operation as Record<string, unknown>)['x-herald-key-scopes']),
          `${method} ${path}`,
        );
        assert.equal(
          typeof (operation as Record<string, unknown>)['x-herald-portal'],
          'boolean',
          `${method} ${path}`,
        );
      }
    }
  });

  test('an API route registered without config.access stops the app from starting', async () => {
    const app = buildApp({ store: api.store, config: api.config });
    app.register(async (scope) => {
      scope.get('/api/v1/forgotten', async () => ({ everyone: 'welcome' }));
    });
    await assert.rejects(
      async () => app.ready(),
      /route GET \/api\/v1\/forgotten declares no config\.access/,
    );
    await app.close().catch(() => {});
  });
});
