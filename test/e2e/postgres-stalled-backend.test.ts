/**
 * A PostgreSQL backend that stops answering (a tester SIGSTOPped the backends of an api process):
 * POST …/events used to hang until Herald's own 60 s socket rule, and most of those events were
 * committed once the backend ran again. Now the call is bounded (src/store/postgres/pool.ts): 503
 * HERALD_ERR_DATABASE_UNAVAILABLE with Retry-After within the bound, nothing of it stored, and the
 * next request is served on a new connection. The bounds are shortened through the database URL's
 * query string, as an operator may (docs/operations.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { api as call } from './harness.ts';
import { usePostgresProcesses } from './postgres-processes.ts';

const TOKEN = 'e2e-stalled-backend-token-0123456789abcdef';
const QUERY_MS = 2_000;
const BOUNDS = `query_timeout=${QUERY_MS}&statement_timeout=3000&lock_timeout=1500&idle_in_transaction_session_timeout=1000`;

const cluster = usePostgresProcesses(TOKEN);

test('an api process whose PostgreSQL backends are stopped answers 503 with Retry-After within the bound, stores nothing of it, and recovers', async () => {
  const url = await cluster.pg.createDatabase();
  const api = await cluster.start(`${url}?${BOUNDS}`, 'api');
  const project = await call<{ id: string }>(api.url, TOKEN, 'POST', '/api/v1/projects', { name: 'stall' });
  assert.equal(project.status, 201);
  const eventsPath = `/api/v1/projects/${project.body.id}/events`;
  assert.equal(
    (await call(api.url, TOKEN, 'POST', eventsPath, { type: 'a', payload: { n: 0 } })).status,
    202,
  );

  const observer = new pg.Client({ connectionString: url, application_name: 'test-observer' });
  observer.on('error', () => undefined);
  await observer.connect();
  const { rows } = await observer.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'herald'",
  );
  assert.ok(rows.length > 0, 'the api process has connections named herald');
  const stopped = rows.map((r) => r.pid);
  let answer: Response | undefined;
  let body = '';
  const started = Date.now();
  try {
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    answer = await fetch(`${api.url}${eventsPath}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'a', payload: { n: 1 } }),
      signal: AbortSignal.timeout(15_000),
    });
    body = await answer.text();
  } finally {
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
  }
  const took = Date.now() - started;
  assert.equal(answer.status, 503, body);
  assert.equal(
    (JSON.parse(body) as { error: { code: string } }).error.code,
    'HERALD_ERR_DATABASE_UNAVAILABLE',
  );
  assert.ok(Number(answer.headers.get('retry-after')) > 0, 'Retry-After');
  assert.ok(took >= QUERY_MS - 100 && took < QUERY_MS * 3, `answered after ${took} ms`);

  // Served again on new connections; the refused event was not stored when its backend resumed.
  assert.equal(
    (await call(api.url, TOKEN, 'POST', eventsPath, { type: 'a', payload: { n: 2 } })).status,
    202,
  );
  await new Promise((r) => setTimeout(r, 500));
  const { rows: stored } = await observer.query<{ n: number }>(
    "SELECT (payload->>'n')::int AS n FROM events ORDER BY n",
  );
  await observer.end();
  assert.deepEqual(
    stored.map((r) => r.n),
    [0, 2],
  );
});
