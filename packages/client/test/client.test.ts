/**
 * @herald/client against a real `herald serve` (test/e2e/harness.ts) on loopback: every call goes
 * over HTTP to the real API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HeraldProcess, startHerald } from '../../../test/e2e/harness.ts';
import {
  type DeliveryState,
  HeraldApiError,
  HeraldClient,
  HeraldEventTooLargeError,
  paginate,
} from '../src/index.ts';

const ADMIN = 'client-admin-token-0123456789abcdef';

describe('@herald/client', () => {
  let herald: HeraldProcess;
  let client: HeraldClient;
  before(async () => {
    // An API-only Herald: these tests read what the API stored, and nothing tries to deliver (not
    // even a DNS lookup of the endpoint's example.test name, which would leave loopback).
    herald = await startHerald({ args: ['--role', 'api'], env: { HERALD_ADMIN_TOKEN: ADMIN } });
    client = new HeraldClient({ url: herald.url, token: ADMIN, batchSize: 2 });
  });
  after(async () => {
    await client?.close();
    await herald?.dispose();
  });

  test('creates a project and an endpoint, sends events one and in batches, reads them back', async () => {
    const project = await client.createProject({ name: 'client', uid: 'client-test' });
    // request(): a path below /api/v1, with or without its slash, or a whole /api/ path.
    for (const path of ['/projects/client-test', 'projects/client-test', '/api/v1/projects/client-test']) {
      assert.equal((await client.request<{ id: string }>('GET', path)).id, project.id);
    }
    assert.match(project.id, /^prj_/);
    const endpoint = await client.createEndpoint('client-test', {
      url: 'https://example.test/hook',
      eventTypes: ['player.paid'],
    });
    assert.match(String(endpoint.secret), /^whsec_/);

    const one = await client.sendEvent(project.id, { type: 'player.paid', payload: { amount: 5 } });
    assert.equal(one.type, 'player.paid');
    assert.deepEqual(
      one.deliveries.map((d) => d.endpointId),
      [endpoint.id],
    );

    // batchSize 2: five events go in three requests, and come back in input order.
    const inputs = [1, 2, 3, 4, 5].map((n) => ({
      type: n % 2 ? 'player.paid' : 'player.joined',
      payload: { n },
    }));
    const sent = await client.sendEvents(project.id, inputs);
    assert.deepEqual(
      sent.map((e) => (e.payload as { n: number }).n),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      sent.map((e) => e.deliveries.length),
      [1, 0, 1, 0, 1],
    );

    const got = await client.getEvent(project.id, sent[2]!.id);
    assert.deepEqual(got.payload, { n: 3 });
    const alone = await client.getEventWithoutDeliveries(project.id, sent[2]!.id);
    const { deliveries, ...event } = got;
    assert.equal(deliveries.length, 1);
    assert.deepEqual(alone, event, 'the same event, its deliveries left out');
    assert.equal(alone.deliveryCount, 1);
    const paid = await client.listEvents(project.id, { type: 'player.paid', limit: 10 });
    assert.equal(paid.data.length, 4);

    // Every page, through paginate: 6 events in pages of 4.
    const all = [];
    for await (const e of paginate((q) => client.listEvents(project.id, q), 4)) all.push(e.id);
    assert.equal(all.length, 6);
    assert.equal(new Set(all).size, 6);
  });

  test('a url given with /api/v1 (as the docs write the API paths) works: the client adds it once', async () => {
    for (const suffix of ['/api/v1', '/api/v1/']) {
      const copied = new HeraldClient({ url: herald.url + suffix, token: ADMIN });
      try {
        const projects = await copied.listProjects();
        assert.ok(Array.isArray(projects.data), suffix);
      } finally {
        await copied.close();
      }
    }
  });

  test('a refusal names the field Herald named, also when its words do not (a taken uid: 409)', async () => {
    await client.createProject({ name: 'taken', uid: 'taken-uid' });
    await assert.rejects(client.createProject({ name: 'again', uid: 'taken-uid' }), (error: unknown) => {
      assert.ok(error instanceof HeraldApiError, String(error));
      assert.equal(error.message, '409 HERALD_ERR_CONFLICT: body.uid: a project with this uid exists');
      assert.deepEqual(error.details, { field: 'body.uid' });
      return true;
    });
    // Words that start with the field keep it once.
    await assert.rejects(client.createProject({ name: '' }), (error: unknown) => {
      assert.ok(error instanceof HeraldApiError, String(error));
      assert.match(error.message, /^400 HERALD_ERR_VALIDATION: body\.name: (?!body\.name)/);
      return true;
    });
  });

  test('a batch sendEvents had refused says how many events were stored before it and which event it names', async () => {
    const project = await client.createProject({ name: 'refused batch' });
    const events = (bad: number, type: string) =>
      Array.from({ length: 5 }, (_, n) => ({ type: n === bad ? type : 'player.paid', payload: { n } }));
    // Batches of 2: events 0-1 stored, the batch of 2-3 refused for event 3, event 4 never sent.
    await assert.rejects(client.sendEvents(project.id, events(3, 'order.*')), (error: unknown) => {
      assert.ok(error instanceof HeraldApiError, String(error));
      assert.equal(error.status, 400);
      assert.equal((error.details as { field: string }).field, 'body.events.1.type');
      assert.deepEqual([error.stored, error.eventIndex], [2, 3]);
      return true;
    });
    assert.equal((await client.listEvents(project.id)).data.length, 2);
    // A field of the schema's own checks (a type too long) is named the same way.
    await assert.rejects(client.sendEvents(project.id, events(4, 'x'.repeat(300))), (error: unknown) => {
      assert.ok(error instanceof HeraldApiError, String(error));
      assert.deepEqual([error.status, error.stored, error.eventIndex], [400, 4, 4]);
      return true;
    });
    // An error of another call carries neither.
    await assert.rejects(client.getEvent(project.id, 'evt_missing'), (error: unknown) => {
      assert.ok(error instanceof HeraldApiError);
      assert.deepEqual([error.stored, error.eventIndex], [undefined, undefined]);
      return true;
    });
  });

  test('sendEvents splits batches to fit the body limit: 1,000 events of 1 KiB are over 1 MiB', async () => {
    const project = await client.createProject({ name: 'big batches' });
    const pad = 'é'.repeat(512); // 1 KiB in UTF-8: bytes, not characters, count
    const inputs = Array.from({ length: 1000 }, (_, n) => ({ type: 'player.paid', payload: { n, pad } }));
    assert.ok(Buffer.byteLength(JSON.stringify({ events: inputs })) > 1024 * 1024);
    const defaults = new HeraldClient({ url: herald.url, token: ADMIN });
    try {
      const sent = await defaults.sendEvents(project.id, inputs);
      assert.deepEqual(
        sent.map((e) => (e.payload as { n: number }).n),
        inputs.map((e) => e.payload.n),
      );
      assert.equal(new Set(sent.map((e) => e.id)).size, 1000);
    } finally {
      await defaults.close();
    }
  });

  test('an idempotency key returns the original event', async () => {
    const project = await client.createProject({ name: 'idem' });
    const a = await client.sendEvent(project.id, { type: 'x', payload: 1, idempotencyKey: 'k-1' });
    const b = await client.sendEvent(project.id, { type: 'x', payload: 2, idempotencyKey: 'k-1' });
    assert.equal(b.id, a.id);
    assert.equal(b.payload, 1);
  });

  test('refusals come back as HeraldApiError with status, code and the field', async () => {
    const project = await client.createProject({ name: 'errors' });
    await assert.rejects(
      client.createEndpoint(project.id, { url: 'not a url' }),
      (error: unknown) =>
        error instanceof HeraldApiError &&
        error.status >= 400 &&
        error.status < 500 &&
        /url/.test(error.message),
    );
    await assert.rejects(client.getEvent(project.id, 'evt_missing'), (error: unknown) => {
      return error instanceof HeraldApiError && error.status === 404 && error.code.length > 0;
    });
    await assert.rejects(
      client.getDelivery(project.id, 'dlv_missing'),
      (error: unknown) =>
        error instanceof HeraldApiError && error.status === 404 && error.code === 'HERALD_ERR_NOT_FOUND',
    );
    const wrong = new HeraldClient({ url: herald.url, token: 'not-the-token-0123456789' });
    try {
      await assert.rejects(
        wrong.listProjects(),
        (error: unknown) => error instanceof HeraldApiError && error.status === 401,
      );
    } finally {
      await wrong.close();
    }
    assert.throws(() => new HeraldClient({ url: 'ftp://x', token: 't' }), /url/);
    // Not a URL at all: an unset variable (`process.env.HERALD_URL!`), an empty one, a host and
    // port without the scheme. Node's own "Invalid URL" did not say which option.
    for (const url of [undefined, '', '127.0.0.1:8080', 'http://']) {
      assert.throws(
        () => new HeraldClient({ url: url as string, token: 't' }),
        (error: Error) =>
          error instanceof TypeError &&
          error.message.startsWith(
            "url: expected an absolute http:// or https:// URL (Herald's root), got ",
          ) &&
          error.message.endsWith(url === undefined ? 'undefined' : JSON.stringify(url)),
        String(url),
      );
    }
    assert.throws(() => new HeraldClient({ url: herald.url, token: '' }), /token/);
    // A token read from a file with its line end, or copied with a typographic quote: undici
    // refused the header before sending it, and the call was tried 3 times as a network error
    // ('invalid authorization header', tries 3, notStored false: as if it may have been stored).
    for (const [token, said] of [
      ['herald-token-0123456789\n', 'U+000A at character 24'],
      ['\u201cherald-token-0123456789', 'U+201C at character 1'],
      ['herald\rtoken', 'U+000D at character 7'],
    ] as const) {
      assert.throws(
        () => new HeraldClient({ url: herald.url, token }),
        (error: Error) =>
          error instanceof TypeError &&
          error.message.startsWith(`token: holds ${said}, which an HTTP header cannot carry`) &&
          !error.message.includes('0123456789'),
        JSON.stringify(token),
      );
    }
  });

  test('the endpoint levers answer what they did: resumed, recovered, replayed, and 409 on a disabled endpoint', async () => {
    const project = await client.createProject({ name: 'levers' });
    const endpoint = await client.createEndpoint(project.id, { url: 'https://example.test/levers' });
    await client.sendEvents(project.id, [
      { type: 'a', payload: {} },
      { type: 'b', payload: {} },
    ]);
    const off = await client.updateEndpoint(project.id, endpoint.id, { active: false });
    assert.equal(off.resumed, undefined);
    await assert.rejects(
      client.recoverEndpoint(project.id, endpoint.id, { since: 0 }),
      (error: unknown) =>
        error instanceof HeraldApiError &&
        error.status === 409 &&
        error.code === 'HERALD_ERR_ENDPOINT_DISABLED',
    );
    // The two pending deliveries were parked by the disable; re-enabling resumes them.
    assert.equal((await client.updateEndpoint(project.id, endpoint.id, { active: true })).resumed, 2);
    await client.updateEndpoint(project.id, endpoint.id, { active: false });
    assert.equal((await client.enableEndpoint(project.id, endpoint.id)).resumed, 2);
    assert.deepEqual(await client.recoverEndpoint(project.id, endpoint.id, { since: 0 }), {
      recovered: 0,
      nextSince: null,
    });
    // An endpoint added afterwards gets both events by a replay, once.
    const late = await client.createEndpoint(project.id, { url: 'https://example.test/late' });
    assert.deepEqual(await client.replayEndpoint(project.id, late.id, { since: 0 }), {
      replayed: 2,
      nextSince: null,
    });
    assert.deepEqual(await client.replayEndpoint(project.id, late.id, { since: 0 }), {
      replayed: 0,
      nextSince: null,
    });
  });

  test('getInstallation answers the delivery settings as the API sends them, to any valid token', async () => {
    const installation = await client.getInstallation();
    assert.deepEqual(installation, await client.request('GET', '/installation'));
    // docs/api.md, Installation: Herald's defaults, as this server runs with none set.
    assert.deepEqual(installation.delivery, {
      defaultTimeoutMs: 5000,
      maxTimeoutMs: 30000,
      retrySchedule: [5, 300, 1800, 7200, 18000, 36000, 36000],
      retryJitter: 0.2,
    });
    assert.deepEqual(installation.requests, { maxBodyBytes: 1048576 });
    const project = await client.createProject({ name: 'installation' });
    const { key } = await client.createApiKey(project.id, 'sender', { scope: 'send' });
    const sender = new HeraldClient({ url: herald.url, token: key });
    try {
      assert.deepEqual(await sender.getInstallation(), installation);
    } finally {
      await sender.close();
    }
  });

  test('a project key sees only its project', async () => {
    const mine = await client.createProject({ name: 'mine' });
    const theirs = await client.createProject({ name: 'theirs' });
    const { key } = await client.createApiKey(mine.id, 'ci');
    const scoped = new HeraldClient({ url: herald.url, token: key });
    try {
      const event = await scoped.sendEvent(mine.id, { type: 'scoped', payload: {} });
      assert.equal(event.projectId, mine.id);
      await assert.rejects(
        scoped.sendEvent(theirs.id, { type: 'scoped', payload: {} }),
        (error: unknown) => error instanceof HeraldApiError && error.status === 404,
      );
    } finally {
      await scoped.close();
    }
  });

  test('API keys: a send-only key sends events and is refused the rest (403 naming its scope); listings show scopes', async () => {
    const project = await client.createProject({ name: 'producer' });
    const created = await client.createApiKey(project.id, 'producer', { scope: 'send' });
    assert.equal(created.scope, 'send');
    assert.equal((await client.createApiKey(project.id, 'default')).scope, 'full');
    assert.deepEqual(
      (await client.listApiKeys(project.id)).data.map((k) => [k.name, k.scope]),
      [
        ['default', 'full'],
        ['producer', 'send'],
      ],
    );
    const producer = new HeraldClient({ url: herald.url, token: created.key });
    try {
      assert.equal(
        (await producer.sendEvent(project.id, { type: 'sent', payload: {} })).projectId,
        project.id,
      );
      await assert.rejects(
        producer.listEndpoints(project.id),
        (error: unknown) =>
          error instanceof HeraldApiError &&
          error.status === 403 &&
          error.code === 'HERALD_ERR_FORBIDDEN' &&
          /scope is send/.test(error.message),
      );
    } finally {
      await producer.close();
    }
  });

  test('API keys: create, list without the key, delete revokes it', async () => {
    const project = await client.createProject({ name: 'keys' });
    const created = await client.createApiKey(project.id, 'deploy');
    hasFields(created, ['id', 'projectId', 'name', 'scope', 'prefix', 'createdAt', 'key']);
    assert.ok(created.key.startsWith(created.prefix));
    const listed = await client.listApiKeys(project.id);
    assert.deepEqual(
      listed.data.map((k) => k.id),
      [created.id],
    );
    hasFields(listed.data[0], ['id', 'projectId', 'name', 'prefix', 'createdAt']);
    assert.equal(listed.data[0]?.key, undefined, 'never the key');
    assert.equal(listed.nextCursor, null);
    await client.deleteApiKey(project.id, created.id);
    assert.deepEqual((await client.listApiKeys(project.id)).data, []);
    const revoked = new HeraldClient({ url: herald.url, token: created.key });
    try {
      await assert.rejects(
        revoked.getProject(project.id),
        (error: unknown) => error instanceof HeraldApiError && error.status === 401,
      );
    } finally {
      await revoked.close();
    }
  });

  test('portal links: create, revoke; operational events: listed as the API answers them', async () => {
    const project = await client.createProject({ name: 'portal' });
    const link = await client.createPortalLink(project.id, { expiresIn: 120 });
    hasFields(link, ['url', 'token', 'expiresAt', 'projectId']);
    assert.equal(link.projectId, project.id);
    assert.ok(link.url.endsWith(`#token=${link.token}`));
    const expiresIn = Date.parse(link.expiresAt) - Date.now();
    assert.ok(expiresIn > 100_000 && expiresIn <= 121_000, String(expiresIn));
    await client.revokePortalLinks(project.id);

    const endpoint = await client.createEndpoint(project.id, { url: 'https://example.test/ops' });
    await client.updateEndpoint(project.id, endpoint.id, { active: false });
    await client.enableEndpoint(project.id, endpoint.id);
    const ops = await client.listOperationalEvents(project.id, { limit: 1 });
    assert.equal(ops.data.length, 1);
    hasFields(ops.data[0], ['id', 'projectId', 'type', 'data', 'createdAt']);
    assert.equal(ops.data[0]?.type, 'endpoint.recovered', 'newest first');
    assert.equal(typeof ops.nextCursor, 'string');
    const older = await client.listOperationalEvents(project.id, { cursor: ops.nextCursor ?? '' });
    assert.deepEqual(
      older.data.map((o) => o.type),
      ['endpoint.disabled'],
    );
    const disabled = await client.listOperationalEvents(project.id, { type: 'endpoint.disabled' });
    assert.deepEqual(disabled, older);
    // `endpoint` narrows it to one endpoint's, alone or with `type`.
    const other = await client.createEndpoint(project.id, { url: 'https://example.test/other' });
    await client.updateEndpoint(project.id, other.id, { active: false });
    const ofOther = await client.listOperationalEvents(project.id, { endpoint: other.id });
    assert.deepEqual(
      ofOther.data.map((o) => [o.type, o.data.endpointId]),
      [['endpoint.disabled', other.id]],
    );
    const ofFirst = await client.listOperationalEvents(project.id, {
      endpoint: endpoint.id,
      type: 'endpoint.disabled',
    });
    assert.deepEqual(ofFirst, older);
  });

  test("a project's uid is given, and taken away with null (the admin token)", async () => {
    const project = await client.createProject({ name: 'uid', uid: 'uid-given', backlogLimit: null });
    assert.equal(project.uid, 'uid-given');
    const without = await client.updateProject('uid-given', { uid: null });
    assert.equal(without.uid, null);
    assert.equal((await client.getProject(project.id)).uid, null);
    assert.equal((await client.createProject({ name: 'no uid', uid: null })).uid, null);
  });

  test('answers carry the fields their types promise: secrets, test sends, retries, projects, event types', async () => {
    const project = await client.createProject({ name: 'shapes', retrySchedule: [1, 2] });
    hasFields(project, ['id', 'uid', 'name', 'retrySchedule', 'enforceCatalog', 'createdAt', 'updatedAt']);
    const type = await client.putEventType('shape.checked', { description: 'd', example: { ok: true } });
    hasFields(type, ['name', 'description', 'schema', 'example', 'deprecated', 'createdAt', 'updatedAt']);
    const endpoint = await client.createEndpoint(project.id, { url: 'https://example.test/shapes' });
    hasFields(endpoint, [
      'id',
      'projectId',
      'url',
      'active',
      'status',
      'disabledReason',
      'disabledAt',
      'createdAt',
      'updatedAt',
      'secret',
    ]);
    const secrets = await client.getEndpointSecret(project.id, endpoint.id);
    assert.equal(secrets.secret, endpoint.secret);
    hasFields(secrets.secrets[0], ['secret', 'createdAt', 'expiresAt']);
    const rotated = await client.rotateEndpointSecret(project.id, endpoint.id, { graceSeconds: 60 });
    assert.deepEqual(
      rotated.secrets.map((x) => x.secret),
      [rotated.secret, endpoint.secret],
    );
    assert.equal(rotated.secrets[0]?.expiresAt, null);
    assert.equal(typeof rotated.secrets[1]?.expiresAt, 'string');

    const sent = await client.testEndpoint(project.id, endpoint.id, 'shape.checked');
    assert.match(sent.eventId, /^evt_/);
    assert.match(sent.deliveryId, /^dlv_/);
    assert.equal(sent.eventType, 'shape.checked');
    const event = await client.getEvent(project.id, sent.eventId);
    hasFields(event, ['idempotencyKey', 'callbackUrl', 'test']);
    hasFields(event.deliveries[0], [
      'id',
      'eventId',
      'endpointId',
      'url',
      'status',
      'attempts',
      'nextAttemptAt',
      'inFlight',
      'lastAttemptAt',
      'createdAt',
    ]);
    // One delivery read alone is the event's entry for it, field for field.
    assert.deepEqual(await client.getDelivery(project.id, sent.deliveryId), event.deliveries[0]);
    const retried = await client.retryDelivery(project.id, sent.deliveryId);
    assert.equal(retried.id, sent.deliveryId);
    assert.equal(retried.eventId, sent.eventId);
    assert.equal(retried.status, 'pending');
    assert.deepEqual(await client.getDelivery(project.id, sent.deliveryId), retried);
  });

  test('listEventDeliveries reads an event’s deliveries a page at a time, as getEvent lists them', async () => {
    const project = await client.createProject({ name: 'wide event' });
    for (let i = 0; i < 5; i++)
      await client.createEndpoint(project.id, { url: `https://hooks.example/${i}` });
    const sent = await client.sendEvent(project.id, { type: 'player.paid', payload: {} });
    assert.equal(sent.deliveries.length, 5);
    const whole = (await client.getEvent(project.id, sent.id)).deliveries;
    const first = await client.listEventDeliveries(project.id, sent.id, { limit: 2 });
    assert.deepEqual(first.data, whole.slice(0, 2));
    assert.equal(typeof first.nextCursor, 'string');
    const all = [];
    for await (const d of paginate((q) => client.listEventDeliveries(project.id, sent.id, q), 2)) all.push(d);
    assert.deepEqual(all, whole);
    assert.deepEqual(
      (await client.listEventDeliveries(project.id, sent.id, { status: 'pending' })).data,
      whole,
    );
    assert.deepEqual(await client.listEventDeliveries(project.id, sent.id, { status: 'succeeded' }), {
      data: [],
      nextCursor: null,
    });
    await assert.rejects(
      client.listEventDeliveries(project.id, 'evt_missing'),
      (error: unknown) =>
        error instanceof HeraldApiError && error.status === 404 && error.code === 'HERALD_ERR_NOT_FOUND',
    );
  });

  test('listEndpointDeliveries pages what waits for an endpoint, pending then parked, counted on the first page', async () => {
    const project = await client.createProject({ name: 'waiting' });
    const endpoint = await client.createEndpoint(project.id, { url: 'https://hooks.example/waiting' });
    // Nothing delivers here (--role api): every delivery stays pending, due now.
    const sent = await client.sendEvents(project.id, [
      { type: 'a', payload: {} },
      { type: 'b', payload: {} },
      { type: 'c', payload: {} },
    ]);
    const ids = sent.map((e) => e.deliveries[0]!.id);
    const first = await client.listEndpointDeliveries(project.id, endpoint.id, { limit: 2 });
    assert.deepEqual(first.counts, { pending: 3, parked: 0, atMost: 10_000 });
    assert.equal(first.data.length, 2);
    assert.equal(typeof first.nextCursor, 'string');
    // Each item is the delivery as GET …/deliveries/:delivery answers it.
    for (const d of first.data) assert.deepEqual(d, await client.getDelivery(project.id, d.id));
    const second = await client.listEndpointDeliveries(project.id, endpoint.id, {
      limit: 2,
      cursor: first.nextCursor!,
    });
    assert.equal(second.nextCursor, null);
    assert.equal('counts' in second, false, 'counts on the first page only');
    const all: DeliveryState[] = [];
    for await (const d of paginate((q) => client.listEndpointDeliveries(project.id, endpoint.id, q), 1))
      all.push(d);
    assert.deepEqual(all, [...first.data, ...second.data]);
    assert.deepEqual(all.map((d) => d.id).sort(), [...ids].sort());
    // In the order they are due: nextAttemptAt, then id.
    const due = (d: DeliveryState) => `${d.nextAttemptAt} ${d.id}`;
    assert.deepEqual(all.map(due), all.map(due).sort());
    assert.ok(all.every((d) => d.status === 'pending' && d.endpointId === endpoint.id));
    assert.deepEqual(await client.listEndpointDeliveries(project.id, endpoint.id, { status: 'parked' }), {
      data: [],
      nextCursor: null,
      counts: { pending: 3, parked: 0, atMost: 10_000 },
    });

    // Disabled, the endpoint's pending deliveries are parked: the other list.
    await client.updateEndpoint(project.id, endpoint.id, { active: false });
    const parked = await client.listEndpointDeliveries(project.id, endpoint.id, { status: 'parked' });
    assert.deepEqual(parked.counts, { pending: 0, parked: 3, atMost: 10_000 });
    assert.deepEqual(parked.data.map((d) => d.id).sort(), [...ids].sort());
    assert.ok(parked.data.every((d) => d.status === 'parked' && d.nextAttemptAt === null));
    assert.deepEqual((await client.listEndpointDeliveries(project.id, endpoint.id)).data, []);

    await assert.rejects(
      client.listEndpointDeliveries(project.id, 'ep_missing'),
      (error: unknown) =>
        error instanceof HeraldApiError && error.status === 404 && error.code === 'HERALD_ERR_NOT_FOUND',
    );
    await assert.rejects(
      client.listEndpointDeliveries(project.id, endpoint.id, { cursor: 'not-a-cursor' }),
      (error: unknown) =>
        error instanceof HeraldApiError &&
        error.status === 400 &&
        (error.details as { field?: string } | undefined)?.field === 'querystring.cursor',
    );
  });
});

describe('@herald/client: a batch over the deliveries a request may create', () => {
  let herald: HeraldProcess;
  before(async () => {
    herald = await startHerald({
      args: ['--role', 'api'],
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_MAX_DELIVERIES_PER_REQUEST: '10' },
    });
  });
  after(async () => {
    await herald?.dispose();
  });

  test('sendEvents sends a batch refused with 413 HERALD_ERR_TOO_MANY_DELIVERIES again in smaller ones, in order; one event over it throws', async () => {
    const client = new HeraldClient({ url: herald.url, token: ADMIN });
    try {
      const project = await client.createProject({ name: 'wide' });
      for (let n = 0; n < 3; n++) {
        await client.createEndpoint(project.id, { url: `https://example.test/h${n}`, eventTypes: ['wide'] });
      }
      // 3 deliveries per 'wide' event, none per 'narrow': 40 events ask for 60 deliveries, 10 fit
      // one request, and the uneven fan-out makes some of the first split's batches too large again.
      const inputs = Array.from({ length: 40 }, (_, n) => ({
        type: n < 30 ? 'wide' : 'narrow',
        payload: { n },
      }));
      const refused = await client
        .request('POST', `/projects/${project.id}/events/batch`, { body: { events: inputs } })
        .then(
          () => assert.fail('the whole batch is over the limit'),
          (error: unknown) => error,
        );
      assert.ok(refused instanceof HeraldApiError);
      assert.equal(refused.code, 'HERALD_ERR_TOO_MANY_DELIVERIES');
      assert.equal((await client.listEvents(project.id)).data.length, 0, 'nothing stored');

      const sent = await client.sendEvents(project.id, inputs);
      assert.deepEqual(
        sent.map((e) => (e.payload as { n: number }).n),
        inputs.map((e) => e.payload.n),
      );
      assert.deepEqual(
        sent.map((e) => e.deliveries.length),
        inputs.map((e) => (e.type === 'wide' ? 3 : 0)),
      );
      const stored = [];
      for await (const e of paginate((q) => client.listEvents(project.id, q), 100)) stored.push(e.id);
      assert.equal(stored.length, 40, 'each event stored once');

      for (let n = 3; n < 11; n++) {
        await client.createEndpoint(project.id, { url: `https://example.test/h${n}`, eventTypes: ['wide'] });
      }
      // 11 endpoints: one 'wide' event alone is over the limit; the batch before it is stored.
      await assert.rejects(
        client.sendEvents(project.id, [
          { type: 'narrow', payload: 'before' },
          { type: 'wide', payload: 'alone' },
        ]),
        (error: unknown) =>
          error instanceof HeraldApiError &&
          error.status === 413 &&
          error.code === 'HERALD_ERR_TOO_MANY_DELIVERIES',
      );
      const after = (await client.listEvents(project.id, { limit: 100 })).data;
      assert.equal(after.length, 41);
      assert.deepEqual(after[0]?.payload, 'before');
    } finally {
      await client.close();
    }
  });
});

describe('@herald/client: a Herald whose body limit is below maxBodyBytes', () => {
  let herald: HeraldProcess;
  before(async () => {
    herald = await startHerald({
      args: ['--role', 'api'],
      env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_MAX_BODY_BYTES: '16384' },
    });
  });
  after(async () => {
    await herald?.dispose();
  });

  test('sendEvents sends a batch refused with 413 HERALD_ERR_BODY_TOO_LARGE again in batches within its limitBytes; an event over it alone throws, naming it', async () => {
    // The client's default maxBodyBytes (1 MiB, Herald's default) is above this Herald's 16 KiB.
    const client = new HeraldClient({ url: herald.url, token: ADMIN });
    try {
      const project = await client.createProject({ name: 'small bodies' });
      // 100 events of ~500 bytes: ~50 KB in one batch of the client's, three times the limit.
      const inputs = Array.from({ length: 100 }, (_, n) => ({
        type: 'note',
        payload: { n, text: 'x'.repeat(480) },
      }));
      const sent = await client.sendEvents(project.id, inputs);
      assert.deepEqual(
        sent.map((e) => (e.payload as { n: number }).n),
        inputs.map((e) => e.payload.n),
      );
      const stored = [];
      for await (const e of paginate((q) => client.listEvents(project.id, q), 100)) stored.push(e.id);
      assert.equal(stored.length, 100, 'each event stored once');

      // An event over 16 KiB on its own: those before it are stored, it and those after are not.
      const mixed = [
        { type: 'note', payload: 'before' },
        { type: 'note', payload: 'x'.repeat(20_000) },
        { type: 'note', payload: 'after' },
      ];
      await assert.rejects(client.sendEvents(project.id, mixed), (error: unknown) => {
        assert.ok(error instanceof HeraldApiError);
        assert.equal(error.code, 'HERALD_ERR_BODY_TOO_LARGE');
        assert.equal(error.stored, 1);
        assert.equal(error.eventIndex, 1);
        return true;
      });
      const after = (await client.listEvents(project.id, { limit: 1 })).data;
      assert.deepEqual(after[0]?.payload, 'before');
    } finally {
      await client.close();
    }
  });

  test('given the installation’s requests.maxBodyBytes, a client refuses an event over it before sending anything', async () => {
    const admin = new HeraldClient({ url: herald.url, token: ADMIN });
    const project = await admin.createProject({ name: 'told the limit' });
    const maxBodyBytes = (await admin.getInstallation()).requests?.maxBodyBytes;
    assert.equal(maxBodyBytes, 16384);
    const client = new HeraldClient({ url: herald.url, token: ADMIN, maxBodyBytes });
    try {
      const big = { type: 'note', payload: 'x'.repeat(20_000) };
      for (const send of [
        () => client.sendEvent(project.id, big),
        () => client.sendEvents(project.id, [big]),
      ]) {
        await assert.rejects(send(), (error: unknown) => {
          assert.ok(error instanceof HeraldEventTooLargeError, String(error));
          assert.equal(error.maxBodyBytes, 16384);
          return true;
        });
      }
      assert.deepEqual((await admin.listEvents(project.id)).data, [], 'nothing sent, nothing stored');
    } finally {
      await client.close();
      await admin.close();
    }
  });
});

/** Every field named is in the answer (null counts: it is there). */
function hasFields(value: unknown, fields: string[]): void {
  assert.ok(value && typeof value === 'object', `an object, got ${JSON.stringify(value)}`);
  for (const field of fields) assert.ok(field in value, `${field} in ${JSON.stringify(value)}`);
}
