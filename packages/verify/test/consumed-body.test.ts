/**
 * A body read by something else first (a logging middleware, a handler that read it before calling
 * the adapter) is gone from the stream: the adapters must say so as a configuration error, not
 * verify the nothing that is left and answer a false "bad signature". Real servers on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { webhookMiddleware } from '../src/adapters/express.ts';
import { verifyFetchRequest, withWebhookVerification } from '../src/adapters/fetch.ts';
import { verifyNodeRequest } from '../src/adapters/node.ts';
import { sign, WebhookVerificationError } from '../src/index.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req);
}

async function post(server: Server): Promise<void> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const signed = sign({
    scheme: 'standard',
    secret: SECRET,
    id: 'evt_1',
    timestamp: Math.floor(Date.now() / 1000),
    url,
    content: { type: 'a', data: { n: 1 } },
  });
  const response = await fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
  await response.arrayBuffer();
}

function codeOf(error: unknown): string {
  return error instanceof WebhookVerificationError ? error.code : String(error);
}

test('node: a body already read is a configuration error, not a bad signature', async () => {
  const codes: string[] = [];
  const server = createServer(async (req, res) => {
    await drain(req); // read first, e.g. to log it
    try {
      await verifyNodeRequest(req, { scheme: 'standard', secret: SECRET });
      codes.push('verified');
    } catch (error) {
      codes.push(codeOf(error));
    }
    res.writeHead(204).end();
  });
  try {
    await post(server);
    assert.deepEqual(codes, ['HERALD_VERIFY_CONFIG']);
  } finally {
    server.close();
  }
});

test('express: a body read by an earlier middleware (req.body unset) is passed on as a configuration error', async () => {
  const codes: string[] = [];
  const app = express();
  app.post(
    '/hook',
    (req, _res, next) => {
      drain(req).then(() => next(), next);
    },
    webhookMiddleware({ scheme: 'standard', secret: SECRET }),
    (_req, res) => {
      codes.push('verified');
      res.sendStatus(204);
    },
  );
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    codes.push(codeOf(error));
    res.status(500).end();
  });
  const server = createServer(app);
  try {
    await post(server);
    assert.deepEqual(codes, ['HERALD_VERIFY_CONFIG']);
  } finally {
    server.close();
  }
});

/** A signed Request as a Fetch-API runtime (Workers, Deno, Bun) hands it to its handler. */
function signedRequest(): Request {
  const signed = sign({
    scheme: 'standard',
    secret: SECRET,
    id: 'evt_1',
    timestamp: Math.floor(Date.now() / 1000),
    url: 'http://127.0.0.1/hook',
    content: { type: 'a', data: { n: 1 } },
  });
  return new Request(signed.url, { method: 'POST', headers: signed.headers, body: signed.body });
}

test('fetch: a body already read (request.json(), a reader taken) is a configuration error, not an incomplete body', async () => {
  const read = signedRequest();
  await read.json(); // the handler, or a framework before it, parsed it first
  const locked = signedRequest();
  locked.body?.getReader(); // something holds the stream
  const codes: string[] = [];
  for (const request of [read, locked]) {
    await verifyFetchRequest(request, { scheme: 'standard', secret: SECRET }).then(
      () => codes.push('verified'),
      (error: unknown) => codes.push(codeOf(error)),
    );
  }
  // Before: HERALD_VERIFY_BODY_INCOMPLETE, "the connection closed or failed", answered 400 to Herald,
  // which retried every delivery of the endpoint until its retries ran out.
  assert.deepEqual(codes, ['HERALD_VERIFY_CONFIG', 'HERALD_VERIFY_CONFIG']);

  // withWebhookVerification does not answer it: it goes to the runtime's error handling, as other
  // configuration errors do.
  const handled = signedRequest();
  await handled.text();
  const handler = withWebhookVerification({ scheme: 'standard', secret: SECRET }, () => new Response(null));
  await assert.rejects(handler(handled), (error) => codeOf(error) === 'HERALD_VERIFY_CONFIG');
  // The same request unread verifies.
  assert.equal((await handler(signedRequest())).status, 200);
});
