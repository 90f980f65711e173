/**
 * Every answer carries its request id (`x-request-id`), and a 5xx's body names it too
 * (`error.requestId`): a client reporting a 500 gives the id, and the operator finds the line with
 * that `reqId`. Ids are unique across the apps of a process and across processes (a random prefix
 * per process), and an id a client sends is not taken (request-id.ts says why).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { openStore } from '../../src/store/open-store.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { refusedPort } from '../support/refused-port.ts';

const ADMIN = 'request-id-admin-token-0123456789abcdef';
const ID = /^[0-9a-z]{8}-[0-9a-z]+$/;

async function api(level = 'info') {
  const { logger, lines } = capturedLogger(level);
  const store = await openStore('sqlite::memory:');
  const config = loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } });
  const app = buildApp({ store, config, logger });
  await app.ready();
  const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}, body?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  return { app, store, lines, call };
}

test('every answer carries x-request-id; a 500 names it in its body and its log line has it as reqId', async () => {
  const { app, store, lines, call } = await api();
  try {
    const created = await call('POST', '/api/v1/projects', {}, { name: 'ids' });
    assert.equal(created.statusCode, 201, created.body);
    assert.match(String(created.headers['x-request-id']), ID);
    const missing = await call('GET', '/api/v1/nothing-here');
    assert.equal(missing.statusCode, 404);
    assert.match(String(missing.headers['x-request-id']), ID);
    assert.notEqual(missing.headers['x-request-id'], created.headers['x-request-id']);
    assert.equal(missing.json().error.requestId, undefined, 'a 4xx body is as before');

    await store.close();
    const failed = await call('GET', `/api/v1/projects/${created.json().id}`);
    assert.equal(failed.statusCode, 500, failed.body);
    const id = failed.headers['x-request-id'];
    assert.match(String(id), ID);
    assert.deepEqual(failed.json(), {
      error: { code: 'HERALD_ERR_INTERNAL', message: 'internal error', requestId: id },
    });
    const line = lines.find((l) => String(l.msg).startsWith('unhandled error'));
    assert.ok(line, JSON.stringify(lines));
    assert.equal(line.reqId, id);
  } finally {
    await app.close();
    await store.close();
  }
});

test('a URL that cannot be decoded (400) and a path segment over 200 characters (414) carry x-request-id too', async () => {
  const { app, store, call } = await api();
  try {
    const undecodable = await call('GET', '/api/v1/projects/%E0%A4/events');
    assert.equal(undecodable.statusCode, 400, undecodable.body);
    assert.equal(undecodable.json().error.code, 'HERALD_ERR_BAD_REQUEST');
    assert.match(String(undecodable.headers['x-request-id']), ID);
    const long = await call('GET', `/api/v1/projects/${'p'.repeat(201)}/events`);
    assert.equal(long.statusCode, 414, long.body);
    assert.match(String(long.headers['x-request-id']), ID);
    assert.notEqual(long.headers['x-request-id'], undecodable.headers['x-request-id']);
  } finally {
    await app.close();
    await store.close();
  }
});

test('a 503 names its request id too', async () => {
  // PostgreSQL where nothing listens: every request needing the store is 503 DATABASE_UNAVAILABLE.
  const store = new PostgresStore(`postgres://herald:secret@127.0.0.1:${await refusedPort()}/herald`);
  const app = buildApp({ store, config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }) });
  try {
    await app.ready();
    const refused = await app.inject({
      method: 'GET',
      url: '/api/v1/projects',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json().error.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');
    assert.match(String(refused.headers['x-request-id']), ID);
    assert.equal(refused.json().error.requestId, refused.headers['x-request-id']);
  } finally {
    await app.close();
    await store.close();
  }
});

test('an x-request-id sent by a client is not taken: the answer has an id of its own', async () => {
  const { app, store, call } = await api();
  try {
    const answer = await call('GET', '/api/v1/projects', { 'x-request-id': 'client-chosen-id' });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.match(String(answer.headers['x-request-id']), ID);
  } finally {
    await app.close();
    await store.close();
  }
});

test('ids do not repeat across the apps of a process, nor across processes', async () => {
  const first = await api();
  const second = await api();
  try {
    const a = (await first.call('GET', '/api/v1/projects')).headers['x-request-id'];
    const b = (await second.call('GET', '/api/v1/projects')).headers['x-request-id'];
    assert.notEqual(a, b);
    const script = `import { nextRequestId } from ${JSON.stringify(new URL('../../src/api/request-id.ts', import.meta.url).href)}; console.log(nextRequestId());`;
    const other = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    }).trim();
    assert.match(other, ID);
    assert.notEqual(other.split('-')[0], String(a).split('-')[0], 'another process has another prefix');
  } finally {
    for (const { app, store } of [first, second]) {
      await app.close();
      await store.close();
    }
  }
});
