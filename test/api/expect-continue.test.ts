/**
 * `Expect: 100-continue` (expect-continue.ts): raw requests to a real server on loopback, each
 * reading the first status line Herald sends before any body is written.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ADMIN, startApi, type TestApi } from './helpers.ts';

describe('Expect: 100-continue', () => {
  let api: TestApi;
  let port: number;
  let projectId: string;
  before(async () => {
    api = await startApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    port = (api.app.server.address() as { port: number }).port;
    projectId = (await api.project('continue')).id;
  });
  after(() => api.close());

  /** Sends the request's head, waits for Herald's first answer line, then (after a 100) the body. */
  function ask(headers: string, body: string): Promise<{ first: string; all: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      let first = '';
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
        if (first === '' && text.includes('\r\n\r\n')) {
          first = text.slice(0, text.indexOf('\r\n'));
          if (first.startsWith('HTTP/1.1 100')) socket.write(body);
        }
        if (first !== '' && !first.startsWith('HTTP/1.1 100') && text.includes('\r\n\r\n')) socket.end();
        if (/\r\n\r\n[\s\S]*HTTP\/1\.1 2\d\d/.test(text)) socket.end();
      });
      socket.on('close', () => resolve({ first, all: text }));
      socket.write(
        `POST /api/v1/projects/${projectId}/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n${headers}\r\n`,
      );
    });
  }

  const event = JSON.stringify({ type: 'player.paid', payload: { n: 1 } });

  test('without a token: 401 instead of 100 Continue', async () => {
    const r = await ask(`Content-Length: ${event.length}\r\n`, event);
    assert.match(r.first, /^HTTP\/1\.1 401 /);
  });

  test('a declared length over HERALD_MAX_BODY_BYTES: 413 instead of 100 Continue', async () => {
    const r = await ask(`Authorization: Bearer ${ADMIN}\r\nContent-Length: ${100 * 1024 * 1024}\r\n`, '');
    assert.match(r.first, /^HTTP\/1\.1 413 /);
  });

  test('an unknown project: 404 instead of 100 Continue', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', reject);
      socket.once('data', (chunk) => {
        resolve(chunk.toString('latin1').split('\r\n')[0] ?? '');
        socket.destroy();
      });
      socket.write(
        `POST /api/v1/projects/prj_nope/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${event.length}\r\n\r\n`,
      );
    });
    assert.match(r, /^HTTP\/1\.1 404 /);
  });

  test('a request that passes: 100 Continue, then the body is taken and the event accepted', async () => {
    const r = await ask(`Authorization: Bearer ${ADMIN}\r\nContent-Length: ${event.length}\r\n`, event);
    assert.match(r.first, /^HTTP\/1\.1 100 Continue/);
    assert.match(r.all, /\r\n\r\nHTTP\/1\.1 202 /);
    const listed = await api.call('GET', `/api/v1/projects/${projectId}/events`);
    assert.equal((listed.body as { data: unknown[] }).data.length, 1);
  });
});
