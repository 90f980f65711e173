/**
 * PostgreSQL: an endpoint's chart reads every attempt of its range in one statement, seconds for a
 * busy endpoint. Ten at once (a few dashboards open on 30 days; the endpoints list asks for up to
 * 100 endpoints' stats) held the pool's ten connections, and an event sent meanwhile waited for a
 * connection: 5-10 s, and a 503 "database cannot be reached" when the pool's wait ran out. Charts
 * now take at most a quarter of the pool at once (statsConnections). Real server on listen(0), a
 * real PostgreSQL; 300,000 attempts written in SQL, with ids made as ids.ts makes them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { buildApp } from '../../src/api/build-app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { PostgresStore, statsConnections } from '../../src/store/postgres/postgres-store.ts';
import { endpointInput } from '../store/helpers.ts';
import { ATTEMPT_ID_SQL } from '../support/attempt-id-sql.ts';
import { type TestPostgres, withPostgres } from '../support/postgres.ts';

const ADMIN = 'stats-pool-admin-token-0123456789abcdef';
const ATTEMPTS = 300_000;
const DAY = 86_400_000;
const CHARTS = 10;

let server: TestPostgres;
before(async () => {
  server = await withPostgres();
});
after(() => server.stop());

test('charts read at once leave the pool to events: at most a quarter of it reads charts', async () => {
  const url = await server.createDatabase();
  const store = new PostgresStore(url);
  await store.migrate();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const app = buildApp({ store, config: loadConfig({ env: { HERALD_ADMIN_TOKEN: ADMIN } }) });
  try {
    const now = Date.now();
    const project = await store.createProject({ name: 'charts' }, now);
    const endpoint = await store.createEndpoint(
      endpointInput(project.id, { eventTypes: ['never.sent'] }),
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      now,
    );
    const since = now - 30 * DAY;
    await admin.query(
      `INSERT INTO attempts (id, project_id, delivery_id, event_id, endpoint_id, event_type, number, started_at,
         duration_ms, outcome, request, response, error)
       SELECT ${ATTEMPT_ID_SQL}, $1, 'dlv_x', 'evt_x', $2, 'a.b', 1, t, i % 300, CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
         '{"method":"POST","url":"http://127.0.0.1:9/hook","headers":{},"body":"{}"}', NULL, NULL
       FROM (SELECT i, $3::bigint + i * $4::bigint AS t FROM generate_series(1, $5::int) i) s`,
      [project.id, endpoint.id, since, Math.floor((30 * DAY) / (ATTEMPTS + 1)), ATTEMPTS],
    );
    await admin.query('VACUUM ANALYZE attempts');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}/api/v1/projects/${project.id}`;
    const headers = { authorization: `Bearer ${ADMIN}` };

    // How many connections run a chart's statement, polled while the charts are read.
    let reading = true;
    let most = 0;
    const watching = (async () => {
      while (reading) {
        const { rows } = await admin.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND state = 'active' AND query LIKE '%percentile_disc%' AND pid <> pg_backend_pid()`,
        );
        most = Math.max(most, rows[0].n);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const charts = Array.from({ length: CHARTS }, async () => {
      const r = await fetch(`${base}/endpoints/${endpoint.id}/stats?since=${since}&until=${now}&bucket=1d`, {
        headers,
      });
      const body = (await r.json()) as { data: { succeeded: number; failed: number }[] };
      assert.equal(r.status, 200, JSON.stringify(body));
      return body.data.reduce((sum, b) => sum + b.succeeded + b.failed, 0);
    });
    // An event sent while they are read is accepted at once, not after them.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sent = await fetch(`${base}/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'a.b', payload: {} }),
    });
    assert.equal(sent.status, 202, await sent.text());
    const totals = await Promise.all(charts);
    reading = false;
    await watching;
    assert.deepEqual(totals, Array(CHARTS).fill(ATTEMPTS), 'each chart counts every attempt');
    assert.ok(most >= 1, 'the charts were seen being read');
    assert.ok(
      most <= statsConnections(10),
      `${most} connections read charts at once, of a pool of 10 (at most ${statsConnections(10)})`,
    );
  } finally {
    await app.close();
    await admin.end();
    await store.close();
  }
});
