/**
 * Adapters on real servers bound to 127.0.0.1: node:http, Express, Fastify, and Fetch `Request`
 * handlers. Requests are produced by sign() (what Herald sends) and sent with fetch.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runInNewContext } from 'node:vm';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ExpressRequestLike, webhookMiddleware } from '../src/adapters/express.ts';
import { type FastifyWebhookRequest, webhookVerification } from '../src/adapters/fastify.ts';
import {
  verificationErrorResponse,
  verifyFetchRequest,
  withWebhookVerification,
} from '../src/adapters/fetch.ts';
import { readRawBody, sendVerificationError, verifyNodeRequest } from '../src/adapters/node.ts';
import {
  createDeduplicator,
  type SignatureScheme,
  type SignedRequest,
  sign,
  WebhookVerificationError,
} from '../src/index.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const content = { type: 'slot.submitted', data: { slotId: 's1', note: 'ünï' } };

function signFor(
  url: string,
  scheme: SignatureScheme = 'standard',
  extra: { id?: string; method?: 'GET' | 'POST' } = {},
) {
  return sign({
    scheme,
    secret: SECRET,
    id: extra.id ?? 'evt_1',
    timestamp: Math.floor(Date.now() / 1000),
    url,
    method: extra.method,
    content,
  });
}

async function send(request: SignedRequest, override: Partial<SignedRequest> = {}) {
  const r = { ...request, ...override };
  const response = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : null };
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('node:http', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer(async (req, res) => {
      try {
        const scheme = new URL(req.url ?? '/', 'http://x').pathname.slice(1) as SignatureScheme;
        const webhook = await verifyNodeRequest(req, { scheme, secret: SECRET, maxBodyBytes: 4096 });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(webhook.payload));
      } catch (error) {
        sendVerificationError(res, error);
      }
    });
    base = await listen(server);
  });
  after(() => close(server));

  test('verifies the raw body; hmac-sha1-url uses the URL rebuilt from Host and request target', async () => {
    assert.deepEqual(await send(signFor(`${base}/standard`)), { status: 200, json: content });
    const form = await send(signFor(`${base}/hmac-sha1-url?x=1`, 'hmac-sha1-url'));
    assert.deepEqual(form, {
      status: 200,
      json: { type: 'slot.submitted', data: '{"slotId":"s1","note":"ünï"}' },
    });
  });

  test('a POST with an empty form body (payload {}) yields {}, not the query fields of its URL', async () => {
    const request = sign({
      scheme: 'hmac-sha1-url',
      secret: SECRET,
      id: 'evt_empty',
      timestamp: Math.floor(Date.now() / 1000),
      url: `${base}/hmac-sha1-url?a=1`,
      content: {},
    });
    assert.equal(request.body, '');
    assert.deepEqual(await send(request), { status: 200, json: {} });
  });

  test('answers refusals with their status and code', async () => {
    const request = signFor(`${base}/standard`);
    const tampered = await send(request, { body: (request.body ?? '').replace('s1', 's2') });
    assert.deepEqual(tampered, {
      status: 401,
      json: { error: { code: 'HERALD_VERIFY_BAD_SIGNATURE', message: 'No matching signature found' } },
    });
    const big = await send(request, { body: 'x'.repeat(5000) });
    assert.equal(big.status, 413);
    const headerless = await send(request, { headers: { 'content-type': 'application/json' } });
    assert.equal(headerless.status, 400);
  });

  test('readRawBody joins chunks and enforces its limit', async () => {
    async function* chunks() {
      yield new Uint8Array([1, 2]);
      yield 'é';
    }
    assert.deepEqual([...(await readRawBody(chunks()))], [1, 2, 0xc3, 0xa9]);
    await assert.rejects(
      readRawBody(chunks(), 3),
      (e: unknown) => e instanceof WebhookVerificationError && e.status === 413,
    );
  });
});

describe('express', () => {
  let server: Server;
  let base: string;
  const dedupe = createDeduplicator();
  const flaky = { ids: new Set<string>(), failures: 0 };
  let handled = 0;
  before(async () => {
    const app = express();
    const reply = (req: express.Request, res: express.Response) => {
      handled++;
      const payload = (req as ExpressRequestLike).webhook?.payload;
      if ((payload as { data?: { slotId?: string } }).data?.slotId === 'fail') res.status(500).end();
      else res.json(payload);
    };
    app.post(
      '/raw',
      express.raw({ type: '*/*' }),
      webhookMiddleware({ scheme: 'standard', secret: SECRET }),
      reply,
    );
    app.post('/unparsed', webhookMiddleware({ scheme: 'github', secret: SECRET }), reply);
    app.post('/json', express.json(), webhookMiddleware({ scheme: 'standard', secret: SECRET }), reply);
    // The common pattern that keeps the bytes beside the parsed body: a Buffer, or a string.
    app.post(
      '/rawbody',
      express.json({
        type: '*/*',
        verify: (req, _res, buf) => {
          (req as ExpressRequestLike).rawBody = buf;
        },
      }),
      webhookMiddleware({ scheme: 'standard', secret: SECRET }),
      reply,
    );
    app.post(
      '/rawbody-string',
      express.json({
        type: '*/*',
        verify: (req, _res, buf) => {
          (req as ExpressRequestLike).rawBody = buf.toString('utf8');
        },
      }),
      webhookMiddleware({ scheme: 'standard', secret: SECRET }),
      reply,
    );
    // The bytes copied into another realm (a vm context, as under Jest): not `instanceof Uint8Array`.
    app.post(
      '/rawbody-realm',
      express.json({
        type: '*/*',
        verify: (req, _res, buf) => {
          (req as ExpressRequestLike).rawBody = runInNewContext('new Uint8Array(bytes)', { bytes: [...buf] });
        },
      }),
      webhookMiddleware({ scheme: 'standard', secret: SECRET }),
      reply,
    );
    // The bytes kept as an ArrayBuffer of another realm.
    app.post(
      '/rawbody-arraybuffer',
      express.json({
        type: '*/*',
        verify: (req, _res, buf) => {
          (req as ExpressRequestLike).rawBody = runInNewContext('new Uint8Array(bytes).buffer', {
            bytes: [...buf],
          });
        },
      }),
      webhookMiddleware({ scheme: 'standard', secret: SECRET }),
      reply,
    );
    app.post(
      '/dedupe',
      express.raw({ type: '*/*' }),
      webhookMiddleware({ scheme: 'standard', secret: SECRET, deduplicate: dedupe }),
      reply,
    );
    // A shared store (Redis, a table) whose release fails once, as in a network blip.
    app.post(
      '/dedupe-flaky',
      express.raw({ type: '*/*' }),
      webhookMiddleware({
        scheme: 'standard',
        secret: SECRET,
        deduplicate: createDeduplicator({
          store: {
            claim: (id) => !flaky.ids.has(id) && Boolean(flaky.ids.add(id)),
            release: async (id) => {
              if (flaky.failures-- > 0) throw new Error('store unreachable');
              flaky.ids.delete(id);
            },
          },
        }),
      }),
      reply,
    );
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res
        .status(500)
        .json({ misconfigured: error instanceof WebhookVerificationError ? error.code : String(error) });
    });
    server = createServer(app);
    base = await listen(server);
  });
  after(() => close(server));

  test('works after express.raw() and with no body parser at all', async () => {
    assert.deepEqual(await send(signFor(`${base}/raw`)), { status: 200, json: content });
    assert.deepEqual(await send(signFor(`${base}/unparsed`, 'github')), { status: 200, json: content });
    const bad = await send(signFor(`${base}/raw`), {
      headers: { ...signFor(`${base}/raw`).headers, 'webhook-id': 'evt_2' },
    });
    assert.equal(bad.status, 401);
    assert.equal((bad.json as { error: { code: string } }).error.code, 'HERALD_VERIFY_BAD_SIGNATURE');
  });

  test('after express.json() the raw body is gone: a configuration error, not a false accept', async () => {
    assert.deepEqual(await send(signFor(`${base}/json`)), {
      status: 500,
      json: { misconfigured: 'HERALD_VERIFY_CONFIG' },
    });
  });

  test('after express.json() with req.rawBody kept by its verify hook, the kept bytes are verified', async () => {
    assert.deepEqual(await send(signFor(`${base}/rawbody`)), { status: 200, json: content });
    assert.deepEqual(await send(signFor(`${base}/rawbody-string`)), { status: 200, json: content });
    assert.deepEqual(await send(signFor(`${base}/rawbody-realm`)), { status: 200, json: content });
    assert.deepEqual(await send(signFor(`${base}/rawbody-arraybuffer`)), { status: 200, json: content });
    const tampered = signFor(`${base}/rawbody`);
    const bad = await send(tampered, { body: String(tampered.body).replace('s1', 's2') });
    assert.equal(bad.status, 401);
  });

  test('a body of exactly {} parsed by express.json() is the configuration error, not a bad signature', async () => {
    const request = sign({
      scheme: 'standard',
      secret: SECRET,
      id: 'evt_empty',
      timestamp: Math.floor(Date.now() / 1000),
      url: `${base}/json`,
      content: {},
    });
    assert.equal(request.body, '{}');
    assert.deepEqual(await send(request), { status: 500, json: { misconfigured: 'HERALD_VERIFY_CONFIG' } });
  });

  test('deduplicate answers a repeated webhook-id without running the handler, unless the handler failed', async () => {
    handled = 0;
    const request = signFor(`${base}/dedupe`, 'standard', { id: 'evt_dup' });
    assert.equal((await send(request)).status, 200);
    assert.deepEqual(await send(request), { status: 200, json: { duplicate: true } });
    assert.equal(handled, 1);

    const failing = sign({
      scheme: 'standard',
      secret: SECRET,
      id: 'evt_fail',
      timestamp: Math.floor(Date.now() / 1000),
      url: `${base}/dedupe`,
      content: { data: { slotId: 'fail' } },
    });
    assert.equal((await send(failing)).status, 500);
    assert.equal((await send(failing)).status, 500, 'the retry reached the handler again');
    assert.equal(handled, 3);
  });

  test("a store's release that fails after a failed handler neither crashes the process nor makes the retry a duplicate", async () => {
    // The release ran in the response's 'prefinish' unawaited: its rejection was unhandled, and
    // Node ended the whole receiver. The id stays recorded in the store then, and is released at
    // its next delivery, before it is claimed again.
    handled = 0;
    flaky.failures = 1;
    const failing = sign({
      scheme: 'standard',
      secret: SECRET,
      id: 'evt_flaky',
      timestamp: Math.floor(Date.now() / 1000),
      url: `${base}/dedupe-flaky`,
      content: { data: { slotId: 'fail' } },
    });
    assert.equal((await send(failing)).status, 500);
    assert.equal((await send(failing)).status, 500, 'the retry reached the handler again');
    assert.equal(handled, 2);
    assert.equal(flaky.ids.size, 0, 'released at last');
  });
});

describe('fastify', () => {
  let app: FastifyInstance;
  let base: string;
  let handled = 0;
  before(async () => {
    app = Fastify();
    app.post('/elsewhere', async (request) => ({ parsed: request.body }));
    await app.register(async (scope) => {
      await scope.register(
        webhookVerification({ scheme: 'hmac-sha256', secret: SECRET, deduplicate: createDeduplicator() }),
      );
      scope.post('/webhooks', async (request) => {
        handled++;
        return (request as unknown as FastifyWebhookRequest).webhook.payload;
      });
    });
    await app.register(async (scope) => {
      await scope.register(webhookVerification({ scheme: 'hmac-sha1-url', secret: SECRET }));
      scope.post('/form', async (request) => (request as unknown as FastifyWebhookRequest).webhook.payload);
      scope.get('/form', async (request) => (request as unknown as FastifyWebhookRequest).webhook.payload);
    });
    // The body handed on as bytes of another realm (a vm context, as under Jest).
    await app.register(async (scope) => {
      scope.addHook('preValidation', async (request) => {
        request.body = runInNewContext('new Uint8Array(bytes)', { bytes: [...(request.body as Uint8Array)] });
      });
      await scope.register(webhookVerification({ scheme: 'hmac-sha256', secret: SECRET }));
      scope.post('/realm', async (request) => (request as unknown as FastifyWebhookRequest).webhook.payload);
    });
    // The body handed on as an ArrayBuffer (a hook that made it one).
    await app.register(async (scope) => {
      scope.addHook('preValidation', async (request) => {
        // A copy: a Buffer's .buffer can be its whole pool.
        request.body = Uint8Array.from(request.body as Uint8Array).buffer;
      });
      await scope.register(webhookVerification({ scheme: 'hmac-sha256', secret: SECRET }));
      scope.post(
        '/arraybuffer',
        async (request) => (request as unknown as FastifyWebhookRequest).webhook.payload,
      );
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  test('verifies raw bodies in its scope; the rest of the app keeps parsing JSON', async () => {
    assert.deepEqual(await send(signFor(`${base}/webhooks`, 'hmac-sha256', { id: 'evt_f1' })), {
      status: 200,
      json: content,
    });
    const form = await send(signFor(`${base}/form?z=9`, 'hmac-sha1-url'));
    assert.deepEqual(form.json, { type: 'slot.submitted', data: '{"slotId":"s1","note":"ünï"}' });
    const elsewhere = await fetch(`${base}/elsewhere`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.deepEqual(await elsewhere.json(), { parsed: { a: 1 } });
  });

  test('a body of bytes from another realm is verified as the raw body', async () => {
    assert.deepEqual(await send(signFor(`${base}/realm`, 'hmac-sha256')), { status: 200, json: content });
    assert.deepEqual(await send(signFor(`${base}/arraybuffer`, 'hmac-sha256')), {
      status: 200,
      json: content,
    });
  });

  test('GET webhooks signed with their URL (hmac-sha1-url) yield the query fields', async () => {
    const request = signFor(`${base}/form?token=t`, 'hmac-sha1-url', { method: 'GET', id: 'evt_get' });
    assert.deepEqual(await send(request), {
      status: 200,
      json: { token: 't', type: 'slot.submitted', data: '{"slotId":"s1","note":"ünï"}' },
    });
  });

  test('refusals and duplicates', async () => {
    handled = 0;
    const request = signFor(`${base}/webhooks`, 'hmac-sha256', { id: 'evt_f2' });
    const tampered = await send(request, { body: (request.body ?? '').replace('s1', 's2') });
    assert.equal(tampered.status, 401);
    assert.equal(handled, 0);
    assert.equal((await send(request)).status, 200);
    assert.deepEqual(await send(request), { status: 200, json: { duplicate: true } });
    assert.equal(handled, 1);
  });
});

describe('fetch Request', () => {
  test('verifyFetchRequest reads the body and uses request.url', async () => {
    const signed = signFor('https://receiver.example/hook?x=1', 'hmac-sha1-url');
    const request = new Request(signed.url, { method: 'POST', headers: signed.headers, body: signed.body });
    const webhook = await verifyFetchRequest(request, { scheme: 'hmac-sha1-url', secret: SECRET });
    assert.equal(webhook.id, 'evt_1');
    assert.deepEqual(webhook.payload, { type: 'slot.submitted', data: '{"slotId":"s1","note":"ünï"}' });
  });

  test('verifyFetchRequest: a POST with an empty form body yields {}, a GET its query fields', async () => {
    for (const method of ['POST', 'GET'] as const) {
      const signed = sign({
        scheme: 'hmac-sha1-url',
        secret: SECRET,
        id: 'evt_1',
        timestamp: Math.floor(Date.now() / 1000),
        url: 'https://receiver.example/hook?a=1',
        method,
        content: {},
      });
      const request = new Request(signed.url, {
        method,
        headers: signed.headers,
        ...(signed.body === null ? {} : { body: signed.body }),
      });
      const webhook = await verifyFetchRequest(request, { scheme: 'hmac-sha1-url', secret: SECRET });
      assert.deepEqual(webhook.payload, method === 'GET' ? { a: '1' } : {});
    }
  });

  test('withWebhookVerification answers refusals itself and hands verified webhooks to the handler', async () => {
    const handler = withWebhookVerification(
      { scheme: 'stripe', secret: SECRET, maxBodyBytes: 1000 },
      (webhook) => Response.json({ got: webhook.payload }),
    );
    const signed = signFor('https://receiver.example/hook', 'stripe');
    const ok = await handler(
      new Request(signed.url, { method: 'POST', headers: signed.headers, body: signed.body }),
    );
    assert.deepEqual(await ok.json(), { got: content });
    const bad = await handler(
      new Request(signed.url, { method: 'POST', headers: signed.headers, body: '{}' }),
    );
    assert.equal(bad.status, 401);
    const big = await handler(
      new Request(signed.url, { method: 'POST', headers: signed.headers, body: 'x'.repeat(2000) }),
    );
    assert.equal(big.status, 413);
    const error = new WebhookVerificationError(
      'HERALD_VERIFY_TIMESTAMP_TOO_OLD',
      'Message timestamp too old',
    );
    assert.deepEqual(await verificationErrorResponse(error).json(), {
      error: { code: 'HERALD_VERIFY_TIMESTAMP_TOO_OLD', message: 'Message timestamp too old' },
    });
  });

  test('configuration errors are thrown, not answered', async () => {
    const handler = withWebhookVerification({ scheme: 'standard' }, () => new Response(null));
    const signed = signFor('https://receiver.example/hook');
    await assert.rejects(
      handler(new Request(signed.url, { method: 'POST', headers: signed.headers, body: signed.body })),
      (e: unknown) => e instanceof WebhookVerificationError && e.code === 'HERALD_VERIFY_CONFIG',
    );
  });
});

// From JavaScript: until 2026-12-06 an adapter called without its options threw a bare TypeError
// (no code) from taking them apart; the node recipe's sendVerificationError rethrew it.
describe('an adapter called without its options', () => {
  const isConfig = (caller: string) => (error: unknown) => {
    assert.ok(error instanceof WebhookVerificationError, String(error));
    assert.equal(error.code, 'HERALD_VERIFY_CONFIG');
    assert.equal(error.status, 500);
    assert.ok(error.message.startsWith(caller), error.message);
    return true;
  };
  const missing = [undefined, null] as unknown as never[];

  test('verifyNodeRequest(req) is a configuration error, answered 500 by sendVerificationError', async () => {
    let option: unknown;
    let caught: unknown;
    const server = createServer(async (req, res) => {
      try {
        await verifyNodeRequest(req, option as never);
        res.writeHead(204).end();
      } catch (error) {
        caught = error;
        try {
          sendVerificationError(res, error);
        } catch {
          res.writeHead(599).end();
        }
      }
    });
    const base = await listen(server);
    try {
      for (option of missing) {
        const { status, json } = await send(signFor(`${base}/hook`));
        assert.equal(status, 500);
        assert.equal((json as { error: { code: string } }).error.code, 'HERALD_VERIFY_CONFIG');
        isConfig('verifyNodeRequest(req, options)')(caught);
      }
    } finally {
      await close(server);
    }
  });

  test('webhookMiddleware(), webhookVerification() and withWebhookVerification() refuse to be made', () => {
    for (const options of missing) {
      assert.throws(() => webhookMiddleware(options), isConfig('webhookMiddleware(options)'));
      assert.throws(() => webhookVerification(options), isConfig('webhookVerification(options)'));
      assert.throws(
        () => withWebhookVerification(options, () => new Response(null)),
        isConfig('withWebhookVerification(options, handler)'),
      );
    }
  });

  test('verifyFetchRequest(request) is a configuration error', async () => {
    const signed = signFor('https://receiver.example/hook');
    for (const options of missing) {
      await assert.rejects(
        verifyFetchRequest(
          new Request(signed.url, { method: 'POST', headers: signed.headers, body: signed.body }),
          options,
        ),
        isConfig('verifyFetchRequest(request, options)'),
      );
    }
  });
});

// From JavaScript: until 2026-12-07 an adapter given no request (verifyNodeRequest(undefined,
// options)) or something else threw a bare TypeError from reading its headers, and readRawBody's
// was reported as BODY_INCOMPLETE (400, the sender's fault).
describe('an adapter given no request', () => {
  const options = { scheme: 'standard', secret: SECRET } as const;
  const notRequests: [unknown, string][] = [
    [undefined, 'undefined'],
    [null, 'null'],
    ['POST /hook', 'a string'],
    [{}, 'an object without request headers'],
  ];
  const isConfig = (caller: string, given: string) => (error: unknown) => {
    assert.ok(error instanceof WebhookVerificationError, String(error));
    assert.equal(error.code, 'HERALD_VERIFY_CONFIG');
    assert.equal(error.status, 500);
    assert.ok(error.message.startsWith(`${caller} takes `), error.message);
    assert.ok(error.message.endsWith(`it was given ${given}`), error.message);
    return true;
  };

  test('verifyNodeRequest and verifyFetchRequest refuse it as a configuration error', async () => {
    for (const [request, given] of notRequests) {
      await assert.rejects(
        verifyNodeRequest(request as never, options),
        isConfig('verifyNodeRequest(req, options)', given),
      );
      await assert.rejects(
        verifyFetchRequest(request as never, options),
        isConfig('verifyFetchRequest(request, options)', given),
      );
    }
    // Node's headers are not a Fetch Request's (no get()).
    await assert.rejects(
      verifyFetchRequest({ headers: { 'content-length': '2' } } as never, options),
      isConfig('verifyFetchRequest(request, options)', 'an object with headers and no body stream'),
    );
  });

  test('a Fetch API Request given to verifyNodeRequest, or a node:http request to verifyFetchRequest, is named as such', async () => {
    // The node adapter took a Request (it has headers) and refused it as a readRawBody call, a call
    // the receiver's code never made ("readRawBody(req, maxBytes) takes the request…"); a node:http
    // request given to the fetch adapter was "an object without request headers".
    const request = new Request('http://127.0.0.1/hook', { method: 'POST', body: '{}' });
    await assert.rejects(
      verifyNodeRequest(request as never, options),
      isConfig('verifyNodeRequest(req, options)', 'a Fetch API Request'),
    );
    const middleware = webhookMiddleware(options);
    let passed: unknown;
    await middleware(request as never, {} as never, (error) => {
      passed = error;
    });
    isConfig('the middleware of webhookMiddleware(options)', 'a Fetch API Request')(passed);
    const given: unknown[] = [];
    const server = createServer(async (req, res) => {
      await verifyFetchRequest(req as never, options).catch((error: unknown) => given.push(error));
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      await (await fetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' })).arrayBuffer();
    } finally {
      server.close();
    }
    assert.equal(given.length, 1);
    isConfig('verifyFetchRequest(request, options)', 'a node:http request')(given[0]);
  });

  test("withWebhookVerification's handler rejects, and webhookMiddleware's passes it to next()", async () => {
    const fetchHandler = withWebhookVerification(options, () => new Response(null));
    const middleware = webhookMiddleware(options);
    for (const [request, given] of notRequests) {
      await assert.rejects(
        fetchHandler(request as never),
        isConfig('the handler of withWebhookVerification(options, handler)', given),
      );
      let passed: unknown;
      await middleware(request as never, {} as never, (error) => {
        passed = error;
      });
      isConfig('the middleware of webhookMiddleware(options)', given)(passed);
    }
  });

  test('readRawBody(undefined) is a configuration error, not BODY_INCOMPLETE', async () => {
    for (const [request] of notRequests) {
      await assert.rejects(readRawBody(request as never), (error: unknown) => {
        assert.ok(error instanceof WebhookVerificationError, String(error));
        assert.equal(error.code, 'HERALD_VERIFY_CONFIG');
        assert.match(error.message, /^readRawBody\(req, maxBytes\) takes the request/);
        return true;
      });
    }
  });
});
