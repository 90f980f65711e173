/**
 * A sender that closes the connection before its body is complete (Herald's attempt deadline or a
 * restart in the middle of a send; or anyone who can reach the URL): a receiver written as the
 * node adapter's README says must not crash, and learns why with a verification error of its own.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { webhookMiddleware } from '../src/adapters/express.ts';
import { sendVerificationError, verifyNodeRequest } from '../src/adapters/node.ts';
import { WebhookVerificationError } from '../src/index.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

/** Sends headers declaring 1,000 bytes, 11 of them, and closes. */
async function sendTruncated(port: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.resume(); // whatever the server answers is read, so its close arrives
  socket.write(
    'POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":"a"',
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.end();
  await once(socket, 'close');
}

test('node: a body cut short is a verification error, and the README recipe does not throw', {
  timeout: 10_000,
}, async () => {
  const outcomes: { caught: unknown; escaped: unknown }[] = [];
  let settled: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    settled = resolve;
  });
  // The README's handler. An error it lets out of the async handler is an unhandled rejection,
  // which ends a Node process: recorded here instead.
  const recipe = async (req: IncomingMessage, res: ServerResponse, outcome: { caught: unknown }) => {
    try {
      await verifyNodeRequest(req, { scheme: 'standard', secret: SECRET });
      res.writeHead(204).end();
    } catch (error) {
      outcome.caught = error;
      sendVerificationError(res, error);
    }
  };
  const server = createServer((req, res) => {
    const outcome = { caught: undefined as unknown, escaped: undefined as unknown };
    outcomes.push(outcome);
    recipe(req, res, outcome)
      .catch((error: unknown) => {
        outcome.escaped = error;
      })
      .finally(settled);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await sendTruncated((server.address() as AddressInfo).port);
    await done;
    const [outcome] = outcomes;
    assert.equal(outcome?.escaped, undefined, `the handler threw: ${String(outcome?.escaped)}`);
    assert.ok(outcome?.caught instanceof WebhookVerificationError, String(outcome?.caught));
    assert.equal(outcome.caught.code, 'HERALD_VERIFY_BODY_INCOMPLETE');
    assert.equal(outcome.caught.status, 400);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('express: a body cut short is answered as a refusal, not passed on as an unknown error', {
  timeout: 10_000,
}, async () => {
  const passedOn: unknown[] = [];
  const app = express();
  app.post('/hook', webhookMiddleware({ scheme: 'standard', secret: SECRET }), (_req, res) => {
    res.sendStatus(204);
  });
  let seen: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    seen = resolve;
  });
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    passedOn.push(error);
    res.status(500).end();
  });
  const server = app.listen(0, '127.0.0.1');
  if (!server.listening) await once(server, 'listening');
  // The middleware answers (to a closed connection) or passes the error on: either ends the request.
  server.on('request', (_req, res: ServerResponse) => res.on('close', seen));
  try {
    await sendTruncated((server.address() as AddressInfo).port);
    await done;
    assert.deepEqual(passedOn, []);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
