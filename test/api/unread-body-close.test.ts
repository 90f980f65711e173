/**
 * A request refused before its body was read (a wrong token, a content type the API does not take)
 * is answered with `Connection: close` and its connection closed: kept alive, the server would read
 * and discard the whole body first, so a stranger announcing 100 MB cost the server 100 MB of reads
 * for a 401. Over a real socket on loopback: a body announced, 1 MB of it sent, the rest never. The
 * close lingers (lingering-close.ts: what the client still sends is thrown away, for at most 2 s)
 * so that a client still writing reads the answer: test/e2e/early-answers-reach-writers.test.ts.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN, announceLargeBody, startApi, type TestApi } from './helpers.ts';

describe('a request refused before its body is read', () => {
  let api: TestApi;
  let port: number;
  before(async () => {
    api = await startApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    port = (api.app.server.address() as AddressInfo).port;
  });
  after(() => api.close());

  const refused = (head: string) => announceLargeBody(port, head);

  test('a wrong token: 401, Connection: close, the connection closed', async () => {
    const { answer, closed } = await refused(
      'POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token-0123456789\r\n' +
        'Content-Type: application/json\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.ok(closed, 'the server closed the connection');
  });

  test('a content type the API does not take: 415, Connection: close, the connection closed', async () => {
    const { answer, closed } = await refused(
      `POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: text/plain\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 415 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.ok(closed, 'the server closed the connection');
  });

  test('what follows the refused body on its connection is thrown away, not run', async () => {
    // The whole refused body, then a request that would create a project, in one write: while the
    // close lingers, the bytes after the answer are read and discarded, never parsed as a request.
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const refused = 'x'.repeat(2 * 1024 * 1024); // over the 1 MiB HERALD_MAX_BODY_BYTES: 413
    const name = 'run after a refused body';
    const next = JSON.stringify({ name });
    socket.write(
      `POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${refused.length}\r\n\r\n`,
    );
    await sleep(100); // the 413 goes out before the body is in
    socket.write(
      `${refused}POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${next.length}\r\n\r\n${next}`,
    );
    await closed;
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1, 'one answer only');
    const projects = await api.call('GET', '/api/v1/projects');
    assert.equal(projects.status, 200);
    assert.deepEqual(
      (projects.body as { data: { name: string }[] }).data.filter((p) => p.name === name),
      [],
      'the request after the refused body was not run',
    );
  });

  test('an answer after the whole body was read keeps its connection', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
    });
    let closed = false;
    socket.once('close', () => {
      closed = true;
    });
    const body = '{"name":""}';
    socket.write(
      `POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    for (let i = 0; i < 100 && !answer.includes('\r\n\r\n'); i++) await sleep(20);
    await sleep(200);
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.doesNotMatch(answer, /\r\nconnection: close\r\n/i);
    assert.equal(closed, false, 'the connection stayed open');
  });
});
