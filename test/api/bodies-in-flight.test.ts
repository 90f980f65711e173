/**
 * Request bodies in flight (src/api/body-budget.ts, bodies-in-flight.ts) over real sockets: a body
 * that does not fit waits without being read, goes once room is given back, and is answered 503
 * after the wait; a request without a body never waits; a client that leaves gives its room back.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { limitBodiesInFlight } from '../../src/api/bodies-in-flight.ts';
import { ADMIN, startApi } from './helpers.ts';

const MiB = 1024 * 1024;
const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.destroy();
});

/** A batch body of exactly `bytes` bytes (events of padded payloads, ~50 KB each). */
function batchOf(bytes: number): string {
  const event = (pad: number) => `{"type":"x.y","payload":{"pad":"${'p'.repeat(pad)}"}}`;
  const body = (parts: string[]) => `{"events":[${parts.join(',')}]}`;
  const parts: string[] = [];
  while (Buffer.byteLength(body([...parts, event(50_000), event(0)])) < bytes) parts.push(event(50_000));
  parts.push(event(bytes - Buffer.byteLength(body([...parts, event(0)]))));
  const text = body(parts);
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

/** Sends the headers and the first `sent` bytes of `body` on a raw socket; `rest()` sends the remainder. */
function partialPost(port: number, path: string, body: string, sent: number, token: string) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let answer = '';
  socket.on('data', (chunk) => {
    answer += chunk.toString();
  });
  socket.write(
    `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, sent)}`,
  );
  return {
    socket,
    rest: () => socket.write(body.slice(sent)),
    answer: async (timeoutMs = 10_000) => {
      const end = Date.now() + timeoutMs;
      while (!/\r\n\r\n/.test(answer) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      return answer;
    },
  };
}

test('a body that does not fit waits, unread, while a request without a body is answered; it goes once the first is answered', async () => {
  // 4 MiB, so one caller's share is 1 MiB: the admin's 700,000 and 600,000 do not fit together.
  const api = await startApi({ maxBodyBytesInFlight: 4 * MiB });
  try {
    const project = await api.project('bodies');
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as { port: number };
    const path = `/api/v1/projects/${project.id}/events/batch`;
    const first = partialPost(port, path, batchOf(700_000), 1_000, ADMIN); // holds 700,000 bytes
    await new Promise((r) => setTimeout(r, 100));
    const secondBody = batchOf(600_000);
    let secondStatus = 0;
    const second = fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: secondBody,
    }).then(async (r) => {
      secondStatus = r.status;
      await r.arrayBuffer();
    });
    const started = Date.now();
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.ok(Date.now() - started < 2_000, 'a request without a body does not wait');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(secondStatus, 0, 'the second body waits while the first holds its room');
    first.rest();
    assert.match(await first.answer(), /^HTTP\/1\.1 202/);
    await second;
    assert.equal(secondStatus, 202);
    const events = await api.call('GET', `/api/v1/projects/${project.id}/events?limit=100`);
    assert.ok(events.body.data.length >= 2, 'both batches were stored');
  } finally {
    await api.close();
  }
});

test("one caller that announces bodies and sends none holds at most a quarter of the room: another caller's body still goes", async () => {
  const api = await startApi({ maxBodyBytesInFlight: 4 * MiB });
  const stalled: Socket[] = [];
  try {
    const project = await api.project('stalling-tenant');
    const key = await api.apiKey(project.id);
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as { port: number };
    const path = `/api/v1/projects/${project.id}/events/batch`;
    const body = batchOf(900_000);
    // Five requests announce 900,000 bytes each and send 1,000: without a share per caller they
    // would hold 3.6 of the 4 MiB until the request timeout.
    for (let i = 0; i < 5; i++) stalled.push(partialPost(port, path, body, 1_000, key).socket);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const other = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(other.status, 202);
    assert.ok(Date.now() - started < 5_000, `the other caller waited ${Date.now() - started} ms`);
  } finally {
    // The stalled callers leave first: the server's close waits for open requests, and these would
    // hold it until the server timed them out (the test took 62 s that way).
    for (const s of stalled) s.destroy();
    await api.close();
  }
});

test('no room within the wait: 503 HERALD_ERR_BUSY with Retry-After; a client that leaves gives its room back', async () => {
  const app = Fastify();
  // A share of 1,000 bytes per caller (the address here: no credentials on this app).
  limitBodiesInFlight(app, { limitBytes: 4_000, maxBodyBytes: 1_000, waitMs: 200 });
  app.post('/in', async (request) => ({ got: JSON.stringify(request.body).length }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { port } = app.server.address() as { port: number };
    const body = JSON.stringify({ pad: 'p'.repeat(900) });
    const holder = partialPost(port, '/in', body, 10, 'x');
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const refused = await fetch(`http://127.0.0.1:${port}/in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(refused.status, 503);
    assert.ok(Date.now() - started >= 180, 'refused only after the wait');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'HERALD_ERR_BUSY');

    holder.socket.destroy(); // leaves mid-body: its 900 bytes come back
    await new Promise((r) => setTimeout(r, 100));
    const taken = await fetch(`http://127.0.0.1:${port}/in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(taken.status, 200, 'room again once the client that held it left');
  } finally {
    await app.close();
  }
});

test('a pipelined request whose client left while it was authenticated gives back the room it then takes', async () => {
  const api = await startApi({ maxBodyBytesInFlight: 160_000 }); // a quarter of it per caller: 40,000
  try {
    const project = await api.project('leaving-pipeliner');
    const key = await api.apiKey(project.id);
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as { port: number };
    const path = `/api/v1/projects/${project.id}/events/batch`;
    // Small enough to be read whole at once: the server then sees the client leave at once.
    const body = batchOf(30_000);
    // The key's lookup takes a while (a database over the network): the real store's, called through.
    const findKey = api.store.findApiKeyByHash.bind(api.store);
    let lookupMs = 300;
    api.store.findApiKeyByHash = (hash) => sleep(lookupMs).then(() => findKey(hash));
    for (let i = 0; i < 2; i++) {
      // Pipelined behind another request, so that Node never closes its response once the client
      // has left; the client leaves while their key is being looked up, before its body's room is taken.
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(
        `GET /api/v1/projects/${project.id}/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\n\r\n` +
          `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await sleep(100);
      socket.destroy();
      await sleep(400);
    }
    lookupMs = 0;
    // Each took 30,000 bytes of the key's 40,000 once its client was gone, and kept them for good:
    // this body waited the 10 s and was 503.
    const started = Date.now();
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(r.status, 202, `answered ${r.status} after ${Date.now() - started} ms`);
  } finally {
    await api.close();
  }
});
