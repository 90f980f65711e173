/**
 * Bodies over an adapter's `maxBodyBytes` that arrive streamed (chunked, no Content-Length, and
 * not finished): each adapter must refuse them with 413 once the limit is passed, not wait for (and
 * hold) the whole body first. Real servers on 127.0.0.1; the client sends 2 MiB to a 1 MiB limit
 * and then holds the body open.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { webhookMiddleware } from '../src/adapters/express.ts';
import { webhookVerification } from '../src/adapters/fastify.ts';
import { withWebhookVerification } from '../src/adapters/fetch.ts';
import { sendVerificationError, verifyNodeRequest } from '../src/adapters/node.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const LIMIT = 1024 * 1024;

/**
 * Sends `bytes` and leaves the body open: chunked, or declaring `declared` bytes (Content-Length);
 * resolves with the answer, or null when none came within `waitMs`.
 */
async function sendUnfinished(
  url: string,
  bytes: number,
  waitMs: number,
  declared?: number,
): Promise<{ status: number; body: string } | null> {
  const headers = {
    'content-type': 'application/json',
    ...(declared === undefined ? {} : { 'content-length': String(declared) }),
  };
  const req = request(url, { method: 'POST', headers });
  req.on('error', () => undefined);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < bytes; sent += chunk.length) req.write(chunk);
  const timer = setTimeout(() => req.destroy(), waitMs);
  try {
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let body = '';
    for await (const part of res) body += part;
    return { status: res.statusCode ?? 0, body };
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    req.destroy();
  }
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test('fetch: a chunked body over maxBodyBytes is refused with 413 before it ends', async () => {
  const handler = withWebhookVerification(
    { scheme: 'standard', secret: SECRET, maxBodyBytes: LIMIT },
    () => new Response(null, { status: 204 }),
  );
  // A node:http server handing a Fetch `Request` to the handler, as Node adapters of fetch-style
  // frameworks do: the body is the request stream.
  const server = createServer(async (req, res) => {
    const body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    const init = { method: req.method, headers: req.headers as Record<string, string>, body, duplex: 'half' };
    try {
      const answer = await handler(new Request(`http://127.0.0.1${req.url}`, init));
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    } catch {
      res.destroy(); // the client gave up: its body ended unfinished
    }
  });
  const url = await listen(server);
  try {
    const answer = await sendUnfinished(url, 2 * LIMIT, 5_000);
    assert.ok(
      answer,
      'no answer within 5 s: the adapter waited for the end of a body already over its limit',
    );
    assert.equal(answer.status, 413);
    assert.equal(
      (JSON.parse(answer.body) as { error: { code: string } }).error.code,
      'HERALD_VERIFY_BODY_TOO_LARGE',
    );
  } finally {
    await close(server);
  }
});

/** The answer's error code; fails the test when there was no answer. */
function refusal(answer: { status: number; body: string } | null, what: string): [number, string] {
  assert.ok(answer, `no answer within 5 s: ${what}`);
  return [answer.status, (JSON.parse(answer.body) as { error: { code: string } }).error.code];
}

const TOO_LARGE: [number, string] = [413, 'HERALD_VERIFY_BODY_TOO_LARGE'];

test('node and Express: a Content-Length over maxBodyBytes is refused with 413 before the body is read', async () => {
  const node = createServer(async (req, res) => {
    try {
      await verifyNodeRequest(req, { scheme: 'standard', secret: SECRET, maxBodyBytes: LIMIT });
      res.writeHead(204).end();
    } catch (error) {
      sendVerificationError(res, error);
    }
  });
  const app = express();
  app.post(
    '/hook',
    webhookMiddleware({ scheme: 'standard', secret: SECRET, maxBodyBytes: LIMIT }),
    (_q, res) => {
      res.sendStatus(204);
    },
  );
  const expressServer = createServer(app);
  const servers = { node, express: expressServer };
  try {
    for (const [name, server] of Object.entries(servers)) {
      const url = await listen(server);
      // 64 MiB declared (Herald's largest HERALD_MAX_BODY_BYTES), 256 KiB sent, the rest held back.
      const declared = await sendUnfinished(url, 256 * 1024, 5_000, 64 * LIMIT);
      assert.deepEqual(refusal(declared, `${name} read on after Content-Length: 67108864`), TOO_LARGE, name);
      const chunked = await sendUnfinished(url, 2 * LIMIT, 5_000);
      assert.deepEqual(refusal(chunked, `${name} waited for the end of a chunked body`), TOO_LARGE, name);
    }
  } finally {
    await Promise.all(Object.values(servers).map(close));
  }
});

test("fastify: a body over maxBodyBytes gets Fastify's own 413 (its bodyLimit), declared or chunked", async () => {
  const app = Fastify();
  await app.register(async (scope) => {
    await scope.register(webhookVerification({ scheme: 'standard', secret: SECRET, maxBodyBytes: LIMIT }));
    scope.post('/hook', async () => ({ ok: true }));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/hook`;
  try {
    // The README says so: the status is 413, the body Fastify's error, not {"error": {…}}.
    const fastifyTooLarge = (answer: { status: number; body: string } | null, what: string) => {
      assert.ok(answer, `no answer within 5 s: ${what}`);
      return [answer.status, (JSON.parse(answer.body) as { code: string }).code];
    };
    const declared = await sendUnfinished(url, 256 * 1024, 5_000, 64 * LIMIT);
    assert.deepEqual(fastifyTooLarge(declared, 'declared'), [413, 'FST_ERR_CTP_BODY_TOO_LARGE']);
    const chunked = await sendUnfinished(url, 2 * LIMIT, 5_000);
    assert.deepEqual(fastifyTooLarge(chunked, 'chunked'), [413, 'FST_ERR_CTP_BODY_TOO_LARGE']);
  } finally {
    await app.close();
  }
});

/**
 * A `maxBodyBytes` that is not a number of bytes (NaN from `Number(process.env.UNSET)`, or
 * `'10mb'` in the style of express.raw's `limit`) compared false with every size, so the limit was
 * silently off and a chunked body was read whole, however large. Now it is a configuration error,
 * as a NaN `toleranceSeconds` is.
 */
test('every adapter: a maxBodyBytes that is not a number of bytes is a configuration error, not no limit', async () => {
  const invalid = [Number.NaN, '10mb' as unknown as number];
  for (const maxBodyBytes of invalid) {
    const node = createServer(async (req, res) => {
      try {
        await verifyNodeRequest(req, { scheme: 'standard', secret: SECRET, maxBodyBytes });
        res.writeHead(204).end();
      } catch (error) {
        sendVerificationError(res, error);
      }
    });
    const app = express();
    app.post('/hook', webhookMiddleware({ scheme: 'standard', secret: SECRET, maxBodyBytes }), (_q, res) => {
      res.sendStatus(204);
    });
    app.use((error: { code?: string }, _q: unknown, res: express.Response, _next: unknown) => {
      res.status(500).json({ error: { code: error.code } });
    });
    const servers = { node, express: createServer(app) };
    try {
      for (const [name, server] of Object.entries(servers)) {
        const url = await listen(server);
        const chunked = await sendUnfinished(url, 2 * LIMIT, 5_000);
        assert.deepEqual(
          refusal(chunked, `${name} read a chunked body without a limit`),
          [500, 'HERALD_VERIFY_CONFIG'],
          `${name}, maxBodyBytes ${maxBodyBytes}`,
        );
      }
    } finally {
      await Promise.all(Object.values(servers).map(close));
    }
    const stream = Readable.toWeb(Readable.from([Buffer.alloc(2 * LIMIT)])) as ReadableStream<Uint8Array>;
    const fetchRequest = new Request('http://127.0.0.1/hook', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await assert.rejects(
      withWebhookVerification(
        { scheme: 'standard', secret: SECRET, maxBodyBytes },
        () => new Response(null),
      )(fetchRequest),
      { code: 'HERALD_VERIFY_CONFIG' },
      `fetch, maxBodyBytes ${maxBodyBytes}`,
    );
    // Fastify took NaN for its own default (1 MiB, under what Herald can send) and '10mb' for none.
    const fastify = Fastify();
    fastify.register(async (scope) => {
      await scope.register(webhookVerification({ scheme: 'standard', secret: SECRET, maxBodyBytes }));
    });
    await assert.rejects(
      async () => {
        await fastify.ready();
      },
      { code: 'HERALD_VERIFY_CONFIG' },
      `fastify, maxBodyBytes ${maxBodyBytes}`,
    );
    await fastify.close();
  }
});
