/**
 * One call of @herald/client ended by the caller's AbortSignal (`{signal}`, every method's last
 * argument): at once, during a request or a wait between tries, with HeraldNetworkError
 * HERALD_CLIENT_ABORTED, and never sent again after it. Against a loopback server on listen(0)
 * that answers as scripted, counting what it receives; the abort is made by the server's handler,
 * so it lands exactly where the test means it to.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { HeraldClient, type HeraldClientOptions, HeraldNetworkError } from '../src/index.ts';

type Step = (req: IncomingMessage, res: ServerResponse) => void;
const reply =
  (status: number, headers: Record<string, string> = {}, body = '{}'): Step =>
  (_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
/** Never answers (the connection stays open). */
const hang: Step = () => {};
/** `step`, then the abort of `controller`. */
const thenAbort =
  (step: Step, controller: AbortController, reason?: unknown): Step =>
  (req, res) => {
    step(req, res);
    // Once the answer is on its way (a hung one never is): the call is between tries, or in one.
    setImmediate(() => controller.abort(reason));
  };

/** A server that plays `steps` in order (the last one again after that); returns what it saw. */
async function scripted(steps: Step[]) {
  const seen: { method: string; url: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      steps[Math.min(seen.length, steps.length) - 1]!(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    seen,
    client: (options: Partial<HeraldClientOptions> = {}) => new HeraldClient({ url, token: 't', ...options }),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const aborted = (tries: number, request: string, cause?: unknown) => (e: unknown) => {
  assert.ok(e instanceof HeraldNetworkError, String(e));
  assert.equal(e.code, 'HERALD_CLIENT_ABORTED', e.message);
  assert.equal(e.tries, tries);
  assert.equal(e.request, request);
  assert.match(e.message, /aborted/);
  if (cause !== undefined) assert.equal(e.cause, cause);
  return true;
};

test('an abort while the call waits out a 503 Retry-After ends it, and nothing is sent again', async () => {
  const controller = new AbortController();
  const busy = reply(503, { 'retry-after': '5' }, '{"error":{"code":"HERALD_ERR_BUSY","message":"busy"}}');
  const s = await scripted([thenAbort(busy, controller), reply(200, {}, '{"data":[],"nextCursor":null}')]);
  const client = s.client();
  try {
    await assert.rejects(
      client.listProjects({}, { signal: controller.signal }),
      aborted(1, 'GET /api/v1/projects'),
    );
  } finally {
    await client.close(); // waits for the calls under way: none is left to try again
    await s.close();
  }
  assert.equal(s.seen.length, 1, 'not sent again after the abort');
});

test('an abort while the call waits after a refused connection (Herald down) says nothing was sent: tries 0, notStored', async () => {
  // A port nothing listens on: every try is refused at connect, carrying no request.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const client = new HeraldClient({ url: `http://127.0.0.1:${port}`, token: 't', retries: 5 });
  try {
    // The refusal comes at once on loopback; the wait after it is 100-300 ms: 90 ms lands in it.
    await assert.rejects(
      client.sendEvent('p', { type: 'x', payload: 1 }, { signal: AbortSignal.timeout(90) }),
      (e: unknown) => {
        aborted(0, 'POST /api/v1/projects/p/events')(e);
        assert.equal((e as HeraldNetworkError).notStored, true, 'no try reached Herald');
        assert.match((e as Error).message, /, 0 tries/);
        return true;
      },
    );
  } finally {
    await client.close();
  }
});

test('an abort during a request ends it, and a request safe to repeat is not sent again', async () => {
  const controller = new AbortController();
  const reason = new Error('the job was cancelled');
  const s = await scripted([thenAbort(hang, controller, reason), reply(202, {}, '{"id":"evt_1"}')]);
  // A timeout far off: without the abort the call would wait for it.
  const client = s.client({ timeoutMs: 10_000 });
  try {
    await assert.rejects(
      client.sendEvent('p', { type: 'x', payload: 1, idempotencyKey: 'k' }, { signal: controller.signal }),
      aborted(1, 'POST /api/v1/projects/p/events', reason),
    );
  } finally {
    await client.close();
    await s.close();
  }
  assert.equal(s.seen.length, 1);
});

test('a signal already aborted sends nothing (tries 0)', async () => {
  const s = await scripted([reply(200, {}, '{"id":"p"}')]);
  const client = s.client();
  try {
    await assert.rejects(
      client.getProject('p', { signal: AbortSignal.abort() }),
      aborted(0, 'GET /api/v1/projects/p'),
    );
    await assert.rejects(
      client.request('GET', '/projects', { signal: AbortSignal.abort() }),
      aborted(0, 'GET /api/v1/projects'),
    );
  } finally {
    await client.close();
    await s.close();
  }
  assert.equal(s.seen.length, 0);
});

test('sendEvents: an abort during a batch ends the call there; no later batch is sent', async () => {
  const controller = new AbortController();
  const one = (id: string) => reply(200, {}, JSON.stringify({ data: [{ id }] }));
  const s = await scripted([one('evt_1'), thenAbort(hang, controller), one('evt_3')]);
  const client = s.client({ batchSize: 1, timeoutMs: 10_000 });
  const events = ['a', 'b', 'c'].map((k) => ({ type: 'x', payload: k, idempotencyKey: k }));
  try {
    await assert.rejects(
      client.sendEvents('p', events, { signal: controller.signal }),
      (e: unknown) =>
        aborted(1, 'POST /api/v1/projects/p/events/batch')(e) && (e as HeraldNetworkError).stored === 1,
    );
  } finally {
    await client.close();
    await s.close();
  }
  assert.deepEqual(
    s.seen.map((r) => JSON.parse(r.body).events[0].idempotencyKey),
    ['a', 'b'],
  );
});

test('a signal that is not aborted changes nothing; the answer arrives', async () => {
  const s = await scripted([reply(200, {}, '{"id":"p"}')]);
  const client = s.client();
  try {
    const project = await client.getProject('p', { signal: new AbortController().signal });
    assert.equal(project.id, 'p');
  } finally {
    await client.close();
    await s.close();
  }
});
