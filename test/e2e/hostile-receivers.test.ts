/**
 * Issue 7 item 2, end to end: a running `herald serve` with one endpoint per hostile behaviour and
 * healthy ones beside them. Through the API: each hostile attempt carries the right error kind, is
 * retried or not as DESIGN says (410 disables, 429 Retry-After is waited for, redirects are failures
 * and never followed, a 5xx storm disables the endpoint), enormous responses are stored capped, no
 * socket is kept towards a receiver that misbehaved, and the healthy endpoints get all their
 * deliveries on time while long-hanging receivers still hold their attempts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  connectionsReleased,
  type HostileServer,
  httpServer,
  stream,
  tcpServer,
  trickle,
} from '../support/hostile-servers.ts';
import { refusedPort } from '../support/refused-port.ts';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-admin-token-hostile-0123456789';
const CAP = 64 * 1024;
/**
 * The long-hanging receivers' endpoints' timeout: what a healthy delivery queued behind them would
 * wait, and how long the checks below have while those attempts still hang (20 s: at a load of 16
 * on 2 cores, the healthy deliveries took up to 5.9 s to arrive).
 */
const LONG_TIMEOUT_MS = 20_000;
/**
 * When the slow-headers receiver answers: past the longest its attempts' 500 ms timeout can be
 * stretched. The timeout leaves out the time herald's loop was held, up to what the claim's lease
 * (60 s by default) leaves: at 3 s, a load of 16 on 2 cores held it 9 s during one attempt, whose
 * late answer then came within the timeout and succeeded.
 */
const SLOW_HEADERS_MS = 60_000;
type Body = Record<string, unknown> & { id: string };
interface Attempt {
  number: number;
  startedAt: string;
  durationMs: number;
  outcome: 'succeeded' | 'failed';
  response: { status: number; headers: Record<string, string>; body: string } | null;
  error: { kind: string; message: string } | null;
}

let herald: HeraldProcess;
let projectId: string;
const servers: HostileServer[] = [];

const api = <T = Body>(method: string, path: string, body?: unknown) =>
  call<T>(herald.url, TOKEN, method, path, body);

async function server(made: Promise<HostileServer>): Promise<HostileServer> {
  const s = await made;
  servers.push(s);
  return s;
}

async function endpoint(body: Record<string, unknown>): Promise<Body> {
  const res = await api('POST', `/api/v1/projects/${projectId}/endpoints`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function attemptsOf(endpointId: string): Promise<Attempt[]> {
  const res = await api<{ data: Attempt[] }>(
    'GET',
    `/api/v1/projects/${projectId}/endpoints/${endpointId}/attempts?limit=100`,
  );
  assert.equal(res.status, 200);
  return res.body.data.sort((a, b) => a.number - b.number);
}

/** The status of the one delivery of `eventId` bound for `endpointId`. */
async function deliveryStatus(eventId: string, endpointId: string): Promise<string> {
  const res = await api<{ deliveries: { endpointId: string; status: string }[] }>(
    'GET',
    `/api/v1/projects/${projectId}/events/${eventId}`,
  );
  return res.body.deliveries.find((d) => d.endpointId === endpointId)!.status;
}

before(async () => {
  herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_RETRY_JITTER: '0',
      HERALD_POLL_INTERVAL_MS: '50',
    },
  });
  const res = await api('POST', '/api/v1/projects', { name: 'hostile receivers' });
  assert.equal(res.status, 201);
  projectId = res.body.id;
});

after(async () => {
  await herald?.dispose();
  await Promise.all(servers.map((s) => s.close()));
});

describe('hostile receivers against a running herald', () => {
  test('error kinds, retries per DESIGN, capped bodies, released sockets, and healthy endpoints unharmed', async () => {
    // --- healthy endpoints, and long-hanging ones beside them on the same event type ---
    const healthy = await Promise.all(
      [0, 1, 2].map(() =>
        server(
          httpServer((req, res) => {
            req.resume();
            req.on('end', () => res.end('ok'));
          }),
        ),
      ),
    );
    const longHang = await server(httpServer(() => {}));
    const longTrickle = await server(
      httpServer((_req, res) => {
        res.writeHead(200);
        trickle(res, 50);
      }),
    );
    const longSilentTls = await server(tcpServer(() => {}));
    // Enormous 200s, each counted if its whole 50 MiB was written (the client read it through).
    let floodReadThrough = 0;
    const flood = await server(
      httpServer((_req, res) => {
        res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
        res.on('finish', () => floodReadThrough++);
        stream(res, 50 * 1024 * 1024);
      }),
    );
    const load = { eventTypes: ['load'], retrySchedule: [600] };
    const healthyEps = await Promise.all(healthy.map((r) => endpoint({ url: r.url, ...load })));
    const longEps = await Promise.all(
      [longHang.url, longTrickle.url, `https://127.0.0.1:${longSilentTls.port}/hook`].map((url) =>
        endpoint({ url, timeoutMs: LONG_TIMEOUT_MS, ...load }),
      ),
    );
    const floodEp = await endpoint({ url: flood.url, ...load });

    // --- one endpoint per hostile behaviour, on another event type, two tries each ---
    const redirectTarget = await server(httpServer((_req, res) => res.end('followed')));
    const refused = { url: `http://127.0.0.1:${await refusedPort()}/hook` }; // connection refused
    const hostile: Record<string, HostileServer> = {
      hang: await server(httpServer(() => {})),
      slowHeaders: await server(
        httpServer((_req, res) => void setTimeout(() => res.end('late'), SLOW_HEADERS_MS).unref()),
      ),
      slowBody: await server(
        httpServer((_req, res) => {
          res.writeHead(200);
          trickle(res, 30);
        }),
      ),
      reset: await server(tcpServer((socket) => socket.resetAndDestroy())),
      closed: await server(tcpServer((socket) => socket.end())),
      garbage: await server(tcpServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n'))),
      hugeHeaders: await server(
        tcpServer((socket) =>
          socket.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(200 * 1024)}\r\nContent-Length: 2\r\n\r\nok`),
        ),
      ),
      redirect: await server(
        httpServer((_req, res) => res.writeHead(302, { location: redirectTarget.url }).end('moved')),
      ),
      enormous500: await server(
        httpServer((_req, res) => {
          res.writeHead(500);
          stream(res, Number.POSITIVE_INFINITY);
        }),
      ),
    };
    const expectedKind: Record<string, string> = {
      hang: 'timeout',
      slowHeaders: 'timeout',
      slowBody: 'timeout',
      reset: 'reset',
      closed: 'reset',
      garbage: 'protocol',
      hugeHeaders: 'protocol',
      redirect: 'http_status',
      enormous500: 'http_status',
      refused: 'connect',
    };
    const twoTries = { eventTypes: ['hostile'], timeoutMs: 500, retrySchedule: [0.2] };
    const hostileEps: Record<string, Body> = {};
    for (const [name, s] of Object.entries(hostile))
      hostileEps[name] = await endpoint({ url: s.url, ...twoTries });
    hostileEps.refused = await endpoint({ url: refused.url, ...twoTries });

    let tooManyCalls = 0;
    const tooMany = await server(
      httpServer((req, res) => {
        req.resume();
        tooManyCalls++;
        if (tooManyCalls === 1) res.writeHead(429, { 'retry-after': '2' }).end('slow down');
        else res.end('ok');
      }),
    );
    const tooManyEp = await endpoint({
      url: tooMany.url,
      eventTypes: ['hostile'],
      retrySchedule: [0.1, 0.1],
    });
    const gone = await server(httpServer((_req, res) => res.writeHead(410).end('gone')));
    const goneEp = await endpoint({ url: gone.url, eventTypes: ['hostile'], retrySchedule: [0.1, 0.1] });
    const storm = await server(
      httpServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(503).end('storm'));
      }),
    );
    const stormEp = await endpoint({
      url: storm.url,
      eventTypes: ['hostile'],
      retrySchedule: Array(20).fill(0.05),
    });

    // --- go: the hostile event and 20 load events at once ---
    const sentAt = Date.now();
    const [hostileEvent, loadBatch] = await Promise.all([
      api('POST', `/api/v1/projects/${projectId}/events`, { type: 'hostile', payload: { n: 0 } }),
      api<{ data: Body[] }>('POST', `/api/v1/projects/${projectId}/events/batch`, {
        events: Array.from({ length: 20 }, (_, n) => ({ type: 'load', payload: { n } })),
      }),
    ]);
    assert.equal(hostileEvent.status, 202, JSON.stringify(hostileEvent.body));
    assert.equal(loadBatch.status, 202, JSON.stringify(loadBatch.body));
    const eventId = hostileEvent.body.id;

    // Healthy endpoints are not held up by the long-hanging ones: every healthy delivery arrives,
    // succeeds and is recorded while the long-hanging receivers still hold all 20 of their attempts
    // (none recorded: none has reached its timeout) and the flood is being cut off. Measured against
    // the long timeout, not a wall-clock bound: a healthy attempt queued behind a hanging one would
    // wait for that timeout, so its record could only come after theirs.
    await eventually(
      async () => healthy.every((r) => r.stats.requests === 20),
      LONG_TIMEOUT_MS,
      'healthy deliveries',
    );
    assert.equal(longHang.stats.requests, 20, 'all 20 hang at once: the cap is per endpoint');
    const healthyAttempts = await eventually(
      async () => {
        const lists = await Promise.all(healthyEps.map((ep) => attemptsOf(ep.id)));
        return lists.every((a) => a.length === 20) && lists.flat();
      },
      LONG_TIMEOUT_MS,
      'healthy attempts recorded',
    );
    for (const ep of longEps)
      assert.deepEqual(await attemptsOf(ep.id), [], 'long-hanging attempts still running');
    for (const a of healthyAttempts) {
      assert.equal(a.outcome, 'succeeded');
      assert.ok(a.durationMs < LONG_TIMEOUT_MS, `a healthy attempt took ${a.durationMs} ms`);
    }

    // Enormous 200s: succeeded, 64 KiB kept, 20 connections at most, none left open.
    const floodAttempts = await eventually(
      async () => {
        const list = await attemptsOf(floodEp.id);
        return list.length === 20 && list;
      },
      5_000,
      'flood attempts',
    );
    for (const a of floodAttempts) {
      assert.equal(a.outcome, 'succeeded');
      assert.equal(a.response?.status, 200);
      assert.equal(Buffer.byteLength(a.response!.body), CAP);
    }
    await connectionsReleased(flood.stats, 'flood');
    // Cut at the cap rather than read through to the end (which a duration bound stood for: it
    // failed at a load of 16, 2.6-3.7 s; loopback's socket buffers hold a few MiB of the 50).
    assert.equal(floodReadThrough, 0, 'an enormous response was read to its end');

    // Each hostile kind: two tries (schedule [0.2]), both with the expected kind, then failed.
    for (const [name, ep] of Object.entries(hostileEps)) {
      const list = await eventually(
        async () => {
          const a = await attemptsOf(ep.id);
          return a.length === 2 && (await deliveryStatus(eventId, ep.id)) === 'failed' && a;
        },
        8_000,
        `${name}: two failed attempts`,
      );
      for (const a of list) {
        assert.equal(a.outcome, 'failed', name);
        assert.equal(a.error?.kind, expectedKind[name], `${name}: ${JSON.stringify(a.error)}`);
        if (expectedKind[name] === 'timeout') {
          // Cut at its own 500 ms, not counting what herald says its loop was held (at a load of
          // 16 a hang's attempt took 3,041 ms in all).
          const held = Number(/not counting (\d+) ms/.exec(a.error!.message)?.[1] ?? 0);
          assert.match(a.error!.message, /its 500 ms timeout/, name);
          assert.ok(
            a.durationMs >= 500 && a.durationMs - held < 1_500,
            `${name}: ${a.durationMs} ms, ${held} held`,
          );
        }
      }
      assert.ok(
        Date.parse(list[1]!.startedAt) - Date.parse(list[0]!.startedAt) >= 190,
        `${name} retried too early`,
      );
      // A well-formed 302 may keep its keep-alive connection; every other misbehaviour loses it.
      if (name !== 'refused' && name !== 'redirect') await connectionsReleased(hostile[name]!.stats, name);
    }
    // Redirects: recorded with their status and Location, never followed.
    const redirects = await attemptsOf(hostileEps.redirect!.id);
    for (const a of redirects) {
      assert.equal(a.response?.status, 302);
      assert.equal(a.response?.headers.location, redirectTarget.url);
    }
    assert.equal(redirectTarget.stats.accepted, 0, 'the redirect target was never contacted');
    // Enormous error bodies are capped too.
    for (const a of await attemptsOf(hostileEps.enormous500!.id)) {
      assert.equal(a.response?.status, 500);
      assert.equal(Buffer.byteLength(a.response!.body), CAP);
    }

    // 429 with Retry-After: 2 s waited for instead of the 0.1 s schedule, then delivered.
    const limited = await eventually(
      async () => {
        const a = await attemptsOf(tooManyEp.id);
        return a.length === 2 && a;
      },
      8_000,
      '429 retry',
    );
    assert.equal(limited[0]!.response?.status, 429);
    assert.equal(limited[0]!.error?.kind, 'http_status');
    const gap = Date.parse(limited[1]!.startedAt) - Date.parse(limited[0]!.startedAt);
    assert.ok(gap >= 1_900, `retried ${gap} ms after a Retry-After of 2 s`);
    assert.equal(limited[1]!.outcome, 'succeeded');
    assert.equal(await deliveryStatus(eventId, tooManyEp.id), 'succeeded');

    // 410 Gone: one attempt, the delivery failed, the endpoint disabled at once.
    const goneNow = await api('GET', `/api/v1/projects/${projectId}/endpoints/${goneEp.id}`);
    assert.equal(goneNow.body.status, 'disabled');
    assert.equal(goneNow.body.disabledReason, 'gone');
    assert.equal((await attemptsOf(goneEp.id)).length, 1);
    assert.equal(await deliveryStatus(eventId, goneEp.id), 'failed');
    assert.equal(gone.stats.requests, 1);

    // A 5xx storm: retried on schedule until 10 consecutive failures disable the endpoint; the
    // delivery is parked, not lost.
    const stormed = await eventually(
      async () => {
        const e = await api('GET', `/api/v1/projects/${projectId}/endpoints/${stormEp.id}`);
        return e.body.status === 'disabled' && e.body;
      },
      8_000,
      'storm endpoint disabled',
    );
    assert.equal(stormed.disabledReason, 'consecutive_failures');
    const stormAttempts = await attemptsOf(stormEp.id);
    assert.equal(stormAttempts.length, 10);
    assert.ok(stormAttempts.every((a) => a.error?.kind === 'http_status' && a.response?.status === 503));
    assert.equal(await deliveryStatus(eventId, stormEp.id), 'parked');

    // The long-hanging receivers are still hanging, all 20 each, while everything above finished.
    assert.equal(longHang.stats.open, 20);
    assert.ok(Date.now() - sentAt < LONG_TIMEOUT_MS, 'the checks above ran within the long timeout');
  });
});
