/**
 * PostgreSQL out of reach: the errors pg raises then are recognised (real ones, from a refused
 * port, a connection cut under a query, a server refusing new sessions), the API answers them with
 * 503 and Retry-After, logged once per burst without a stack, and /metrics stops serving the last
 * known backlog. The suite's PostgreSQL keeps running: the outage is a port where nothing listens,
 * or this test's own connections terminated (pg_terminate_backend) and its own database closed to
 * new connections.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { BACKLOG_READ_REUSE_MS, createMetrics } from '../../src/metrics.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { isStoreBusy, isStoreFull, isStoreUnreachable } from '../../src/store/store-unavailable.ts';
import { endpointInput } from '../store/helpers.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';
import { refusedPort } from '../support/refused-port.ts';

const ADMIN = 'store-unreachable-admin-token-0123456789';

let server: TestPostgres;
before(async () => {
  server = await withPostgres();
});
after(() => server.stop());

/** The error `promise` rejects with (it must reject). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

/** A loopback TCP server that runs `onConnection` for every client; closed by the caller. */
async function tcpServer(onConnection: (socket: import('node:net').Socket) => void): Promise<Server> {
  const s = createServer(onConnection);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return s;
}
const portOf = (s: Server) => (s.address() as { port: number }).port;

/** A PostgreSQL ErrorResponse message ('E'), as a server sends it before closing. */
function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

/** Waits until `query` (on `client`) returns a row, polling. */
async function waitForRow(client: pg.Client, query: string, params: unknown[]): Promise<pg.QueryResultRow> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    // Inside a transaction the statistics views keep the snapshot of their first read
    // (stats_fetch_consistency): without this, a backend that starts waiting after it is never seen.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query(query, params);
    if (rows[0]) return rows[0];
    if (Date.now() > deadline) assert.fail(`no row for ${query}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const dbName = (url: string) => new URL(url).pathname.slice(1);

describe('the database out of reach', () => {
  test('isStoreUnreachable: real pg errors of a refused port, a closed socket, a terminated backend, a server refusing sessions', async () => {
    const refused = await rejection(
      new pg.Client({ connectionString: `postgres://x@127.0.0.1:${await refusedPort()}/x` }).connect(),
    );
    assert.equal((refused as { code?: string }).code, 'ECONNREFUSED');

    // A server that closes the connection at once: pg's "Connection terminated unexpectedly".
    const closing = await tcpServer((socket) => socket.end());
    const closed = await rejection(
      new pg.Client({ connectionString: `postgres://x@127.0.0.1:${portOf(closing)}/x` }).connect(),
    );
    closing.close();
    assert.match(String((closed as Error).message), /Connection terminated unexpectedly/);

    // What PostgreSQL answers a new session while it starts up or shuts down (57P03), parsed by pg.
    const starting = await tcpServer((socket) => {
      socket.once('data', () => socket.end(errorResponse('57P03', 'the database system is shutting down')));
    });
    const cannotConnect = await rejection(
      new pg.Client({ connectionString: `postgres://x@127.0.0.1:${portOf(starting)}/x` }).connect(),
    );
    starting.close();
    assert.equal((cannotConnect as { code?: string }).code, '57P03');

    // A backend terminated under a running query (57P01, as at `pg_ctl -m fast stop`), and the same
    // client used again afterwards.
    const url = await server.createDatabase();
    const admin = new pg.Client({ connectionString: url });
    const victim = new pg.Client({ connectionString: url });
    for (const client of [admin, victim]) client.on('error', () => undefined);
    after(() => Promise.all([admin.end(), victim.end()]).catch(() => undefined));
    await admin.connect();
    await victim.connect();
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const sleeping = rejection(victim.query('SELECT pg_sleep(30)'));
    await waitForRow(admin, "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'", [
      pid,
    ]);
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    const terminated = await sleeping;
    assert.equal((terminated as { code?: string }).code, '57P01');
    const afterwards = await rejection(victim.query('SELECT 1'));
    // "not queryable", or "Connection terminated unexpectedly" when the socket's end comes first.
    assert.match(String((afterwards as Error).message), /not queryable|Connection terminated/);

    // Errors that are not about reaching the database.
    const syntax = await rejection(admin.query('SELEKT 1'));
    await admin.query('CREATE TABLE t (id int PRIMARY KEY)');
    await admin.query('INSERT INTO t VALUES (1)');
    const duplicate = await rejection(admin.query('INSERT INTO t VALUES (1)'));

    for (const error of [refused, closed, cannotConnect, terminated, afterwards]) {
      assert.equal(isStoreUnreachable(error), true, String(error));
      assert.equal(isStoreBusy(error), false, String(error));
      assert.equal(isStoreFull(error), false, String(error));
    }
    for (const error of [syntax, duplicate, new Error('boom'), null, 'ECONNREFUSED']) {
      assert.equal(isStoreUnreachable(error), false, String(error));
    }
    // Codes that cannot be provoked on a shared server: the rest of class 08, crash shutdown, no slots.
    for (const code of ['08006', '08001', '57P02', '53300', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) {
      assert.equal(isStoreUnreachable({ code }), true, code);
    }
  });

  test('the API answers 503 HERALD_ERR_DATABASE_UNAVAILABLE with Retry-After while nothing listens at the database port, and logs one warn line without a stack', async () => {
    const store = new PostgresStore(`postgres://herald:secret@127.0.0.1:${await refusedPort()}/herald`);
    const { logger, lines } = capturedLogger();
    const app = buildApp({ store, config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }), logger });
    await app.ready();
    try {
      const call = (method: 'GET' | 'POST', url: string, body?: unknown) =>
        app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });
      const replies = await Promise.all([
        ...Array.from({ length: 20 }, () =>
          call('POST', '/api/v1/projects/prj_0000000000000000000000000/events', { type: 'a.b', payload: {} }),
        ),
        call('GET', '/api/v1/projects'),
        call('POST', '/api/v1/projects', { name: 'p' }),
      ]);
      for (const reply of replies) {
        assert.equal(reply.statusCode, 503, reply.body);
        assert.equal(reply.headers['retry-after'], '5');
        assert.equal(reply.json().error.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');
        assert.match(reply.json().error.message, /database cannot be reached/);
      }
      const warnings = lines.filter((l) => /database cannot be reached/.test(String(l.msg)));
      assert.equal(warnings.length, 1, JSON.stringify(lines));
      assert.equal(warnings[0]?.level, 40); // warn
      assert.equal((warnings[0]?.cause as { code?: string } | undefined)?.code, 'ECONNREFUSED');
      const text = JSON.stringify(lines);
      assert.ok(!text.includes('"stack"'), text);
      assert.ok(!text.includes('unhandled error'), text);
      assert.ok(!text.includes('secret'), text);
    } finally {
      await app.close();
      await store.close();
    }
  });

  test('a request whose connection is terminated under it (pg_terminate_backend) gets 503 with Retry-After; the next one is accepted', async () => {
    const url = await server.createDatabase();
    const store = new PostgresStore(url);
    await store.migrate();
    const app = buildApp({ store, config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }) });
    await app.ready();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const call = (method: 'GET' | 'POST', path: string, body?: unknown) =>
        app.inject({
          method,
          url: path,
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });
      const project = (await call('POST', '/api/v1/projects', { name: 'p' })).json();
      const event = { type: 'a.b', payload: { n: 1 } };

      // The accept waits for a lock this client holds; its backend is terminated meanwhile.
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      const refused = call('POST', `/api/v1/projects/${project.id}/events`, event);
      const waiting = await waitForRow(
        admin,
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        [dbName(url)],
      );
      await admin.query('SELECT pg_terminate_backend($1)', [waiting.pid]);
      const reply = await refused;
      await admin.query('ROLLBACK');
      assert.equal(reply.statusCode, 503, reply.body);
      assert.equal(reply.headers['retry-after'], '5');
      assert.equal(reply.json().error.code, 'HERALD_ERR_DATABASE_UNAVAILABLE');

      const accepted = await call('POST', `/api/v1/projects/${project.id}/events`, event);
      assert.equal(accepted.statusCode, 202, accepted.body);
      const listed = await call('GET', `/api/v1/projects/${project.id}/events`);
      assert.equal(listed.json().data.length, 1);
    } finally {
      await admin.end();
      await app.close();
      await store.close();
    }
  });

  test('/metrics has no backlog samples and herald_store_up 0 while the database refuses connections, then the real values again', async () => {
    const url = await server.createDatabase();
    const store = new PostgresStore(url);
    await store.migrate();
    const project = await store.createProject({ name: 'p' }, Date.now());
    await store.createEndpoint(
      endpointInput(project.id, { url: 'https://example.com/hook', timeoutMs: 2_000 }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      Date.now(),
    );
    const event = { type: 'a.b', payload: {}, test: false, idempotencyKey: null, callbackUrl: null };
    await store.acceptEvents(project.id, [event, event], Date.now() - 120_000);
    const collectErrors: unknown[] = [];
    // A backlog read serves the scrapes of the next second (BACKLOG_READ_REUSE_MS): each scrape
    // below comes that much later on this clock, so that it reads the database again.
    let later = 0;
    const metrics = createMetrics({
      store,
      processMetrics: false,
      onCollectError: (e) => collectErrors.push(e),
      now: () => Date.now() + later,
    });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    const name = dbName(url);
    try {
      const up = await metrics.render();
      assert.match(up, /^herald_deliveries_pending 2$/m);
      assert.match(up, /^herald_oldest_pending_age_seconds (1[2-9]\d|[2-9]\d\d)(\.\d+)?$/m);
      assert.match(up, /^herald_store_up 1$/m);

      // The outage: this database takes no new connection and its open ones are cut.
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      await waitForRow(
        admin,
        'SELECT 1 AS gone WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1)',
        [name],
      );
      later += BACKLOG_READ_REUSE_MS;
      const down = await metrics.render();
      assert.doesNotMatch(down, /^herald_deliveries_pending /m);
      assert.doesNotMatch(down, /^herald_oldest_pending_age_seconds /m);
      assert.match(down, /^herald_store_up 0$/m);
      assert.ok(collectErrors.length >= 1);

      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      later += BACKLOG_READ_REUSE_MS;
      const back = await metrics.render();
      assert.match(back, /^herald_deliveries_pending 2$/m);
      assert.match(back, /^herald_store_up 1$/m);
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.end();
      await store.close();
    }
  });
});
