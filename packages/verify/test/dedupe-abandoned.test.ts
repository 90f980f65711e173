/**
 * De-duplication when Herald gives up on an attempt (its timeout, 5 s by default) before the
 * handler answers: the handler's answer still decides. A failure releases the id, so Herald's
 * retry is processed; a success keeps it, so the retry is answered as a duplicate. Express and
 * Fastify on 127.0.0.1; the "Herald" is a fetch aborted once the handler has started.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ExpressRequestLike, webhookMiddleware } from '../src/adapters/express.ts';
import { type FastifyWebhookRequest, webhookVerification } from '../src/adapters/fastify.ts';
import { createDeduplicator, type SignedRequest, sign } from '../src/index.ts';

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

/** What each handler run saw, and a way to wait for the next run's answer. */
class Runs {
  count = 0;
  readonly seen = new Set<string>();
  /** Set: first runs wait for it too, after the client has gone (a handler still busy). */
  gate: Promise<void> | null = null;
  #answered: (() => void) | null = null;
  /** Resolves once a handler run has given its answer. */
  answered(): Promise<void> {
    return new Promise((resolve) => {
      this.#answered = resolve;
    });
  }
  done(): void {
    this.#answered?.();
  }
}

/**
 * The handler: answers 500 for `fail` (and `fail-late`) and 200 otherwise; the first time it sees an outcome, only
 * once the client has gone (the attempt abandoned), and at once for a retry.
 */
async function handle(outcome: string, raw: ServerResponse, runs: Runs, answer: (status: number) => void) {
  runs.count++;
  if (!runs.seen.has(outcome)) {
    runs.seen.add(outcome);
    if (!raw.destroyed) await once(raw, 'close');
    if (runs.gate) await runs.gate;
  }
  answer(outcome.startsWith('fail') ? 500 : 200);
  runs.done();
}

function signed(url: string, id: string, outcome: string): SignedRequest {
  return sign({
    scheme: 'standard',
    secret: SECRET,
    id,
    timestamp: Math.floor(Date.now() / 1000),
    url,
    content: { outcome },
  });
}

/** An attempt Herald abandons: sent, then aborted once the handler has it. */
async function abandoned(request: SignedRequest, runs: Runs): Promise<void> {
  const answered = runs.answered();
  const controller = new AbortController();
  const started = runs.count;
  const pending = fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: controller.signal,
  }).catch(() => null);
  while (runs.count === started) await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await pending;
  await answered;
}

/** The retry, with the client staying for the answer. */
async function retry(request: SignedRequest): Promise<{ status: number; text: string }> {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  return { status: response.status, text: await response.text() };
}

/** Sends `request` and resolves once the handler has it, then gives up on it (Herald's timeout). */
async function abandon(request: SignedRequest, runs: Runs): Promise<void> {
  const controller = new AbortController();
  const started = runs.count;
  const pending = fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: controller.signal,
  }).catch(() => null);
  while (runs.count === started) await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await pending;
}

/**
 * Herald's retry comes while the abandoned attempt's handler is still at work (a handler slower
 * than the timeout plus the first delay, 5 s + 5 s by default): it is not answered as a duplicate,
 * which Herald would take as delivered, and then lose the event when that handler fails.
 */
async function checkInProgress(url: string, runs: Runs): Promise<void> {
  let open: () => void = () => {};
  runs.gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const request = signed(url, 'evt_in_progress_fail', 'fail-late');
  const answered = runs.answered();
  await abandon(request, runs);
  const during = runs.count;
  const early = await retry(request);
  assert.equal(runs.count, during, 'the retry does not run the handler a second time');
  assert.equal(early.status, 409, `a retry while the handler runs is not taken as delivered (${early.text})`);
  assert.deepEqual(JSON.parse(early.text), { duplicate: true, inProgress: true });
  open();
  await answered; // the first run fails (500): the id is released
  runs.gate = null;
  const later = await retry(request);
  assert.equal(runs.count, during + 1, `the retry after the failure reached the handler (${later.text})`);
  assert.equal(later.status, 500);
}

/** `prefix`: of the events' ids, one per route of a deduplicator. */
async function check(url: string, runs: Runs, prefix = 'evt_abandoned'): Promise<void> {
  const failing = signed(url, `${prefix}_fail`, 'fail');
  await abandoned(failing, runs);
  const again = runs.count;
  const failed = await retry(failing);
  assert.equal(runs.count, again + 1, `the retry of a failed event reached the handler (${failed.text})`);
  assert.equal(failed.status, 500);

  const succeeding = signed(url, `${prefix}_ok`, 'ok');
  await abandoned(succeeding, runs);
  const after = runs.count;
  assert.deepEqual(await retry(succeeding), { status: 200, text: '{"duplicate":true}' });
  assert.equal(runs.count, after, 'the retry of a processed event is a duplicate');
}

describe('express', () => {
  let server: Server;
  let base: string;
  const runs = new Runs();
  before(async () => {
    const app = express();
    app.post(
      '/hook',
      express.raw({ type: '*/*' }),
      webhookMiddleware({ scheme: 'standard', secret: SECRET, deduplicate: createDeduplicator() }),
      (req, res) => {
        const { outcome } = (req as ExpressRequestLike).webhook!.payload as { outcome: string };
        void handle(outcome, res, runs, (status) => res.status(status).json({ status }));
      },
    );
    server = createServer(app);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('a handler that fails after the attempt was abandoned releases the id; one that succeeds keeps it', () =>
    check(`${base}/hook`, runs));

  test('a retry while the abandoned attempt is still handled is answered 409 (in progress), not as a duplicate', () =>
    checkInProgress(`${base}/hook`, runs));
});

describe('fastify', () => {
  let app: FastifyInstance;
  let base: string;
  const runs = new Runs();
  const quietRuns = new Runs();
  before(async () => {
    app = Fastify();
    await app.register(async (scope) => {
      await scope.register(
        webhookVerification({ scheme: 'standard', secret: SECRET, deduplicate: createDeduplicator() }),
      );
      scope.post('/hook', async (request, reply) => {
        const { outcome } = (request as unknown as FastifyWebhookRequest).webhook.payload as {
          outcome: string;
        };
        let status = 0;
        await handle(outcome, reply.raw, runs, (s) => {
          status = s;
        });
        return reply.code(status).send({ status });
      });
      // Answers by returning nothing (Fastify answers 200, empty), or by throwing: Fastify sends
      // nothing, and runs no onSend, for such a handler once the client has gone.
      scope.post('/quiet', async (request, reply) => {
        const { outcome } = (request as unknown as FastifyWebhookRequest).webhook.payload as {
          outcome: string;
        };
        let status = 0;
        await handle(outcome, reply.raw, quietRuns, (s) => {
          status = s;
        });
        if (status !== 200) throw new Error('the handler failed');
      });
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  test('a handler that fails after the attempt was abandoned releases the id; one that succeeds keeps it', () =>
    check(`${base}/hook`, runs));

  test('a retry while the abandoned attempt is still handled is answered 409 (in progress), not as a duplicate', () =>
    checkInProgress(`${base}/hook`, runs));

  test('an async handler that returns nothing, done after the attempt was abandoned, keeps the id: its retry is a duplicate, not in progress', () =>
    check(`${base}/quiet`, quietRuns, 'evt_quiet'));
});
