/**
 * How long an event request waits in the PostgreSQL store's group-commit queue (ACCEPT_WAIT_MS,
 * accept-batch.ts): one that no transaction has taken within the bound leaves the queue and is
 * answered 503 HERALD_ERR_BUSY with Retry-After, nothing of it stored; the one a transaction has
 * taken waits for it and is accepted. Without the bound, requests queued behind a slow transaction
 * waited for it however long it took, past the API's 60 s inactivity close under load, and their
 * events were stored after their clients had seen the connection closed. Real server on listen(0),
 * real PostgreSQL; the wait is shortened here, and a row lock held from another connection makes
 * the first transaction slow.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { APPLICATION_NAME } from '../../src/store/postgres/pool.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { closeAnsweredConnections } from '../support/close-answered-connections.ts';
import { withPostgres } from '../support/postgres.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read loosely in tests
type Body = any;

const ADMIN = 'accept-wait-admin-token-0123456789abcdef';
const WAIT_MS = 1_000;

const server = await withPostgres();
after(() => server.stop());

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Body; headers: Headers; at: number }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    headers: response.headers,
    at: Date.now(),
  };
}

/**
 * An API on listen(0) over a PostgreSQL store whose accepts wait WAIT_MS in the queue, a project
 * with one endpoint (sockets closed after `inactivityMs` without traffic, when given), and two more sessions: `holder` (to lock rows) and `observer`.
 */
async function setup(inactivityMs?: number) {
  const url = await server.createDatabase();
  const store = new PostgresStore(url, { acceptWaitMs: WAIT_MS });
  await store.migrate();
  const app = buildApp({
    store,
    config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } }),
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  // The 60 s of connectionTimeout, shortened: Node gives each new socket the server's timeout.
  if (inactivityMs !== undefined) app.server.timeout = inactivityMs;
  const holder = new pg.Client({ connectionString: url, application_name: 'test-holder' });
  await holder.connect();
  const observer = new pg.Client({ connectionString: url, application_name: 'test-observer' });
  await observer.connect();
  const project = await call(base, 'POST', '/api/v1/projects', { name: 'wait' });
  assert.equal(project.status, 201);
  const endpoint = await call(base, 'POST', `/api/v1/projects/${project.body.id}/endpoints`, {
    url: 'http://127.0.0.1:9/hook',
  });
  assert.equal(endpoint.status, 201);
  return {
    app,
    base,
    holder,
    projectId: String(project.body.id),
    events: `/api/v1/projects/${project.body.id}/events`,
    /** Resolves once a Herald session waits for a lock (asked outside the holder's transaction, which would see the activity of its start only). */
    async lockWaited(): Promise<void> {
      for (let i = 0; ; i++) {
        const { rows } = await observer.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
          [APPLICATION_NAME],
        );
        if (rows[0].n > 0) return;
        assert.ok(i < 100, 'a Herald session is waiting for the lock');
        await sleep(50);
      }
    },
    async close() {
      await holder.end();
      await observer.end();
      closeAnsweredConnections(app.server);
      await app.close();
      await store.close();
    },
  };
}

test('an accept still queued after the bound behind a slow group transaction is answered 503 HERALD_ERR_BUSY with nothing stored; the one in the transaction is accepted', async () => {
  const { base, holder, projectId, events, lockWaited, close } = await setup();
  try {
    // Another session locks the project row: the group transaction's FOR KEY SHARE waits for it.
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
    const first = call(base, 'POST', events, { type: 'first', payload: {} });
    await lockWaited();

    // Two more, queued behind it.
    const sentAt = Date.now();
    const queued = await Promise.all([
      call(base, 'POST', events, { type: 'second', payload: {} }),
      call(base, 'POST', `${events}/batch`, { events: [{ type: 'third', payload: {} }] }),
    ]);
    for (const r of queued) {
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'HERALD_ERR_BUSY');
      assert.equal(r.headers.get('retry-after'), '1');
      const waited = r.at - sentAt;
      assert.ok(waited >= WAIT_MS - 50 && waited < WAIT_MS + 1_500, `answered after ${waited} ms`);
    }
    let firstSettled = false;
    void first.finally(() => {
      firstSettled = true;
    });
    await sleep(200);
    assert.equal(firstSettled, false, 'the accept a transaction has taken waits for it');

    await holder.query('ROLLBACK');
    const accepted = await first;
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const { rows } = await holder.query('SELECT type FROM events ORDER BY type');
    assert.deepEqual(
      rows.map((r) => r.type),
      ['first'],
      'nothing of the requests answered 503 was stored',
    );
    // Sent again, as Retry-After says, they go through.
    assert.equal((await call(base, 'POST', events, { type: 'second', payload: {} })).status, 202);
  } finally {
    await close();
  }
});

test('a socket whose request is being answered is not closed by the inactivity timeout; one with no request still is', async () => {
  const { base, holder, projectId, events, lockWaited, close } = await setup(500);
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
    // Taken into a transaction at once, so the queue's bound does not apply: it waits for the lock.
    const answer = call(base, 'POST', events, { type: 'slow', payload: {} });
    await lockWaited();
    await sleep(900); // well past the socket's inactivity timeout, with no traffic either way
    await holder.query('ROLLBACK');
    const accepted = await answer;
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));

    // A connection that sends nothing is closed after the timeout still.
    const { port } = new URL(base);
    const started = Date.now();
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'close');
    const closedAfter = Date.now() - started;
    assert.ok(closedAfter >= 400 && closedAfter < 2_000, `closed after ${closedAfter} ms`);
  } finally {
    await close();
  }
});
