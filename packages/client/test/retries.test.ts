/**
 * When @herald/client sends a request again: against a loopback server that answers as scripted
 * (429 / 503 with Retry-After, or a dropped connection), counting what it receives.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startHerald } from '../../../test/e2e/harness.ts';
import {
  HeraldApiError,
  HeraldClient,
  type HeraldClientOptions,
  HeraldEventTooLargeError,
  HeraldNetworkError,
  HeraldResponseError,
} from '../src/index.ts';

const ADMIN = 'retries-admin-token-0123456789abcdef';

type Step = (req: IncomingMessage, res: ServerResponse) => void;
const reply =
  (status: number, headers: Record<string, string> = {}, body = '{}'): Step =>
  (_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
const drop: Step = (req) => req.socket.destroy();
/** Never answers (the connection stays open). */
const hang: Step = () => {};
const busy = reply(503, { 'retry-after': '0' }, '{"error":{"code":"HERALD_ERR_BUSY","message":"busy"}}');

/** A server that plays `steps` in order (the last one again after that); returns what it saw. */
async function scripted(steps: Step[], port = 0) {
  const seen: { method: string; url: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      steps[Math.min(seen.length, steps.length) - 1]!(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    seen,
    client: (retries?: number, options: Partial<HeraldClientOptions> = {}) =>
      new HeraldClient({ url, token: 't', ...(retries === undefined ? {} : { retries }), ...options }),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('429 and 503 are sent again after Retry-After, up to `retries` times', async () => {
  const s = await scripted([busy, reply(429, { 'retry-after': '0' }), reply(202, {}, '{"id":"evt_1"}')]);
  const client = s.client();
  try {
    const event = await client.sendEvent('p', { type: 'x', payload: 1 });
    assert.equal(event.id, 'evt_1');
    assert.equal(s.seen.length, 3);
    assert.ok(s.seen.every((r) => r.url === '/api/v1/projects/p/events' && JSON.parse(r.body).type === 'x'));
  } finally {
    await client.close();
    await s.close();
  }
});

test("a 503 not in Herald's format (a proxy's, which may come after it passed the request on) is sent again only when safe to repeat", async () => {
  // Envoy answers 503 "upstream connect error or disconnect/reset before headers" when Herald's
  // connection closed after the request reached it: Herald may have stored it.
  const proxy503 = reply(
    503,
    { 'content-type': 'text/plain', 'retry-after': '0' },
    'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  );
  const cases = [
    // A POST without an idempotency key: not sent again (before: sent twice, two endpoints).
    {
      first: proxy503,
      call: (c: HeraldClient) => c.createEndpoint('p', { url: 'https://example.test/h' }),
      sent: 1,
    },
    // An event, with its key (a repeat answers the stored one): sent again.
    { first: proxy503, call: (c: HeraldClient) => c.sendEvent('p', { type: 'x', payload: 1 }), sent: 2 },
    // Herald's own 503 stored nothing: any request is sent again.
    {
      first: busy,
      call: (c: HeraldClient) => c.createEndpoint('p', { url: 'https://example.test/h' }),
      sent: 2,
    },
  ];
  for (const [i, { first, call, sent }] of cases.entries()) {
    const s = await scripted([first, reply(201, {}, '{"id":"x_1"}')]);
    const client = s.client();
    try {
      const outcome = await call(client).then(
        (answer) => answer.id,
        (e: unknown) => (e instanceof HeraldApiError ? `${e.status} ${e.code}` : String(e)),
      );
      assert.equal(outcome, sent === 1 ? '503 http_503' : 'x_1', `case ${i}`);
      assert.equal(s.seen.length, sent, `case ${i}: requests received`);
    } finally {
      await client.close();
      await s.close();
    }
  }
});

test('with retries 0, or past them, the 503 reaches the caller', async () => {
  const s = await scripted([busy]);
  const none = s.client(0);
  const two = s.client(2);
  try {
    await assert.rejects(none.sendEvent('p', { type: 'x', payload: 1 }), (e: unknown) => {
      return e instanceof HeraldApiError && e.status === 503 && e.code === 'HERALD_ERR_BUSY';
    });
    assert.equal(s.seen.length, 1);
    await assert.rejects(two.listProjects(), (e: unknown) => e instanceof HeraldApiError && e.status === 503);
    assert.equal(s.seen.length, 4, '1 + 3 tries');
  } finally {
    await none.close();
    await two.close();
    await s.close();
  }
});

test('a Retry-After beyond 10 s is not waited for: the error says it (retryAfter, seconds)', async () => {
  const full = '{"error":{"code":"HERALD_ERR_STORAGE_FULL","message":"the database disk is full"}}';
  const s = await scripted([reply(503, { 'retry-after': '60' }, full)]);
  const client = s.client();
  try {
    await assert.rejects(client.listProjects(), (e: unknown) => {
      assert.ok(e instanceof HeraldApiError);
      assert.equal(e.status, 503);
      assert.equal(e.retryAfter, 60, 'how long Herald asked to wait');
      return true;
    });
    assert.equal(s.seen.length, 1);
  } finally {
    await client.close();
    await s.close();
  }
});

test("a Retry-After a proxy joined on one line ('60, 60') is read as its first number, not as none", async () => {
  // Until 2026-12-08 it was read as none: the 503 was sent again after 1 s, three times, and the
  // error past the retries had no retryAfter.
  const full = '{"error":{"code":"HERALD_ERR_STORAGE_FULL","message":"the database disk is full"}}';
  for (const value of ['60, 60', '60,5']) {
    const s = await scripted([reply(503, { 'retry-after': value }, full)]);
    const client = s.client();
    try {
      await assert.rejects(
        client.listProjects(),
        (e: unknown) => e instanceof HeraldApiError && e.retryAfter === 60,
      );
      assert.equal(s.seen.length, 1, `${value}: sent once, the wait asked for being over 10 s`);
    } finally {
      await client.close();
      await s.close();
    }
  }
});

test('a Retry-After given as an HTTP-date (a proxy before Herald) is waited for until that time, and said in seconds', async () => {
  // RFC 9110 allows either form; Herald sends seconds, a proxy or gateway before it may send a date.
  // A date 60 s away: not waited for (over 10 s), and not sent again after 1 s either.
  const later = new Date(Date.now() + 60_000).toUTCString();
  const far = await scripted([reply(429, { 'retry-after': later })]);
  const client = far.client();
  try {
    await assert.rejects(client.listProjects(), (e: unknown) => {
      assert.ok(e instanceof HeraldApiError);
      assert.ok(
        e.retryAfter !== undefined && e.retryAfter >= 58 && e.retryAfter <= 60,
        `retryAfter ${e.retryAfter}`,
      );
      return true;
    });
    assert.equal(far.seen.length, 1, 'sent once: the date is past the 10 s the client waits');
  } finally {
    await client.close();
    await far.close();
  }
  // A date 2 s on (whole seconds: 2 to 3 s from now) is waited for, not 1 s.
  const times: number[] = [];
  const soon = await scripted([
    (req, res) => {
      times.push(Date.now());
      reply(503, { 'retry-after': new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000).toUTCString() })(
        req,
        res,
      );
    },
    (req, res) => {
      times.push(Date.now());
      reply(200, {}, '{"data":[],"nextCursor":null}')(req, res);
    },
  ]);
  const waiting = soon.client();
  try {
    await waiting.listProjects();
    assert.equal(times.length, 2);
    assert.ok(times[1]! - times[0]! >= 1_900, `sent again after ${times[1]! - times[0]!} ms`);
  } finally {
    await waiting.close();
    await soon.close();
  }
});

test("Herald's 429 past the retries says when to send again (retryAfter); an answer without Retry-After has none", async () => {
  const herald = await startHerald({
    args: ['--role', 'api'],
    env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_API_RATE_LIMIT: '2/min' },
  });
  const client = new HeraldClient({ url: herald.url, token: ADMIN, retries: 0 });
  try {
    await assert.rejects(client.getProject('no-such-project'), (e: unknown) => {
      assert.ok(e instanceof HeraldApiError);
      assert.equal(e.status, 404);
      assert.equal(e.retryAfter, undefined);
      return true;
    });
    // The budget of 2 is spent by the third request at the latest.
    await client.listProjects().catch(() => {});
    await client.listProjects().catch(() => {});
    await assert.rejects(client.listProjects(), (e: unknown) => {
      assert.ok(e instanceof HeraldApiError);
      assert.equal(e.code, 'HERALD_ERR_RATE_LIMITED');
      assert.ok(Number.isInteger(e.retryAfter), `retryAfter ${e.retryAfter}`);
      assert.ok(e.retryAfter! > 0 && e.retryAfter! <= 60, `retryAfter ${e.retryAfter}: within the minute`);
      return true;
    });
  } finally {
    await client.close();
    await herald.dispose();
  }
});

test('a dropped connection is retried only for requests safe to repeat', async () => {
  const s = await scripted([drop, reply(200, {}, '{"data":[],"nextCursor":null}')]);
  const client = s.client();
  try {
    // A read: sent again.
    assert.deepEqual((await client.listProjects()).data, []);
    assert.equal(s.seen.length, 2);
  } finally {
    await client.close();
    await s.close();
  }

  const t = await scripted([drop, reply(202, {}, '{"id":"evt_1"}')]);
  const c2 = t.client(undefined, { autoIdempotencyKeys: false });
  try {
    // An event without an idempotency key may have been stored: not sent again.
    await assert.rejects(c2.sendEvent('p', { type: 'x', payload: 1 }));
    assert.equal(t.seen.length, 1);
    // With one, Herald returns the original if it was: sent again.
    const event = await c2.sendEvent('p', { type: 'x', payload: 1, idempotencyKey: 'k' });
    assert.equal(event.id, 'evt_1');
    assert.equal(t.seen.length, 2);
  } finally {
    await c2.close();
    await t.close();
  }

  // By default the client gives an event without a key one of its own, and sends it again with
  // that same key (Herald answers a repeat with the event it stored: lost-answer.test.ts).
  const v = await scripted([drop, reply(202, {}, '{"id":"evt_1"}')]);
  const c4 = v.client();
  try {
    assert.equal((await c4.sendEvent('p', { type: 'x', payload: 1 })).id, 'evt_1');
    assert.equal(v.seen.length, 2);
    const keys = v.seen.map((r) => JSON.parse(r.body).idempotencyKey);
    assert.match(keys[0], /^auto-/);
    assert.equal(keys[1], keys[0], 'the same key both times');
  } finally {
    await c4.close();
    await v.close();
  }

  const u = await scripted([drop, reply(202, {}, '{"data":[]}')]);
  const c3 = u.client(undefined, { autoIdempotencyKeys: false });
  try {
    // A batch is repeatable only when every event carries a key.
    await assert.rejects(
      c3.sendEvents('p', [
        { type: 'x', payload: 1, idempotencyKey: 'a' },
        { type: 'x', payload: 2 },
      ]),
    );
    assert.equal(u.seen.length, 1);
  } finally {
    await c3.close();
    await u.close();
  }
});

/**
 * sendEvents of three events in batches of one (retries 1): the first answered by Herald, the
 * second by `second` on every try. Answers what it threw and the payloads the server saw.
 */
async function threeInBatchesOfOne(second: Step): Promise<{ error: unknown; payloads: number[] }> {
  const s = await scripted([reply(200, {}, '{"data":[{"id":"evt_1"}]}'), second]);
  const client = s.client(1, { batchSize: 1 });
  try {
    const error = await client
      .sendEvents(
        'p',
        [1, 2, 3].map((n) => ({ type: 'x', payload: n })),
      )
      .then(
        () => assert.fail('sendEvents resolved'),
        (e: unknown) => e,
      );
    return { error, payloads: s.seen.map((r) => JSON.parse(r.body).events[0].payload) };
  } finally {
    await client.close();
    await s.close();
  }
}

test('sendEvents ended by a network error says how many events, the first ones, were stored (stored), as a refusal does', async () => {
  // The second batch's connection is dropped on every try. Without keys of their own the events
  // carry fresh auto- keys, so sending the whole list again would store the first twice: the
  // caller needs to know where to go on from.
  const { error, payloads } = await threeInBatchesOfOne(drop);
  assert.ok(error instanceof HeraldNetworkError, String(error));
  assert.equal(error.code, 'HERALD_CLIENT_NETWORK');
  assert.equal(error.stored, 1, 'the first event was stored, none after it was sent');
  assert.deepEqual(
    payloads,
    [1, 2, 2],
    'the second batch tried twice (its events have keys), the third never sent',
  );
});

test("sendEvents ended by an answer not Herald's (HeraldResponseError) says how many events were stored (stored), as a refusal does", async () => {
  // The second batch answered by a proxy's page (200, HTML), or by JSON of another shape. Until
  // 2026-12-08 its `stored` was left unset.
  for (const [answer, code] of [
    ['<html>maintenance</html>', 'HERALD_CLIENT_NOT_JSON'],
    ['{"ok":true}', 'HERALD_CLIENT_UNEXPECTED_SHAPE'],
  ] as const) {
    const { error, payloads } = await threeInBatchesOfOne(
      reply(200, { 'content-type': 'text/html' }, answer),
    );
    assert.ok(error instanceof HeraldResponseError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.stored, 1, 'the first event was stored, none after the second batch was sent');
    assert.deepEqual(payloads, [1, 2], 'the third batch is not sent');
  }
});

test('request() with a header undici cannot send is a TypeError, not sent nor tried again as a network error', async () => {
  const s = await scripted([reply(200, {}, '{"data":[],"nextCursor":null}')]);
  const client = s.client();
  try {
    for (const method of ['GET', 'POST'] as const) {
      await assert.rejects(
        client.request(method, '/projects', {
          body: method === 'POST' ? {} : undefined,
          headers: { 'x-note': 'a\nb' },
        }),
        (e: unknown) => {
          // Before: HeraldNetworkError 'invalid x-note header', GET tried 3 times (tries 3), POST
          // tries 1, notStored false: as if either may have been stored.
          assert.ok(e instanceof TypeError, String(e));
          assert.equal(e.message, `invalid x-note header: not sent (${method} /api/v1/projects)`);
          return true;
        },
      );
    }
    assert.equal(s.seen.length, 0);
  } finally {
    await client.close();
    await s.close();
  }
});

test('a refused connection (Herald restarting) is retried for every request: nothing was sent', async () => {
  // A port nothing listens on for the first try; Herald comes back on it before the second.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const client = new HeraldClient({ url: `http://127.0.0.1:${port}`, token: 't' });
  let s: Awaited<ReturnType<typeof scripted>> | undefined;
  try {
    // An event without an idempotency key: a refused connection carried no request, so sending
    // it again cannot store it twice.
    const sent = client.sendEvent('p', { type: 'x', payload: 1 });
    await new Promise((r) => setTimeout(r, 50));
    s = await scripted([reply(202, {}, '{"id":"evt_1"}')], port);
    assert.equal((await sent).id, 'evt_1');
    assert.equal(s.seen.length, 1, 'stored once: the refused try never reached Herald');
  } finally {
    await client.close();
    await s?.close();
  }
});

test('a call the client was closed under counts its tries as a network error does: refused ones not, notStored', async () => {
  // One read answered after 400 ms holds close() open; Herald then stops listening (a restart), so
  // a read made after close() is refused and waits to try again until close() ends the pool under
  // it. Until 2026-12-08 it counted its refused tries ('tries' 1 or more) and said notStored false,
  // as if it may have reached Herald.
  const server = createServer((_req, res) => {
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 400);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new HeraldClient({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 't',
    retries: 10,
  });
  try {
    const slow = client.request('GET', '/slow');
    await new Promise((r) => setTimeout(r, 50)); // its connection is made
    const stopped = new Promise<void>((r) => server.close(() => r()));
    const closed = client.close();
    await assert.rejects(client.request('GET', '/late'), (e: unknown) => {
      assert.ok(e instanceof HeraldNetworkError, String(e));
      assert.equal(e.message, 'not sent: the client is closed (close() was called) (GET /api/v1/late)');
      assert.deepEqual([e.tries, e.notStored], [0, true]);
      return true;
    });
    assert.deepEqual(await slow, {});
    await closed;
    await stopped;
  } finally {
    server.closeAllConnections();
  }
});

test('the waits before trying again are jittered: calls refused together do not all come back together', async () => {
  // Each request's path names it; when each of its two tries arrived.
  const arrivals = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const times = arrivals.get(req.url ?? '') ?? [];
    times.push(performance.now());
    arrivals.set(req.url ?? '', times);
    if (times.length === 1) req.socket.destroy();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new HeraldClient({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 't',
    connections: 20,
  });
  try {
    // 20 reads whose connections drop at once, as a restarting Herald drops them all.
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.request('GET', `/r/${i}`)));
    const gaps = [...arrivals.values()].map(([first, second]) => second! - first!);
    assert.equal(gaps.length, 20);
    // Without jitter every gap is the same 200 ms backoff (give or take the event loop's delay).
    const spread = Math.max(...gaps) - Math.min(...gaps);
    assert.ok(spread >= 60, `the second tries came back within ${spread.toFixed(1)} ms of each other`);
    assert.ok(Math.min(...gaps) >= 90, `a retry came after ${Math.min(...gaps).toFixed(1)} ms`);
  } finally {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('a timeoutMs or retries no call can use is refused when the client is made, naming the option', async () => {
  // Infinity or NaN (an unset variable through Number()) threw a RangeError about "delay" from
  // every call; a string ('5000', from the environment) made a deadline of digits; over 2^31 - 1 ms
  // (Node's timers, undici's) every call timed out after 1 ms.
  for (const timeoutMs of [Number.POSITIVE_INFINITY, Number.NaN, '5000', 0, -1, 2.5, 2 ** 31]) {
    assert.throws(
      () => new HeraldClient({ url: 'http://127.0.0.1:1', token: 't', timeoutMs: timeoutMs as number }),
      (e: unknown) =>
        e instanceof TypeError &&
        e.message ===
          `timeoutMs: expected a whole number of milliseconds from 1 to 2147483647, got ${
            typeof timeoutMs === 'string' ? JSON.stringify(timeoutMs) : timeoutMs
          }`,
      String(timeoutMs),
    );
  }
  for (const retries of [Number.NaN, -1, 1.5, '2']) {
    assert.throws(
      () => new HeraldClient({ url: 'http://127.0.0.1:1', token: 't', retries: retries as number }),
      (e: unknown) =>
        e instanceof TypeError && e.message.startsWith('retries: expected a whole number from 0'),
      String(retries),
    );
  }
  // The bounds themselves are taken, and work: a call within the longest deadline is answered.
  const s = await scripted([reply(200, {}, '{"data":[],"nextCursor":null}')]);
  const longest = s.client(Number.POSITIVE_INFINITY, { timeoutMs: 2 ** 31 - 1 });
  const shortest = s.client(0, { timeoutMs: 1 });
  try {
    assert.deepEqual((await longest.listProjects()).data, []);
  } finally {
    await longest.close();
    await shortest.close();
    await s.close();
  }
});

test('a batchSize or maxBodyBytes sendEvents cannot use is refused when the client is made, naming the option', async () => {
  // Until 2026-12-08 taken as given: a batchSize of 0, a negative or 2.5 sent 2,500 events in 2,500
  // or 834 requests, NaN in one; a maxBodyBytes of NaN cut no batch for its size, 0 or a negative
  // refused every event as too large.
  const cases = { batchSize: 'events', maxBodyBytes: 'bytes' } as const;
  for (const [name, unit] of Object.entries(cases)) {
    for (const value of [Number.NaN, 0, -1, 2.5, Number.POSITIVE_INFINITY, '1000']) {
      assert.throws(
        () => new HeraldClient({ url: 'http://127.0.0.1:1', token: 't', [name]: value as number }),
        (e: unknown) =>
          e instanceof TypeError &&
          e.message ===
            `${name}: expected a whole number of ${unit} from 1, got ${
              typeof value === 'string' ? JSON.stringify(value) : value
            }`,
        `${name} ${String(value)}`,
      );
    }
  }
  // The smallest is taken, and works: batches of one event.
  const s = await scripted([reply(200, {}, '{"data":[{"id":"evt_1"}]}')]);
  const client = s.client(0, { batchSize: 1, maxBodyBytes: 1_000 });
  try {
    const sent = await client.sendEvents('p', [
      { type: 'x', payload: 1 },
      { type: 'x', payload: 2 },
    ]);
    assert.equal(sent.length, 2);
    assert.equal(s.seen.length, 2);
  } finally {
    await client.close();
    await s.close();
  }
});

test('timeoutMs is one deadline for the whole call, tries included, and throws HeraldNetworkError', async () => {
  const s = await scripted([hang]);
  const client = s.client(2, { timeoutMs: 500 });
  try {
    const started = Date.now();
    await assert.rejects(client.listProjects(), (e: unknown) => {
      assert.ok(e instanceof HeraldNetworkError, String(e));
      assert.equal(e.code, 'HERALD_CLIENT_TIMEOUT');
      assert.equal(e.request, 'GET /api/v1/projects');
      assert.match(e.message, /^no answer within timeoutMs, 500 ms, 1 try \(GET \/api\/v1\/projects\)$/);
      assert.ok(e.cause, 'keeps the underlying error');
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 450 && took < 1500, `gave up after ${took} ms, not 3 tries of 500 ms`);
    assert.equal(s.seen.length, 1);
  } finally {
    await client.close();
    await s.close();
  }
});

test("timeoutMs bounds each of sendEvents' batch requests, not the whole call; a signal bounds it all", async () => {
  // Three batches of one, each answered after 300 ms: with timeoutMs 500 all three are sent (about
  // 900 ms in all), as the README says; a signal of 500 ms ends the call during the second.
  const slow: Step = (req, res) => {
    setTimeout(() => reply(200, {}, '{"data":[{"id":"evt_1"}]}')(req, res), 300);
  };
  const s = await scripted([slow]);
  const client = s.client(0, { timeoutMs: 500, batchSize: 1 });
  const events = [1, 2, 3].map((n) => ({ type: 'x', payload: n }));
  try {
    const started = Date.now();
    assert.equal((await client.sendEvents('p', events)).length, 3);
    assert.ok(Date.now() - started >= 850, `took ${Date.now() - started} ms`);
    await assert.rejects(
      client.sendEvents('p', events, { signal: AbortSignal.timeout(500) }),
      (e: unknown) => e instanceof HeraldNetworkError && e.code === 'HERALD_CLIENT_ABORTED' && e.stored === 1,
    );
    assert.equal(s.seen.length, 5);
  } finally {
    await client.close();
    await s.close();
  }
});

test('a 503 whose Retry-After ends past the deadline reaches the caller at once', async () => {
  const s = await scripted([
    reply(503, { 'retry-after': '2' }, '{"error":{"code":"HERALD_ERR_BUSY","message":"busy"}}'),
  ]);
  const client = s.client(2, { timeoutMs: 1000 });
  try {
    const started = Date.now();
    await assert.rejects(
      client.listProjects(),
      (e: unknown) => e instanceof HeraldApiError && e.status === 503,
    );
    assert.ok(Date.now() - started < 900);
    assert.equal(s.seen.length, 1);
  } finally {
    await client.close();
    await s.close();
  }
});

test('a refusal names the request it answered, as the other errors do, and not the token', async () => {
  const s = await scripted([
    reply(
      400,
      {},
      '{"error":{"code":"HERALD_ERR_VALIDATION","message":"body.type: is required","details":{"field":"body.type"}}}',
    ),
  ]);
  const client = s.client(2, { token: 'secret-token-0123456789' });
  try {
    await assert.rejects(client.sendEvent('p', { type: '', payload: 1 }), (e: unknown) => {
      assert.ok(e instanceof HeraldApiError, String(e));
      assert.equal(e.status, 400);
      assert.equal(e.code, 'HERALD_ERR_VALIDATION');
      assert.deepEqual(e.details, { field: 'body.type' });
      assert.equal(e.request, 'POST /api/v1/projects/p/events');
      assert.doesNotMatch(JSON.stringify({ ...e, message: e.message }), /secret-token/);
      return true;
    });
    // A 400 is not sent again.
    assert.equal(s.seen.length, 1);
  } finally {
    await client.close();
    await s.close();
  }
});

test('a network error is HeraldNetworkError HERALD_CLIENT_NETWORK with the undici error as cause', async () => {
  const s = await scripted([drop]);
  const client = s.client(2);
  try {
    await assert.rejects(client.sendEvent('p', { type: 'x', payload: 1 }), (e: unknown) => {
      assert.ok(e instanceof HeraldNetworkError, String(e));
      assert.equal(e.code, 'HERALD_CLIENT_NETWORK');
      assert.equal(e.tries, 3, 'the first try and 2 retries');
      assert.ok(e.cause instanceof Error);
      return true;
    });
    assert.equal(s.seen.length, 3);
  } finally {
    await client.close();
    await s.close();
  }
});

test('an event over maxBodyBytes on its own is refused before anything is sent, naming its index', async () => {
  const s = await scripted([reply(202, {}, '{"data":[]}')]);
  const client = s.client(2, { maxBodyBytes: 1000, batchSize: 1 });
  try {
    const big = { type: 'x', payload: 'a'.repeat(2000) };
    await assert.rejects(
      client.sendEvents('p', [{ type: 'x', payload: 1 }, big]),
      (e: unknown) =>
        e instanceof HeraldEventTooLargeError &&
        e.index === 1 &&
        e.maxBodyBytes === 1000 &&
        /event 1 is \d+ bytes .*maxBodyBytes \(1000/.test(e.message),
    );
    await assert.rejects(
      client.sendEvent('p', big),
      (e: unknown) => e instanceof HeraldEventTooLargeError && e.index === 0,
    );
    assert.equal(s.seen.length, 0, 'not even the batch before it');
  } finally {
    await client.close();
    await s.close();
  }
});

test('a 2xx body that is not JSON (not Herald at `url`) throws HeraldResponseError, not a SyntaxError; a foreign error body keeps code http_<status>', async () => {
  const s = await scripted([
    (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
    (_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom'),
  ]);
  const client = s.client(0);
  try {
    await assert.rejects(client.listProjects(), (error: unknown) => {
      assert.ok(error instanceof HeraldResponseError, String(error));
      assert.equal(error.code, 'HERALD_CLIENT_NOT_JSON');
      assert.equal(error.status, 200);
      assert.equal(error.request, 'GET /api/v1/projects');
      assert.equal(error.body, 'ok');
      return true;
    });
    await assert.rejects(client.listProjects(), (error: unknown) => {
      assert.ok(error instanceof HeraldApiError, String(error));
      assert.deepEqual([error.status, error.code, error.message], [500, 'http_500', '500 http_500: boom']);
      return true;
    });
  } finally {
    await client.close();
    await s.close();
  }
});

test('a 2xx JSON answer of another shape than Herald sends (not Herald at `url`) throws HeraldResponseError HERALD_CLIENT_UNEXPECTED_SHAPE, not a TypeError in the caller', async () => {
  const s = await scripted([
    reply(200, {}, '200'),
    reply(200, {}, '{"status":"ok"}'),
    reply(200, {}, '{"data":[1,2]}'),
    reply(200, {}, '{"data":[],"nextCursor":5}'),
    reply(200, {}, '{"id":"x"}'),
    reply(200, {}, ''),
    reply(200, {}, '{"recovered":"3"}'),
    reply(200, {}, '{"data":[{"id":"prj_1"}],"nextCursor":null}'),
    reply(200, {}, '{"status":"ok"}'),
    reply(200, {}, '{"ok":true}'),
    reply(200, {}, ''),
    reply(204, {}, ''),
  ]);
  const client = s.client(0);
  const shapeError = (request: string, expected: RegExp) => (error: unknown) => {
    assert.ok(error instanceof HeraldResponseError, String(error));
    assert.equal(error.code, 'HERALD_CLIENT_UNEXPECTED_SHAPE');
    assert.equal(error.request, request);
    assert.match(String(error.expected), expected);
    return true;
  };
  try {
    await assert.rejects(
      client.getEndpoint('p', 'e'),
      shapeError('GET /api/v1/projects/p/endpoints/e', /"id"/),
    );
    await assert.rejects(client.listProjects(), shapeError('GET /api/v1/projects', /^a list \{"data"/));
    await assert.rejects(client.listEvents('p'), shapeError('GET /api/v1/projects/p/events', /"id"/));
    await assert.rejects(client.listEndpoints('p'), shapeError('GET /api/v1/projects/p/endpoints', /list/));
    await assert.rejects(client.listEventTypes(), shapeError('GET /api/v1/event-types', /"name"/));
    await assert.rejects(client.getProject('p'), shapeError('GET /api/v1/projects/p', /"id"/));
    await assert.rejects(
      client.recoverEndpoint('p', 'e', { since: 0 }),
      shapeError('POST /api/v1/projects/p/endpoints/e/recover', /"recovered" \(number\)/),
    );
    // Herald's own shape goes through, and request() without `expect` checks nothing.
    assert.deepEqual((await client.listProjects()).data, [{ id: 'prj_1' }]);
    assert.deepEqual(await client.request('GET', '/anything'), { status: 'ok' });
    // A delete is Herald's only as 204 with no body: a 200, even an empty one, is another server's.
    const noContent = /^no content \(204\)$/;
    await assert.rejects(
      client.deleteEndpoint('p', 'e'),
      shapeError('DELETE /api/v1/projects/p/endpoints/e', noContent),
    );
    await assert.rejects(client.deleteProject('p'), shapeError('DELETE /api/v1/projects/p', noContent));
    assert.equal(await client.deleteApiKey('p', 'k'), undefined);
  } finally {
    await client.close();
    await s.close();
  }
});

test('close() lets a call waiting out a Retry-After finish, and closes after it; a later call is not sent', async () => {
  const s = await scripted([
    reply(503, { 'retry-after': '1' }, '{"error":{"code":"HERALD_ERR_BUSY","message":"busy"}}'),
    reply(202, {}, '{"id":"evt_1"}'),
  ]);
  const client = s.client();
  try {
    const sent = client.sendEvent('p', { type: 'x', payload: 1 });
    // Closed while the call waits its second of Retry-After, with no request in the pool.
    while (s.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    const order: string[] = [];
    const closing = client.close().then(() => order.push('closed'));
    const event = await sent.finally(() => order.push('call ended'));
    await closing;
    assert.equal(event.id, 'evt_1');
    assert.equal(s.seen.length, 2);
    assert.deepEqual(order, ['call ended', 'closed']);
    // Afterwards a call is refused at once, not sent (nor tried again as if the network failed).
    await assert.rejects(client.listProjects(), (e: unknown) => {
      assert.ok(e instanceof HeraldNetworkError);
      assert.equal(e.code, 'HERALD_CLIENT_NETWORK');
      assert.match(
        e.message,
        /^not sent: the client is closed \(close\(\) was called\) \(GET \/api\/v1\/projects\)$/,
      );
      assert.equal(e.tries, 0);
      return true;
    });
    assert.equal(s.seen.length, 2);
  } finally {
    await s.close();
  }
});

test("a 5xx's request id (error.requestId) is on the HeraldApiError and in its message; a 4xx has none", async () => {
  const s = await scripted([
    reply(
      500,
      {},
      '{"error":{"code":"HERALD_ERR_INTERNAL","message":"internal error","requestId":"k3v9q0zt-1a"}}',
    ),
    reply(404, {}, '{"error":{"code":"HERALD_ERR_NOT_FOUND","message":"project not found"}}'),
  ]);
  const client = s.client(0);
  try {
    const failed = await client.getProject('p').catch((e: unknown) => e);
    assert.ok(failed instanceof HeraldApiError, String(failed));
    assert.equal(failed.requestId, 'k3v9q0zt-1a');
    assert.match(failed.message, /request k3v9q0zt-1a/);
    const missing = await client.getProject('p').catch((e: unknown) => e);
    assert.ok(missing instanceof HeraldApiError, String(missing));
    assert.equal(missing.requestId, undefined);
  } finally {
    await client.close();
    await s.close();
  }
});
