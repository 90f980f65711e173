/**
 * Requests pipelined on one connection (pipelined-requests.ts): a real server on loopback, a client
 * that writes 40 requests for large pages at once and does not read the answers.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectionOf } from '../../src/api/connection-requests.ts';
import { HELD_AT_MOST, PIPELINED_AT_ONCE } from '../../src/api/pipelined-requests.ts';
import { within } from '../support/wait-until.ts';
import { startApi, type TestApi } from './helpers.ts';

/** Answers the operating system may take in on loopback before the client reads (~5 MB each). */
const TAKEN_BY_THE_KERNEL = 3;

/**
 * Reads `socket` until `count` answers have come whole, or the server closes it (its keep-alive or
 * inactivity timeout, should an answer never come): the status line of each answer that came. Counted
 * as they come: the 40 answers are ~160 MB, and matching the whole text again every 100 ms took
 * 16.6 of the 24 s they took to come at a load of 12 (a run at ~11 got 38 within its 30 s).
 */
function readAnswers(socket: Socket, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const statuses: string[] = [];
    let bodies = 0;
    /** The end of what came so far: a status line or a head's end cut between two chunks. */
    let tail = '';
    const done = () => {
      socket.off('data', onData);
      resolve(statuses);
    };
    const onData = (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      // Each answer follows the last one's body at once; a match ending within `tail` was counted.
      for (const m of text.matchAll(/HTTP\/1\.1 \d{3}/g)) {
        if (m.index + m[0].length > tail.length) statuses.push(m[0]);
      }
      for (const m of text.matchAll(/\r\n\r\n\{/g)) if (m.index + m[0].length > tail.length) bodies++;
      tail = text.slice(-16);
      if (bodies >= count) done();
    };
    socket.on('data', onData);
    socket.once('close', done);
    socket.resume();
  });
}

describe('pipelined requests', () => {
  let api: TestApi;
  let port: number;
  let key: string;
  let path: string;
  let pagesBuilt = 0;
  /** The page (counted from 1) whose reading waits, and how long. */
  let slowPage = { number: 0, waitMs: 0 };
  /** How long the reading of each of the first PIPELINED_AT_ONCE pages waits (0: none). */
  let firstPagesWaitMs = 0;

  before(async () => {
    api = await startApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    port = (api.app.server.address() as { port: number }).port;
    const project = await api.project('pipelining');
    const payload = { s: 'x'.repeat(900_000) };
    for (let i = 0; i < 6; i++) {
      const r = await api.call('POST', `/api/v1/projects/${project.id}/events`, { type: 't', payload });
      assert.equal(r.status, 202);
    }
    key = await api.apiKey(project.id);
    path = `/api/v1/projects/${project.id}/events?limit=1000`;
    // Counts the pages the API builds: the real store's own method, called through.
    const listEvents = api.store.listEvents.bind(api.store);
    api.store.listEvents = (...args) => {
      pagesBuilt++;
      if (pagesBuilt <= PIPELINED_AT_ONCE && firstPagesWaitMs) {
        return sleep(firstPagesWaitMs).then(() => listEvents(...args));
      }
      if (pagesBuilt !== slowPage.number) return listEvents(...args);
      return sleep(slowPage.waitMs).then(() => listEvents(...args));
    };
  });
  after(() => api.close());

  const pipeline = (count: number) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.pause();
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`.repeat(count));
    return socket;
  };

  /**
   * Whether the server closed its end of a connection that pipelined `count` requests and read
   * nothing within `withinMs`, its inactivity timeout shortened to 0.5 s (the 60 s of
   * connectionTimeout: Node gives each new socket the server's timeout). The server's end: the
   * client's, paused, would see the close only once it had read everything before it.
   */
  const closedWhenQuiet = async (count: number, withinMs: number): Promise<boolean> => {
    const inactivityMs = api.app.server.timeout;
    api.app.server.timeout = 500;
    try {
      const accepted = once(api.app.server, 'connection') as Promise<[Socket]>;
      const socket = pipeline(count);
      const [serverSide] = await accepted;
      const closed = once(serverSide, 'close').then(() => true);
      const inTime = await within(closed, withinMs, false);
      socket.destroy();
      return inTime;
    } finally {
      api.app.server.timeout = inactivityMs;
    }
  };

  /**
   * A connection of a project with no events that writes `count` requests for its page at once and
   * reads nothing yet; the server's end of it, and what the server reads at once of those requests.
   */
  const flood = async (name: string, count: number) => {
    const empty = await api.project(name);
    const emptyKey = await api.apiKey(empty.id);
    const request = `GET /api/v1/projects/${empty.id}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${emptyKey}\r\n\r\n`;
    const accepted = once(api.app.server, 'connection') as Promise<[Socket]>;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.pause();
    socket.write(request.repeat(count));
    const [serverSide] = await accepted;
    return { socket, serverSide, oneRead: Math.ceil(65_536 / Buffer.byteLength(request)) };
  };

  /** Reads a flood's answers until all `count` came (or 60 s): all must be 200, in order. */
  const assertAllAnswered = async (socket: Socket, count: number) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.resume();
    const deadline = Date.now() + 60_000;
    while ((text.match(/HTTP\/1\.1 /g) ?? []).length < count && Date.now() < deadline) await sleep(100);
    const statuses = text.match(/HTTP\/1\.1 \d+/g) ?? [];
    assert.equal(statuses.length, count);
    assert.ok(
      statuses.every((s) => s === 'HTTP/1.1 200'),
      [...new Set(statuses)].join(),
    );
  };

  test('a connection that pipelines 40 requests and reads nothing has only a few of them run; all are answered once it reads', async () => {
    pagesBuilt = 0;
    const socket = pipeline(40);
    await sleep(2_000);
    // Without the bound all 40 pages were built at once (1.4 GB resident for 200 of them).
    assert.ok(
      pagesBuilt <= PIPELINED_AT_ONCE + TAKEN_BY_THE_KERNEL,
      `${pagesBuilt} pages built for a client that read none`,
    );
    const statuses = await readAnswers(socket, 40);
    socket.destroy();
    assert.equal(statuses.length, 40, `${statuses.length} answers`);
    assert.ok(
      statuses.every((s) => s === 'HTTP/1.1 200' || s === 'HTTP/1.1 503'),
      statuses.join(),
    );
    assert.equal(pagesBuilt, 40);
  });

  test('a connection that pipelines more than it may run and stops reading is still closed when it goes quiet', async () => {
    // The requests held behind the running ones (read whole, not answered) are the client's wait,
    // not the server's: they kept the socket open for as long as the client wished.
    assert.ok(await closedWhenQuiet(40, 5_000), 'the server kept the socket open 5 s without traffic');
  });

  test('a connection spared while a request is worked on is closed once that answer waits behind unread ones', async () => {
    pagesBuilt = 0;
    // The sixth page is still being read when the socket has been quiet 0.5 s; its answer then
    // waits in memory behind the five the client does not read, and makes no traffic. Node times
    // a socket out once per quiet spell: spared once, it was never looked at again.
    slowPage = { number: 6, waitMs: 2_000 };
    try {
      assert.ok(await closedWhenQuiet(6, 6_000), 'the server kept the socket open 4 s after its last answer');
      assert.equal(pagesBuilt, 6);
    } finally {
      slowPage = { number: 0, waitMs: 0 };
    }
  });

  test('a connection that pipelines a flood before any answer is written has a bounded number of its requests held; all are answered once it reads', async () => {
    const count = 3_000;
    pagesBuilt = 0;
    // The requests that run first are slow (a busy database): no answer is written while the
    // flood is read, so Node's own pause (on answers backing up) never comes.
    firstPagesWaitMs = 2_000;
    const { socket, serverSide, oneRead } = await flood('pipelining-flood', count);
    try {
      await sleep(1_000);
      // Without the bound the server read and held all 3,000 (each a request and its reply in
      // memory), and looking at them when the socket went quiet was O(n²) in them.
      const held = connectionOf(serverSide)?.inFlight.size ?? 0;
      assert.ok(
        held <= PIPELINED_AT_ONCE + HELD_AT_MOST + oneRead,
        `${held} requests held on one connection`,
      );
      // Reading again once fewer wait: every request is answered, in order.
      await assertAllAnswered(socket, count);
    } finally {
      firstPagesWaitMs = 0;
      socket.destroy();
    }
  });

  test('a flood held at the bound is not read again when an answer queued behind a slow one is written', async () => {
    const count = 3_000;
    pagesBuilt = 0;
    // The first request is slow (a busy database), the next ones are not: their answers are written
    // while it is worked on, queued behind it, and Node, which sees the socket marked paused, resumes
    // it on each such write while its queued answers are small (http server socketOnDrain).
    slowPage = { number: 1, waitMs: 1_000 };
    const { socket, serverSide, oneRead } = await flood('pipelining-resumed', count);
    // The most requests held on the connection, looked at as each is read (after the app's own
    // 'request' listener, which holds it).
    let most = 0;
    const onRequest = () => {
      most = Math.max(most, connectionOf(serverSide)?.inFlight.size ?? 0);
    };
    api.app.server.on('request', onRequest);
    try {
      await sleep(800); // the first page is still being read, the next answers are written
      assert.ok(most > HELD_AT_MOST, `${most} requests held: the bound was never reached`);
      // Each such resume read another 64 KiB of the flood (873 held), and before the pause was
      // renewed each time (34b6770) the server read all of it (3,000 held).
      assert.ok(
        most <= PIPELINED_AT_ONCE + HELD_AT_MOST + oneRead,
        `${most} requests held on one connection`,
      );
      // Kept paused, not stuck: once the client reads, every request is answered.
      await assertAllAnswered(socket, count);
    } finally {
      api.app.server.off('request', onRequest);
      slowPage = { number: 0, waitMs: 0 };
      socket.destroy();
    }
  });

  test('requests a client pipelined and left without reading are not run', async () => {
    pagesBuilt = 0;
    const socket = pipeline(40);
    await sleep(1_000);
    socket.destroy();
    await sleep(1_500);
    assert.ok(
      pagesBuilt <= PIPELINED_AT_ONCE + TAKEN_BY_THE_KERNEL,
      `${pagesBuilt} pages built for a client that had left`,
    );
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(r.status, 200, 'the same credential is served afterwards');
    await r.arrayBuffer();
  });
});
