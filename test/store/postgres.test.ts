import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import type { Endpoint, HeraldEvent } from '../../src/domain/types.ts';
import { newTurnCursor, turnListOf } from '../../src/store/claim-turns.ts';
import { encodeCursor } from '../../src/store/cursor.ts';
import { openStore } from '../../src/store/open-store.ts';
import {
  ACTIVE_ENDPOINTS_SQL,
  activeEndpointList,
  CALLBACK_PROJECTS_SQL,
  CLAIM_PLANNER_SETTINGS,
  CLAIM_WINDOW_PICK,
  type ClaimState,
  leaseDue,
  PROBE_ROUND_PICK,
  PROBE_ROUND_WITH_CALLBACKS_PICK,
  PROJECT_ENDPOINTS_SQL,
} from '../../src/store/postgres/claims.ts';
import { RECOVER_SCAN_SQL } from '../../src/store/postgres/due-deliveries.ts';
import {
  BACKLOG_COUNT_SQL,
  endpointDeliveryPageQuery,
  PAGE_PLANNER_SETTINGS,
} from '../../src/store/postgres/endpoint-deliveries.ts';
import { EXPIRE_PAST_VALID_SQL_POSTGRES } from '../../src/store/postgres/endpoint-writes.ts';
import { eventDeliveryPageQuery } from '../../src/store/postgres/event-deliveries.ts';
import {
  boundScanQuery,
  ENDPOINT_STATS_SQL_POSTGRES,
  STATS_PLANNER_SETTINGS,
  STATS_STEP_ROWS_POSTGRES,
} from '../../src/store/postgres/history-reads.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { PURGE_BATCH_ROWS } from '../../src/store/postgres/retention.ts';
import { Where } from '../../src/store/postgres/where.ts';
import { percentile95 } from '../../src/store/row-mapping.ts';
import { MAX_VALID_SECRETS, type Store } from '../../src/store/store.ts';
import { ATTEMPT_ID_SQL } from '../support/attempt-id-sql.ts';
import { migratedDatabases } from '../support/migrated-databases.ts';
import { startPostgres, withPostgres } from '../support/postgres.ts';
import { countQueries } from '../support/query-counter.ts';
import {
  attemptRecord,
  DAY,
  endpointInput,
  eventInput,
  HOUR,
  projectWithEndpoints,
  SECOND,
  T0,
} from './helpers.ts';
import { defineKeyRotationTest } from './key-rotation.ts';
import { definePostgresPlanGuard } from './postgres-query-plans.ts';
import { defineStoreSuite } from './store-suite.ts';

const server = await withPostgres();
after(() => server.stop());
/** An empty database, migrated (a copy of one migrated once); the tests of migrating take createDatabase. */
const migratedDatabase = migratedDatabases(server);

// A fresh database per test: claims and backlog are operator-wide.
let lastUrl = '';
defineStoreSuite(
  'postgres',
  async () => {
    lastUrl = await migratedDatabase();
    return openStore(lastUrl);
  },
  () => openStore(lastUrl),
);
// Judges the plans of every statement the suite above sent (postgres-query-plans.ts).
definePostgresPlanGuard(server, migratedDatabase);

/** Opens `n` stores on one database, as `n` Herald processes would. */
async function processes(n: number, url?: string): Promise<PostgresStore[]> {
  const db = url ?? (await migratedDatabase());
  const stores = Array.from({ length: n }, () => new PostgresStore(db));
  await Promise.all(stores.map((s) => s.migrate()));
  return stores;
}
const closeAll = (stores: Store[]) => Promise.all(stores.map((s) => s.close()));

/** A fresh database with a store and a plain client on it, both closed after `fn`. */
async function withStoreAndClient(fn: (store: PostgresStore, client: pg.Client) => Promise<void>) {
  const url = await migratedDatabase();
  const store = new PostgresStore(url);
  await store.migrate();
  const client = new pg.Client(url);
  await client.connect();
  try {
    await fn(store, client);
  } finally {
    await client.end();
    await store.close();
  }
}

describe('postgres specifics', () => {
  defineKeyRotationTest('postgres', migratedDatabase);

  test('a migration the database has and this version does not (a newer Herald applied it) is reported', async () => {
    const url = await server.createDatabase();
    const seen: unknown[] = [];
    await (await openStore(url, { onMigrated: (r) => seen.push(r) })).close();
    assert.ok((seen[0] as { applied: string[] }).applied.includes('0001_init.sql'));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future.sql', 1)");
    await client.end();
    await (await openStore(url, { onMigrated: (r) => seen.push(r) })).close();
    assert.deepEqual(seen[1], { applied: [], unknown: ['9999_future.sql'] });
  });

  test('migration 0016 makes the keys of an older database full keys, which keep working as before', async () => {
    const url = await server.createDatabase();
    const first = await openStore(url);
    const p = await first.createProject({ name: 'p' }, T0);
    await first.close();
    // As the previous version left it: no column, the migration not applied, a key written then.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('ALTER TABLE api_keys DROP COLUMN scope');
      await client.query("DELETE FROM schema_migrations WHERE name = '0016_api_key_scope.sql'");
      await client.query(
        `INSERT INTO api_keys (project_id, id, name, prefix, key_hash, created_at)
         VALUES ($1, 'key_old', 'old', 'hk_old', 'hold', $2)`,
        [p.id, T0],
      );
    } finally {
      await client.end();
    }
    const seen: unknown[] = [];
    const again = await openStore(url, { onMigrated: (r) => seen.push(r) });
    try {
      assert.deepEqual(seen[0], { applied: ['0016_api_key_scope.sql'], unknown: [] });
      assert.equal((await again.findApiKeyByHash('hold'))?.scope, 'full');
      assert.deepEqual(
        (await again.listApiKeys(p.id)).map((k) => [k.id, k.scope]),
        [['key_old', 'full']],
      );
    } finally {
      await again.close();
    }
  });

  test('openStore opens postgres:// URLs; several processes migrate one database at once', async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(url)));
    assert.deepEqual(stores[0]!.capabilities, {
      multiProcess: true,
      crossProcessWakeups: true,
      leaseOnAccept: true,
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT name FROM schema_migrations');
    const idx = await client.query(
      "SELECT indexdef FROM pg_indexes WHERE tablename = 'deliveries' AND indexname = 'deliveries_due'",
    );
    await client.end();
    assert.deepEqual(
      rows.map((r) => r.name),
      [
        '0001_init.sql',
        '0002_limits_retention.sql',
        '0003_endpoint_due_order.sql',
        '0004_callback_due.sql',
        '0005_hot_lease.sql',
        '0006_failed_attempts.sql',
        '0007_drop_attempts_started.sql',
        '0008_rate_deferred.sql',
        '0009_portal_links_not_before.sql',
        '0010_callback_envelope.sql',
        '0011_portal_links_generation.sql',
        '0012_project_backlog_limit.sql',
        '0013_event_delivery_count.sql',
        '0014_event_deliveries_in_id_order.sql',
        '0015_failed_deliveries_in_creation_order.sql',
        '0016_api_key_scope.sql',
        '0017_project_deleting.sql',
        '0018_due_since.sql',
        '0019_attempts_endpoint_statistics.sql',
        '0020_endpoint_changes.sql',
        '0021_hand_back_hold.sql',
        '0022_callback_projects.sql',
        '0023_endpoint_change_projects.sql',
      ],
    );
    assert.match(String(idx.rows[0]?.indexdef), /WHERE \(status = 'pending'::text\)/);
    await closeAll(stores);
  });

  test('a claim that leaves an endpoint out reads its window, not the whole backlog, with stale statistics', async () => {
    await withUnanalysed(1, async (client, event, endpoints) => {
      // 20,000 due deliveries of one endpoint, inserted at once: no ANALYZE has seen them, so the
      // planner believes there are a few hundred.
      await insertDue(client, event, endpoints[0]!.id, 1, 20_000);
      const plan = await explainPick(client, CLAIM_WINDOW_PICK, [
        T0 + 60_000,
        256,
        [endpoints[0]!.id],
        2_048,
      ]);
      const read = mostRowsRead(plan);
      assert.ok(read <= 2 * 2_048, `a plan node read ${read} rows`);
      // Every row of the window is left out: none is looked up and locked.
      const lock = planNode(plan, 'LockRows');
      assert.ok(lock, 'the plan locks rows');
      assert.equal(Number(lock['Actual Loops'] ?? 0), 0, 'no row of the window looked up');
    });
  });

  test("a claim's window looks its rows up by key, not by walking the project's due rows, with stale statistics", async () => {
    await withUnanalysed(2, async (client, event, endpoints) => {
      // 40,000 due deliveries, every other one to the endpoint left out. A scratch run (two workers,
      // a burst of 100,000) saw the lookup walk deliveries_endpoint on (project_id, status,
      // next_attempt_at) for each window row: 63,588 rows read per row, a claim of 23 s whose locks
      // held both workers' attempt records.
      const [a, b] = [endpoints[0]!.id, endpoints[1]!.id];
      const insert = (from: number, count: number) =>
        client.query(
          `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at, created_at, updated_at)
           SELECT $1, 'dlv_' || lpad(g::text, 20, '0'), $2, CASE WHEN g % 2 = 0 THEN $3 ELSE $4 END,
             'http://127.0.0.1:9/x', 'pending', 0, $5::bigint + g, $5::bigint, $5::bigint
           FROM generate_series($6::int, $6::int + $7::int - 1) g`,
          [event.projectId, event.id, a, b, T0, from, count],
        );
      for (const analyzed of [false, true]) {
        if (analyzed) {
          // Statistics taken early in a burst: a few rows, all of them due later than the claim's now.
          await client.query('DELETE FROM deliveries WHERE id LIKE $1', ['dlv_0%']);
          await insert(1_000_000, 500);
          await client.query('ANALYZE deliveries');
        }
        await insert(1, 40_000);
        const plan = await explainPick(client, CLAIM_WINDOW_PICK, [T0 + 60_000, 256, [a], 2_048]);
        const read = mostRowsRead(plan);
        assert.ok(
          read <= 2 * 2_048,
          `${analyzed ? 'analysed' : 'unanalysed'}: a plan node read ${read} rows`,
        );
        const lock = planNode(plan, 'LockRows');
        assert.ok(Number(lock?.['Actual Loops'] ?? 0) > 0, 'rows of the window looked up');
      }
    });
  });

  test("an endpoint's chart walks attempts_endpoint over its range, not the whole table, even for most of it", async () => {
    await withStoreAndClient(async (_store, client) => {
      // 60,000 attempts over 2 days, half of them to the endpoint charted, analysed: a scan of the
      // whole table is what the planner would pick for them.
      await client.query(
        `INSERT INTO attempts (project_id, id, delivery_id, event_id, endpoint_id, event_type, number,
           started_at, duration_ms, outcome, request)
         SELECT 'p', 'att_' || lpad(i::text, 26, '0'), 'd' || i, 'e' || i, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END,
           't', 1, $1::bigint + i * 2880, i % 300, 'succeeded', '{}'
         FROM generate_series(1, 60000) i`,
        [T0],
      );
      await client.query('ANALYZE attempts');
      const plan = async (settings: string | null) => {
        await client.query('BEGIN');
        try {
          if (settings) await client.query(settings);
          // A step with no end bound (the last of a range), as wide as the range.
          const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${ENDPOINT_STATS_SQL_POSTGRES}`, [
            'p',
            'a',
            3_600_000,
            T0,
            T0 + 2 * DAY,
            'att_0',
            'att_1',
            '\uffff',
          ]);
          return JSON.stringify(rows[0]['QUERY PLAN']);
        } finally {
          await client.query('ROLLBACK');
        }
      };
      assert.match(await plan(null), /Seq Scan/, 'the planner scans the table on its own');
      const chosen = await plan(STATS_PLANNER_SETTINGS);
      assert.match(chosen, /"Index Name":"attempts_endpoint"/, chosen);
      assert.doesNotMatch(chosen, /Seq Scan|Gather|JIT/, chosen);
    });
  });

  test("a busy endpoint's chart is read in steps of whole buckets, exact, and stops between steps when its caller left", async () => {
    await withStoreAndClient(async (store, client) => {
      // 64,000 attempts a second apart, three in four to the endpoint charted: 48,000 of it in a
      // day, more than two steps of STATS_STEP_ROWS_POSTGRES. Before, a chart was one statement
      // however long its range (30 days of 3,000,000 attempts: 10-14 s, a 98 MB sort on disk, and a
      // 503 past the pool's 20 s query timeout), and a caller that left could not stop it.
      const { project, endpoints } = await projectWithEndpoints(store, 2);
      const [a, b] = [endpoints[0]!.id, endpoints[1]!.id];
      await client.query(
        `INSERT INTO attempts (id, project_id, delivery_id, event_id, endpoint_id, event_type, number, started_at,
           duration_ms, outcome, request)
         SELECT ${ATTEMPT_ID_SQL}, $1, 'dlv_' || i, 'evt_' || i, CASE WHEN i % 4 = 0 THEN $3 ELSE $2 END, 'a.b', 1, t,
           (i * 7919) % 997 + i % 5, CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END, '{}'
         FROM (SELECT i, $4::bigint + i * 1000 AS t FROM generate_series(1, 64000) i) s`,
        [project.id, a, b, T0],
      );
      await client.query('ANALYZE attempts');
      const { rows: charted } = await client.query(
        'SELECT started_at::float8 AS at, duration_ms, outcome FROM attempts WHERE endpoint_id = $1',
        [a],
      );
      assert.ok(charted.length > 2 * STATS_STEP_ROWS_POSTGRES, `${charted.length} attempts charted`);
      /** The buckets as counted one attempt at a time. */
      const expected = (since: number, until: number, bucketMs: number) => {
        const buckets = new Map<number, { durations: number[]; succeeded: number }>();
        for (const r of charted.filter((x) => x.at >= since && x.at <= until)) {
          const start = Math.floor(r.at / bucketMs) * bucketMs;
          const bucket = buckets.get(start) ?? { durations: [], succeeded: 0 };
          bucket.durations.push(r.duration_ms);
          if (r.outcome === 'succeeded') bucket.succeeded++;
          buckets.set(start, bucket);
        }
        return [...buckets.entries()]
          .sort(([x], [y]) => x - y)
          .map(([start, { durations, succeeded }]) => ({
            start,
            succeeded,
            failed: durations.length - succeeded,
            avgDurationMs: durations.reduce((sum, d) => sum + d, 0) / durations.length,
            p95DurationMs: percentile95(durations),
          }));
      };
      const minute = 60 * SECOND;
      for (const [since, until, bucketMs] of [
        [T0 - DAY, T0 + 2 * DAY, DAY],
        [T0 - DAY, T0 + 2 * DAY, HOUR],
        [T0 + 3_700_123, T0 + 50_000_456, minute],
        [T0 + 17_000, T0 + 60_000_000, 6 * HOUR],
      ] as const) {
        const { result, queries } = await countQueries(() =>
          store.endpointStats(project.id, a, { since, until, bucketMs }),
        );
        const want = expected(since, until, bucketMs);
        assert.deepEqual(result, want, `${since - T0}..${until - T0} by ${bucketMs}`);
        // No statement reads more than a step's attempts (a step of whole buckets may hold fewer).
        const attempts = want.reduce((n, x) => n + x.succeeded + x.failed, 0);
        const read = queries.filter((x) => x.includes('GROUP BY')).length;
        assert.ok(
          read >= Math.ceil(attempts / STATS_STEP_ROWS_POSTGRES),
          `${since - T0}..${until - T0} by ${bucketMs}: ${attempts} attempts read in ${read} statements`,
        );
      }
      // The caller leaves once the chart has started: it stops after the step it was reading.
      const left = new AbortController();
      const { queries } = await countQueries(
        () =>
          store.endpointStats(project.id, a, {
            since: T0,
            until: T0 + DAY,
            bucketMs: HOUR,
            signal: left.signal,
          }),
        (text) => {
          if (text.includes('GROUP BY')) left.abort();
        },
      );
      assert.equal(
        queries.filter((x) => x.includes('GROUP BY')).length,
        1,
        'steps read after the caller left',
      );
    });
  });

  test("a new secret expires the endpoint's oldest by reading its own secrets, not the project's, with stale statistics", async () => {
    await withStoreAndClient(async (store, client) => {
      // An installation whose statistics know another project's 5,000 secrets, then a new project
      // given 3,000 endpoints at once: the planner believes the new one has a secret or two. A scratch
      // load (concurrency 16) saw each create read every secret of the project (751 buffers per call
      // at 1,500 endpoints), so creating endpoints slowed down as the project grew.
      await client.query(
        `INSERT INTO endpoint_secrets (project_id, id, endpoint_id, secret, created_at)
         SELECT 'prj_other', 'sec_' || g, 'ep_' || g, 'x', $1::bigint FROM generate_series(1, 5000) g`,
        [T0],
      );
      await client.query('ANALYZE endpoint_secrets');
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const endpointId = endpoints[0]!.id;
      await client.query(
        `INSERT INTO endpoint_secrets (project_id, id, endpoint_id, secret, created_at)
         SELECT $1, 'sec_' || g, 'ep_' || g, 'x', $2::bigint FROM generate_series(1, 3000) g`,
        [project.id, T0],
      );
      await client.query('BEGIN');
      try {
        const { rows } = await client.query(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${EXPIRE_PAST_VALID_SQL_POSTGRES}`,
          [T0 + SECOND, project.id, endpointId, MAX_VALID_SECRETS],
        );
        const read = mostRowsRead(rows[0]['QUERY PLAN'][0].Plan);
        assert.ok(read <= MAX_VALID_SECRETS, `a plan node read ${read} rows`);
      } finally {
        await client.query('ROLLBACK');
      }
    });
  });

  test("a page of an event's deliveries reads the page's rows from the cursor on, not the event's others or the project's", async () => {
    await withStoreAndClient(async (_store, client) => {
      // 200 events of 100 deliveries, then one of 5,000 whose ids come after all of them, analysed:
      // walking the primary key (project_id, id) in id order and filtering on the event would read
      // the 20,000 others before the first of its rows, and an index without the id (before
      // migration 0014) read and sorted all 5,000 for every page.
      await client.query(
        `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT 'p', 'dlv_' || lpad(i::text, 26, '0'), CASE WHEN i > 20000 THEN 'evt_wide' ELSE 'evt_' || (i / 100) END,
           'ep', 'http://127.0.0.1:9/x', CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'pending' END, 0, $1::bigint, $1::bigint, $1::bigint
         FROM generate_series(1, 25000) i`,
        [T0],
      );
      await client.query('ANALYZE deliveries');
      const middle = encodeCursor(`dlv_${String(22_500).padStart(26, '0')}`);
      // The most rows a plan node may read: the page and the one after it that says there is more;
      // with a status filter, also the rows of other statuses stepped over (6 of every 7 here).
      for (const [eventId, q, most] of [
        ['evt_wide', { limit: 100 }, 101],
        ['evt_wide', { limit: 100, cursor: middle }, 101],
        ['evt_wide', { limit: 100, status: 'failed' as const }, 101 * 7],
        ['evt_3', { limit: 100 }, 100],
        ['evt_3', { limit: 10, cursor: encodeCursor(`dlv_${String(350).padStart(26, '0')}`) }, 11],
      ] as const) {
        const { sql, params } = eventDeliveryPageQuery('p', eventId, q);
        const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
        const plan = rows[0]['QUERY PLAN'][0].Plan;
        const text = JSON.stringify(plan);
        const label = `${eventId} ${JSON.stringify(q)}: ${text}`;
        assert.match(text, /"Index Name":"deliveries_event"/, label);
        assert.doesNotMatch(text, /"Node Type":"Sort"/, label);
        assert.ok(mostRowsRead(plan) <= most, `${label}: a plan node read ${mostRowsRead(plan)} rows`);
      }
    });
  });

  test("a page of an endpoint's waiting deliveries reads from the cursor's due time on, not the endpoint's others, with stale statistics or fresh", async () => {
    await withStoreAndClient(async (_store, client) => {
      // One endpoint with 12,500 deliveries and 50 with 250 each, due in groups (a batch's share a
      // due time), some finished. The planner took deliveries_due for the big endpoint (half the
      // pending ones) and read twice the page, until the query left it no other index than
      // deliveries_endpoint; and before ANALYZE it sorted the endpoint's whole range, until plain
      // sorts were turned off for the page (PAGE_PLANNER_SETTINGS). A page reads its own rows, not
      // the endpoint's others nor the other endpoints'.
      await client.query(
        `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT 'p', 'dlv_' || lpad(i::text, 26, '0'), 'evt_' || i,
           CASE WHEN i % 2 = 0 THEN 'dense' ELSE 'ep' || (i % 100) END, 'http://127.0.0.1:9/x',
           CASE WHEN i % 9 = 0 THEN 'succeeded' ELSE 'pending' END, 0, $1::bigint + i / 20, $1::bigint, $1::bigint
         FROM generate_series(1, 25000) i`,
        [T0],
      );
      const dense = encodeCursor(`dlv_${'6002'.padStart(26, '0')}@${T0 + 300}`);
      const sparse = encodeCursor(`dlv_${'12001'.padStart(26, '0')}@${T0 + 600}`);
      for (const statistics of ['stale', 'fresh']) {
        if (statistics === 'fresh') await client.query('ANALYZE deliveries');
        for (const [endpointId, q, first] of [
          ['dense', { limit: 100 }, 2],
          ['dense', { limit: 100, cursor: dense }, 6004],
          ['ep1', { limit: 100 }, 1],
          ['ep1', { limit: 100, cursor: sparse }, 12101],
        ] as const) {
          const { sql, params } = endpointDeliveryPageQuery('p', endpointId, { status: 'pending', ...q });
          await client.query(`BEGIN; ${PAGE_PLANNER_SETTINGS}`);
          const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
          const page = (await client.query(sql, params)).rows as { id: string }[];
          await client.query('COMMIT');
          const plan = rows[0]['QUERY PLAN'][0].Plan;
          const label = `${statistics} ${endpointId} ${JSON.stringify(q)}: ${JSON.stringify(plan)}`;
          assert.match(JSON.stringify(plan), /"Index Name":"deliveries_endpoint"/, label);
          // The page, the row that says there is more, the rest of the last due time's tie, and the
          // finished rows among them (1 in 9).
          assert.ok(mostRowsRead(plan) <= 140, `${label}: a plan node read ${mostRowsRead(plan)} rows`);
          assert.equal(page.length, 101, label);
          assert.equal(
            page[0]!.id,
            `dlv_${String(first).padStart(26, '0')}`,
            `${label}: the first after the cursor`,
          );
        }
      }
    });
  });

  test("a page filtered by what no index serves finds its scan's bound by walking the newest ids of a time range, not by reading and sorting the whole range", async () => {
    await withStoreAndClient(async (_store, client) => {
      // 30,000 attempts and events a second apart, analysed; a range of the last 10,000. Its time
      // column and its id bounds select the same rows, but the planner multiplied their
      // selectivities, took the range for a third of its size, and read and sorted all of it to
      // find the 1,000th newest (at 200,000 attempts with a third in range, 33,000 rows, 26 ms,
      // against 2.7 ms walking 10,000 ids; the narrower the range, the worse the estimate).
      for (const [table, prefix, column] of [
        ['attempts', 'att', 'started_at'],
        ['events', 'evt', 'created_at'],
      ] as const) {
        await client.query(
          table === 'attempts'
            ? `INSERT INTO attempts (id, project_id, delivery_id, event_id, endpoint_id, event_type, number,
                 started_at, duration_ms, outcome, request)
               SELECT ${ATTEMPT_ID_SQL}, 'p', 'dlv_' || i, 'evt_' || i, 'a', 'a.b', 1, t, 5, 'succeeded', '{}'
               FROM (SELECT i, $1::bigint + i * 1000 AS t FROM generate_series(1, 30000) i) s`
            : `INSERT INTO events (id, project_id, type, payload, created_at)
               SELECT replace(${ATTEMPT_ID_SQL}, 'att_', 'evt_'), 'p', 'a.b', '{}', t
               FROM (SELECT i, $1::bigint + i * 1000 AS t FROM generate_series(1, 30000) i) s`,
          [T0],
        );
        await client.query(`ANALYZE ${table}`);
        const where = new Where('p');
        where.timeRange(column, prefix, T0 + 20_001 * SECOND);
        const { sql, params } = boundScanQuery(table, where, 3_000);
        const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
        const plan = rows[0]['QUERY PLAN'][0].Plan;
        const label = `${table}: ${JSON.stringify(plan)}`;
        assert.ok(mostRowsRead(plan) <= 3_000, `${label}: a plan node read ${mostRowsRead(plan)} rows`);
        const bound = (await client.query(sql, params)).rows[0]?.id;
        assert.match(String(bound), new RegExp(`^${prefix}_\\w+0{11}27001$`), label);
      }
    });
  });

  test("an endpoint's page filtered by what no index serves finds its scan's bound by walking the endpoint's newest ids, not reading and sorting all of them, in a project of half the table", async () => {
    await withStoreAndClient(async (_store, client) => {
      // 60,000 attempts: half of them project 'big', two thirds of whose to its endpoint 'a'; the
      // rest over 50 other projects of 10 endpoints each. An endpoint belongs to one project, but
      // the planner multiplied the two columns' selectivities, took 'a' for 10,000 attempts of
      // 'big' instead of 20,000, and read and sorted all of them to find the 6,000th newest (on
      // the seeded database of postgres-query-plans.ts: 35,114 rows, 36 ms, against 4.3 ms walking
      // 10,000 ids of attempts_endpoint once the dependency is known).
      await client.query(
        `INSERT INTO attempts (id, project_id, delivery_id, event_id, endpoint_id, event_type, number,
           started_at, duration_ms, outcome, request)
         SELECT ${ATTEMPT_ID_SQL}, CASE WHEN i % 2 = 0 THEN 'big' ELSE 'p' || (i % 50) END, 'dlv_' || i,
           'evt_' || i, CASE WHEN i % 2 = 1 THEN 'ep' || (i % 500) WHEN i % 3 = 0 THEN 'b' ELSE 'a' END,
           'a.b', 1, t, 5, 'succeeded', '{}'
         FROM (SELECT i, $1::bigint + i * 1000 AS t FROM generate_series(1, 60000) i) s`,
        [T0],
      );
      await client.query('ANALYZE attempts');
      const where = new Where('big');
      where.add('endpoint_id =', 'a');
      const { sql, params } = boundScanQuery('attempts', where, 6_000);
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
      const plan = rows[0]['QUERY PLAN'][0].Plan;
      const label = JSON.stringify(plan);
      assert.ok(mostRowsRead(plan) <= 6_000, `${label}: a plan node read ${mostRowsRead(plan)} rows`);
    });
  });

  test("a recover's batch reads the endpoint's failed deliveries in creation order from its cursor, not the others, with stale statistics or fresh", async () => {
    await withStoreAndClient(async (_store, client) => {
      // Two endpoints of 12,500 deliveries, 1 in 5 failed, inserted newest first: deliveries_endpoint
      // holds the failed ones in heap order (here the reverse of creation order), so a batch in
      // creation order from it would read and sort all 2,500 of the endpoint's.
      await client.query(
        `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, created_at, updated_at)
         SELECT 'p', 'dlv_' || lpad(i::text, 26, '0'), 'evt_' || i, 'ep' || (i % 2), 'http://127.0.0.1:9/x',
           CASE WHEN i % 5 = 0 THEN 'failed' ELSE 'succeeded' END, 1, 25000 - i, 0
         FROM generate_series(1, 25000) i`,
      );
      const params = ['p', 'ep0', 1000, 'dlv_', 20000, 100];
      for (const statistics of ['stale', 'fresh']) {
        if (statistics === 'fresh') await client.query('ANALYZE deliveries');
        const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${RECOVER_SCAN_SQL}`, params);
        const plan = rows[0]['QUERY PLAN'][0].Plan;
        const label = `${statistics}: ${JSON.stringify(plan)}`;
        assert.match(JSON.stringify(plan), /"Index Name":"deliveries_failed"/, label);
        assert.doesNotMatch(JSON.stringify(plan), /"Node Type":"Sort"/, label);
        assert.ok(mostRowsRead(plan) <= 100, `${label}: a plan node read ${mostRowsRead(plan)} rows`);
        const batch = (await client.query(RECOVER_SCAN_SQL, params)).rows as {
          id: string;
          created_at: string;
        }[];
        assert.equal(batch.length, 100);
        assert.equal(Number(batch[0]!.created_at), 1000, 'the oldest from since on');
        assert.ok(
          batch.every((r, i) => i === 0 || Number(r.created_at) > Number(batch[i - 1]!.created_at)),
          'in creation order',
        );
      }
    });
  });

  test("an endpoint's backlog counts read its own index range, not the due order of every endpoint", async () => {
    await withStoreAndClient(async (_store, client) => {
      // 'old' has a long history (20,000 succeeded) and one pending delivery, due last; 'busy' has
      // 5,000 pending due before it. Statistics say 'old' is most of the table.
      await client.query(
        `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT 'p', 'dlv_' || lpad(i::text, 26, '0'), 'evt_' || i,
           CASE WHEN i <= 20001 THEN 'old' ELSE 'busy' END, 'http://127.0.0.1:9/x',
           CASE WHEN i <= 20000 THEN 'succeeded' ELSE 'pending' END, 0,
           CASE WHEN i = 20001 THEN $1::bigint + 1000000 ELSE $1::bigint + i END, $1::bigint, $1::bigint
         FROM generate_series(1, 25001) i`,
        [T0],
      );
      await client.query('ANALYZE deliveries');
      for (const [endpointId, pending] of [
        ['old', 1],
        ['busy', 5_000],
      ] as const) {
        const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${BACKLOG_COUNT_SQL}`, [
          'p',
          endpointId,
          10_000,
        ]);
        const plan = rows[0]['QUERY PLAN'][0].Plan;
        const label = `${endpointId}: ${JSON.stringify(plan)}`;
        assert.doesNotMatch(JSON.stringify(plan), /"Index Name":"deliveries_due"/, label);
        assert.ok(mostRowsRead(plan) <= pending + 1, `${label}: a plan node read ${mostRowsRead(plan)} rows`);
        const counted = (await client.query(BACKLOG_COUNT_SQL, ['p', endpointId, 10_000])).rows[0];
        assert.deepEqual([Number(counted.pending), Number(counted.parked)], [pending, 0]);
      }
    });
  });

  test("a claim's turns read the active endpoints again only after a notice that they changed, while the store listens", async () => {
    // Read every 250 ms, changed or not: 190 ms a claim at 100,000 endpoints.
    const url = await migratedDatabase();
    const store = new PostgresStore(url);
    await store.migrate();
    const other = new PostgresStore(url);
    try {
      const busy = (await projectWithEndpoints(store, 1)).endpoints[0]!;
      await store.acceptEvents(
        busy.projectId,
        Array.from({ length: 400 }, () => eventInput('a')),
        T0,
      );
      let now = T0 + 1_000;
      /** Whether a claim 300 ms after the last one read the active endpoints. */
      const reads = async () => {
        now += 300;
        const { queries } = await countQueries(() =>
          store.claimDueDeliveries({ limit: 8, leaseMs: 60_000, now, workerId: 'w' }),
        );
        return queries.some((q) => /FROM endpoints WHERE status = 'active'/.test(q));
      };
      /** Claims until one reads them: the notice comes once the change commits, soon after. */
      const readAgain = async () => {
        for (let i = 0; i < 200; i++) {
          if (await reads()) return true;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return false;
      };
      assert.equal(await reads(), true, 'not listening: read every 250 ms');
      assert.equal(await reads(), true);
      await store.listening();
      assert.equal(await reads(), true, 'the first read since listening');
      assert.equal(await reads(), false, 'nothing changed');
      assert.equal(await reads(), false);
      // Another process's writes: an endpoint created, disabled, enabled, deleted.
      const { project, endpoints } = await projectWithEndpoints(other, 1);
      assert.equal(await readAgain(), true, 'created');
      assert.equal(await reads(), false);
      await other.updateEndpoint(project.id, endpoints[0]!.id, { active: false }, T0 + 2);
      assert.equal(await readAgain(), true, 'disabled');
      await other.updateEndpoint(project.id, endpoints[0]!.id, { active: true }, T0 + 3);
      assert.equal(await readAgain(), true, 'enabled');
      await other.deleteEndpoint(project.id, endpoints[0]!.id, T0);
      assert.equal(await readAgain(), true, 'deleted');
      // A listening connection that died without a word (no notice until keep-alive gives up, ~11
      // minutes on Linux's defaults) left the list as it was that long: read again after 30 s.
      assert.equal(await reads(), false);
      now += 30_000;
      assert.equal(await reads(), true, 'read again 30 s after the last read, with no notice');
      assert.equal(await reads(), false);
    } finally {
      await other.close();
      await store.close();
    }
  });

  test("a change to one project's endpoints reaches another process's claims as a read of that project's, not of every active endpoint", async () => {
    // Every change read every active endpoint again, in every listening process: 63-82 ms at 100,000.
    const url = await server.createDatabase();
    const store = new PostgresStore(url);
    await store.migrate();
    const other = new PostgresStore(url);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      const busy = (await projectWithEndpoints(store, 1)).endpoints[0]!;
      await store.acceptEvents(
        busy.projectId,
        Array.from({ length: 2_000 }, () => eventInput('a')),
        T0,
      );
      await store.listening();
      let now = T0 + 1_000;
      const reads = { all: 0, projects: 0 };
      /** The endpoints a claim 300 ms after the last one leased from, its reads of the endpoints counted. */
      const claim = async () => {
        now += 300;
        const { result } = await countQueries(
          () => store.claimDueDeliveries({ limit: 8, leaseMs: 60_000, now, workerId: 'w' }),
          (q) => {
            if (q === ACTIVE_ENDPOINTS_SQL) reads.all++;
            if (q === PROJECT_ENDPOINTS_SQL) reads.projects++;
          },
        );
        return new Set(result.map((c) => c.delivery.endpointId));
      };
      /** Claims until one leases a delivery of `endpointId`: its turn comes once the notice does. */
      const claimedFrom = async (endpointId: string) => {
        for (let i = 0; i < 100; i++) {
          if ((await claim()).has(endpointId)) return true;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return false;
      };
      await claim();
      assert.deepEqual(reads, { all: 1, projects: 0 }, 'the first read since listening: all of them');
      // Another process's writes: a project with an endpoint and an event for it, behind the backlog.
      const { project, endpoints } = await projectWithEndpoints(other, 1, T0 + 1);
      await other.acceptEvents(project.id, [eventInput('a')], T0 + 1);
      assert.equal(await claimedFrom(endpoints[0]!.id), true, "the new endpoint's turn came");
      assert.equal(reads.all, 1, 'no read of every active endpoint');
      assert.ok(reads.projects >= 1);
      const second = await other.createEndpoint(
        endpointInput(project.id, { url: 'http://127.0.0.1:9/second' }),
        'whsec_2',
        T0 + 2,
      );
      await other.updateEndpoint(project.id, endpoints[0]!.id, { active: false }, T0 + 2);
      await other.acceptEvents(project.id, [eventInput('a')], T0 + 2);
      assert.equal(await claimedFrom(second.id), true, "the project's second endpoint's turn came");
      assert.equal(reads.all, 1, 'still none');
      // Notices may have been lost while the listening connection was down: all of them again.
      await client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
      );
      for (let i = 0; i < 200 && reads.all === 1; i++) {
        await claim();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(reads.all >= 2, true, 'read all of them again after the connection was lost');
      await store.listening();
      await claim();
      const before = reads.all;
      // 65 projects changed one by one: their endpoints read, not all of them.
      const many: string[] = [];
      for (let i = 0; i < 65; i++) many.push((await projectWithEndpoints(other, 1, T0 + 3)).project.id);
      for (let i = 0; i < 5; i++) {
        await claim();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(reads.all, before, '65 changes one by one');
      // The 65 projects' endpoints deleted in one statement: one notice naming none, all read again.
      await client.query('DELETE FROM endpoints WHERE project_id = ANY($1::text[])', [many]);
      for (let i = 0; i < 200 && reads.all === before; i++) {
        await claim();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(reads.all, before + 1, 'a statement that changed 65 projects');
    } finally {
      await client.end();
      await other.close();
      await store.close();
    }
  });

  test("a claim's turns read the active endpoints as one row, however many there are, and keep them by project", async () => {
    // A row per endpoint: 112-146 ms at 100,000 endpoints, most of it the rows sent and parsed.
    const url = await migratedDatabase();
    const store = await openStore(url);
    const client = new pg.Client({ connectionString: url });
    try {
      const made: Awaited<ReturnType<typeof projectWithEndpoints>>[] = [];
      for (let i = 0; i < 3; i++) made.push(await projectWithEndpoints(store, 2));
      await store.updateEndpoint(made[1]!.project.id, made[1]!.endpoints[0]!.id, { active: false }, T0 + 1);
      const expected = made
        .flatMap(({ endpoints }) => endpoints.map((ep): [string, string] => [ep.projectId, ep.id]))
        .filter(([, id]) => id !== made[1]!.endpoints[0]!.id)
        .sort(([p1, e1], [p2, e2]) => (p1 < p2 ? -1 : p1 > p2 ? 1 : e1 < e2 ? -1 : e1 > e2 ? 1 : 0));
      await client.connect();
      await client.query('BEGIN');
      await client.query(CLAIM_PLANNER_SETTINGS);
      const { rows } = await client.query(ACTIVE_ENDPOINTS_SQL);
      await client.query('ROLLBACK');
      assert.equal(rows.length, 1);
      assert.deepEqual(activeEndpointList(rows[0].list), turnListOf(expected, true));
      // Out of order (PostgreSQL keeps a subquery's order into an aggregate but does not promise
      // it), each project's are gathered rather than taken as grouped; none, an empty list.
      const unordered: [string, string][] = [
        ['prj_b', 'ep_1'],
        ['prj_a', 'ep_2'],
        ['prj_b', 'ep_3'],
      ];
      assert.deepEqual(activeEndpointList(unordered.flat().join(' ')), turnListOf(unordered));
      assert.deepEqual(
        activeEndpointList('prj_a ep_2 prj_a ep_1'),
        turnListOf([
          ['prj_a', 'ep_2'],
          ['prj_a', 'ep_1'],
        ]),
      );
      assert.deepEqual(activeEndpointList(null), turnListOf([]));
    } finally {
      await client.end();
      await store.close();
    }
  });

  test('a lease is a HOT update: claiming adds no index entry, leaving endpoints out or not', async () => {
    // Each case on rows of its own, in a database of its own: on rows the first case had leased
    // (rolled back), the second's new versions fit only once pruning has taken the first's away,
    // and pruning may wait on an older transaction elsewhere on the server: the plan guard's seed,
    // in its own database, ran beside this test run alone, and the second case got 86 of 100.
    for (const leaveOut of [false, true]) {
      await withUnanalysed(2, async (client, event, endpoints) => {
        await insertDue(client, event, endpoints[0]!.id, 1, 300);
        await insertDue(client, event, endpoints[1]!.id, 1_001, 300);
        const state: ClaimState = { turns: newTurnCursor(), skipWindow: null, activeEndpoints: 0 };
        const claim = { limit: 100, leaseMs: 60_000, now: T0 + 600_000, workerId: 'w' };
        // Counted by the session (pending statistics may include earlier transactions): read around.
        const updates = async () =>
          (
            await client.query(
              `SELECT pg_stat_get_xact_tuples_updated('deliveries'::regclass)::int AS updated,
                    pg_stat_get_xact_tuples_hot_updated('deliveries'::regclass)::int AS hot`,
            )
          ).rows[0] as { updated: number; hot: number };
        const excludeEndpointIds = leaveOut ? [endpoints[0]!.id] : [];
        await client.query('BEGIN');
        try {
          await client.query(CLAIM_PLANNER_SETTINGS);
          const before = await updates();
          const leased = await leaseDue(client, { ...claim, excludeEndpointIds }, state);
          const after = await updates();
          const hot = after.hot - before.hot;
          assert.equal(leased.length, 100);
          assert.equal(after.updated - before.updated, 100);
          // A lease that set an indexed column would be 0 of 100. A few rows may still move: a page
          // of rows leased together runs out of the room its fillfactor left.
          assert.ok(hot >= 90, `${hot} of 100 HOT, leaving out ${excludeEndpointIds.length}`);
        } finally {
          await client.query('ROLLBACK');
        }
      });
    }
  });

  test('a lease taken before migration 0005 (due time moved, no lease_until) holds until it runs out', async () => {
    await withUnanalysed(1, async (client, event, endpoints) => {
      await insertDue(client, event, endpoints[0]!.id, 1, 2);
      // As a process of the previous version leased: next_attempt_at moved by the lease.
      await client.query(
        `UPDATE deliveries SET next_attempt_at = $1, leased_by = 'old-process' WHERE id = 'dlv_' || lpad('1', 20, '0')`,
        [T0 + 60_000],
      );
      const state: ClaimState = { turns: newTurnCursor(), skipWindow: null, activeEndpoints: 0 };
      const claim = async (now: number) =>
        (await leaseDue(client, { limit: 10, leaseMs: 1_000, now, workerId: 'new' }, state)).map((r) =>
          String(r.id),
        );
      const held = `dlv_${'1'.padStart(20, '0')}`;
      const before = await claim(T0 + 10);
      assert.equal(before.length, 2, 'the other row and the delivery accepted by withUnanalysed');
      assert.ok(!before.includes(held), 'the old lease holds');
      assert.ok((await claim(T0 + 60_000)).includes(held), 'once it runs out, the row is claimable again');
    });
  });

  test("a probe round reads each endpoint's share in due order, not its backlog, with stale statistics", async () => {
    await withUnanalysed(3, async (client, event, endpoints) => {
      // Unanalysed: 20,000 more due rows of the first endpoint and 10 of the second (each endpoint
      // has one already, from the event accepted above).
      await insertDue(client, event, endpoints[0]!.id, 1, 20_000);
      await insertDue(client, event, endpoints[1]!.id, 100_001, 10);
      const ids = endpoints.map((e) => e.id);
      const plan = await explainProbeRound(client, event.projectId, ids);
      assert.equal(
        Number(plan['Actual Rows']),
        64 + 11 + 1,
        'a share of 64 from the first, all of the others',
      );
      const read = mostRowsRead(plan);
      assert.ok(read <= 2 * 200, `a plan node read ${read} rows`);
    });
  });

  test("a probe round walks each endpoint's own rows with fresh statistics too, not a saturated endpoint's backlog", async () => {
    await withUnanalysed(3, async (client, event, endpoints) => {
      // The first endpoint (left out: saturated) has 20,000 due rows at the head of the due order.
      // Once ANALYZE has seen them, walking deliveries_due and filtering by endpoint looks cheap
      // to the planner, and each probed endpoint would step over all of them.
      await insertDue(client, event, endpoints[0]!.id, 1, 20_000);
      await insertDue(client, event, endpoints[1]!.id, 100_001, 10);
      await client.query('ANALYZE deliveries');
      const probed = endpoints.slice(1).map((e) => e.id);
      const plan = await explainProbeRound(client, event.projectId, probed);
      assert.equal(Number(plan['Actual Rows']), 11 + 1, 'all of both probed endpoints');
      const read = mostRowsRead(plan);
      assert.ok(read <= 2 * 200, `a plan node read ${read} rows`);
    });
  });

  test("a probe round walks each project's own callbacks, not another project's backlog of them, and finding which projects have any does too", async () => {
    const url = await migratedDatabase();
    const store = await openStore(url);
    const client = new pg.Client({ connectionString: url });
    try {
      const callbackAt = async (name: string) => {
        const project = await store.createProject({ name }, T0);
        const [accepted] = await store.acceptEvents(
          project.id,
          [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' })],
          T0,
        );
        return accepted!.event;
      };
      const noisy = await callbackAt('noisy');
      const quiet = await callbackAt('quiet');
      await client.connect();
      // 20,000 more of the noisy project's callbacks at the head of the due order, analysed: walking
      // deliveries_callbacks_due and filtering by project looks cheap to the planner then.
      await client.query(
        `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT $1, 'dlv_' || lpad(g::text, 20, '0'), $2, NULL, 'http://127.0.0.1:9/cb', 'pending', 0, $3::bigint - 100000 + g, $3::bigint, $3::bigint
         FROM generate_series(1, 20000) g`,
        [noisy.projectId, noisy.id, T0],
      );
      await client.query('ANALYZE deliveries');
      const plan = await explainPick(client, PROBE_ROUND_WITH_CALLBACKS_PICK, [
        T0 + 600_000,
        [quiet.projectId],
        [''],
        [64],
        200,
      ]);
      assert.equal(Number(plan['Actual Rows']), 1, "the quiet project's callback");
      assert.ok(mostRowsRead(plan) <= 2 * 200, `a plan node read ${mostRowsRead(plan)} rows`);
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${CALLBACK_PROJECTS_SQL}`, [
        T0 + 600_000,
      ]);
      const projects = rows[0]['QUERY PLAN'][0].Plan;
      assert.equal(Number(projects['Actual Rows']), 2, 'both projects');
      assert.ok(mostRowsRead(projects) <= 10, `a plan node read ${mostRowsRead(projects)} rows`);
    } finally {
      await client.end();
      await store.close();
    }
  });

  test('which projects have callbacks due is found among the pending callbacks, not by asking every project', async () => {
    // Read every 250 ms while callbacks are due and claims give turns: asked of every project (a
    // seek each, or a scan of deliveries) it took 46-76 ms at 100,000 projects.
    const url = await migratedDatabase();
    const store = await openStore(url);
    const client = new pg.Client({ connectionString: url });
    try {
      const withCallback = async (name: string) => {
        const project = await store.createProject({ name }, T0);
        await store.acceptEvents(project.id, [eventInput('a', { callbackUrl: 'http://127.0.0.1:9/cb' })], T0);
        return project.id;
      };
      const due = await withCallback('due');
      const later = await withCallback('later');
      await client.connect();
      await client.query(`UPDATE deliveries SET next_attempt_at = $2::bigint WHERE project_id = $1`, [
        later,
        T0 + HOUR,
      ]);
      await client.query(
        `INSERT INTO projects (id, project_id, name, created_at, updated_at)
         SELECT 'prj_many' || g, 'prj_many' || g, 'p' || g, $1::bigint, $1::bigint FROM generate_series(1, 5000) g`,
        [T0],
      );
      // And their history: 20,000 deliveries done (callbacks among them), a scan of which is no cheaper.
      await client.query(
        `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT 'prj_many' || (g % 5000 + 1), 'dlv_many' || g, 'evt_many' || g, CASE WHEN g % 10 > 0 THEN 'ep_many' || g % 5000 END,
           'http://127.0.0.1:9/', 'succeeded', 1, NULL, $1::bigint, $1::bigint
         FROM generate_series(1, 20000) g`,
        [T0],
      );
      await client.query('VACUUM ANALYZE');
      await client.query('BEGIN');
      try {
        await client.query(CLAIM_PLANNER_SETTINGS);
        const { rows } = await client.query(
          `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${CALLBACK_PROJECTS_SQL}`,
          [T0 + 600_000],
        );
        const plan = rows[0]['QUERY PLAN'][0].Plan;
        assert.equal(Number(plan['Actual Rows']), 1, 'the project with a callback due');
        // Pages, not rows: a walk of an index by a column after its first counts only the rows that
        // match. Asking each of the 5,000 projects read 79 (deliveries_endpoint walked whole), this 10.
        const pages = Number(plan['Shared Hit Blocks']) + Number(plan['Shared Read Blocks']);
        assert.ok(pages <= 30, `the plan read ${pages} pages`);
        const found = await client.query(CALLBACK_PROJECTS_SQL, [T0 + 600_000]);
        assert.deepEqual(
          found.rows.map((r) => r.id),
          [due],
        );
      } finally {
        await client.query('ROLLBACK');
      }
    } finally {
      await client.end();
      await store.close();
    }
  });

  test('claims from several processes at once never hand out a delivery twice', async () => {
    const stores = await processes(3);
    try {
      const { project } = await projectWithEndpoints(stores[0]!, 3);
      await stores[0]!.acceptEvents(
        project.id,
        Array.from({ length: 100 }, () => eventInput('a')),
        T0,
      );
      const seen: string[] = [];
      await Promise.all(
        stores.map(async (s, i) => {
          for (;;) {
            const batch = await s.claimDueDeliveries({
              limit: 7,
              leaseMs: 60 * SECOND,
              now: T0,
              workerId: `w${i}`,
            });
            if (batch.length === 0) return;
            seen.push(...batch.map((c) => c.delivery.id));
          }
        }),
      );
      assert.equal(seen.length, 300);
      assert.equal(new Set(seen).size, 300);
    } finally {
      await closeAll(stores);
    }
  });

  test('backlog: deliveries an older version wrote (no due_since, or a retry it scheduled) are read from their due time', async () => {
    await withStoreAndClient(async (store, client) => {
      const { project } = await projectWithEndpoints(store, 2);
      await store.acceptEvents(project.id, [eventInput('a')], T0 + 5);
      // Created by an older process: no due_since.
      await client.query("UPDATE deliveries SET due_since = NULL WHERE status = 'pending'");
      assert.equal((await store.backlog(T0 + SECOND)).oldestDueAt, T0 + 5, 'created without due_since');
      // A retry an older process scheduled: its attempt recorded at T0 + 10, next due at T0 + 60 s,
      // due_since left at T0 + 5. Not late before T0 + 60 s; late since then after.
      await client.query(
        "UPDATE deliveries SET due_since = $1, attempts = 1, last_attempt_at = $2, next_attempt_at = $3 WHERE status = 'pending'",
        [T0 + 5, T0 + 10, T0 + 60 * SECOND],
      );
      assert.equal((await store.backlog(T0 + 30 * SECOND)).oldestDueAt, null, 'a retry not due yet');
      assert.equal((await store.backlog(T0 + 90 * SECOND)).oldestDueAt, T0 + 60 * SECOND, 'a retry due');
    });
  });

  test('backlog: a hand-back under a rate limit, or a resume, by an older version does not read late since creation', async () => {
    await withStoreAndClient(async (store, client) => {
      const { project } = await projectWithEndpoints(store, 1);
      const [a, b] = await store.acceptEvents(project.id, [eventInput('a'), eventInput('b')], T0 + 5);
      const limited = a!.deliveries[0]!.id;
      const parked = b!.deliveries[0]!.id;
      // Both claimed by an older process; one of them put off an hour by its endpoint's rate limit
      // (its hand-back, which sets no due_since), the other parked (the endpoint was disabled).
      const claimed = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: SECOND,
        now: T0 + 10,
        workerId: 'old',
      });
      assert.equal(claimed.length, 2);
      await client.query(
        'UPDATE deliveries SET next_attempt_at = $1, leased_by = NULL, rate_deferred = true WHERE id = $2',
        [T0 + HOUR, limited],
      );
      await client.query(
        "UPDATE deliveries SET status = 'parked', leased_by = NULL, updated_at = $1 WHERE id = $2",
        [T0 + 20, parked],
      );
      assert.equal((await store.backlog(T0 + 30 * SECOND)).oldestDueAt, null, 'waiting for its rate limit');
      // The endpoint enabled on an older process: resumed, due from then (the resume's time).
      await client.query(
        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, leased_by = NULL, updated_at = $1 WHERE id = $2",
        [T0 + 40 * SECOND, parked],
      );
      assert.equal((await store.backlog(T0 + 50 * SECOND)).oldestDueAt, T0 + 40 * SECOND, 'resumed');
      assert.equal((await store.backlog(T0 + 2 * HOUR)).oldestDueAt, T0 + 40 * SECOND);
      await client.query("UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL WHERE id = $1", [
        parked,
      ]);
      assert.equal(
        (await store.backlog(T0 + 2 * HOUR)).oldestDueAt,
        T0 + HOUR,
        'due when its limit let it go',
      );
    });
  });

  test('backlog: a retry whose time came before its record was written still reads late after a hand-back', async () => {
    await withStoreAndClient(async (store, client) => {
      const { project } = await projectWithEndpoints(store, 1);
      await store.acceptEvents(project.id, [eventInput('a')], T0 + 5);
      const claim = (now: number) =>
        store.claimDueDeliveries({ limit: 10, leaseMs: SECOND, now, workerId: 'w' });
      const [sent] = await claim(T0 + 10);
      // A retry step of 50 ms (a schedule may have one), its record written 200 ms after the attempt.
      const retry = attemptRecord(sent!.delivery, sent!.event, {
        outcome: 'failed',
        status: 'pending',
        nextAttemptAt: T0 + 100,
        startedAt: T0 + 20,
        workerId: 'w',
      });
      await store.recordAttempts([retry], { now: T0 + 250, failureThreshold: 10 });
      // Claimed and handed back unsent (a stop, a proxy failure), again and again: late all along.
      for (let round = 1; round <= 3; round++) {
        const at = T0 + round * 10 * SECOND;
        const [again] = await claim(at);
        assert.ok(again, `claimed in round ${round}`);
        await store.releaseDeliveries([
          { projectId: project.id, deliveryId: again.delivery.id, nextAttemptAt: at + SECOND, heldBy: 'w' },
        ]);
        const oldest = (await store.backlog(at + 1)).oldestDueAt;
        assert.ok(oldest !== null && oldest <= T0 + 250, `round ${round}: late since ${oldest}`);
      }
      assert.equal(
        (await client.query("SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'")).rows[0].n,
        1,
      );
    });
  });

  test('idempotency keys hold across processes: one event per key', async () => {
    const stores = await processes(3);
    try {
      const { project } = await projectWithEndpoints(stores[0]!, 1);
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          stores[i % 3]!.acceptEvents(project.id, [eventInput('a', { idempotencyKey: `k${i % 10}` })], T0),
        ),
      );
      const created = results.filter(([r]) => r && !r.duplicate);
      assert.equal(created.length, 10);
      const byKey = new Map<string, Set<string>>();
      for (const [r] of results) {
        const set = byKey.get(r!.event.idempotencyKey!) ?? new Set();
        set.add(r!.event.id);
        byKey.set(r!.event.idempotencyKey!, set);
      }
      assert.ok(
        [...byKey.values()].every((s) => s.size === 1),
        'every call of a key sees the same event',
      );
      assert.equal((await stores[1]!.backlog(T0)).pending, 10);
    } finally {
      await closeAll(stores);
    }
  });

  test('idempotency keys hold across processes on a database whose default isolation is stricter', async () => {
    // An operator may set default_transaction_isolation (ALTER DATABASE/ROLE … SET) to repeatable
    // read or serializable: the accepts of one key at once then failed with 40001 (answered 503 to
    // every request of their group) instead of waiting for the first and answering its event.
    for (const level of ['repeatable read', 'serializable']) {
      const url = await server.createDatabase();
      const admin = new pg.Client(url);
      await admin.connect();
      await admin.query(
        `ALTER DATABASE ${new URL(url).pathname.slice(1)} SET default_transaction_isolation = '${level}'`,
      );
      await admin.end();
      const stores = await processes(3, url);
      try {
        const { project } = await projectWithEndpoints(stores[0]!, 1);
        const results = await Promise.allSettled(
          Array.from({ length: 60 }, (_, i) =>
            stores[i % 3]!.acceptEvents(project.id, [eventInput('a', { idempotencyKey: `k${i % 10}` })], T0),
          ),
        );
        const refused = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
        assert.deepEqual(refused, [], level);
        const created = results.filter((r) => r.status === 'fulfilled' && !r.value[0]!.duplicate);
        assert.equal(created.length, 10, level);
      } finally {
        await closeAll(stores);
      }
    }
  });

  test('failure counting is atomic across processes', async () => {
    const stores = await processes(2);
    try {
      const { project, endpoints } = await projectWithEndpoints(stores[0]!, 1);
      await stores[0]!.acceptEvents(
        project.id,
        Array.from({ length: 40 }, () => eventInput('a')),
        T0,
      );
      const claims = await stores[0]!.claimDueDeliveries({
        limit: 40,
        leaseMs: 60 * SECOND,
        now: T0,
        workerId: 'w',
      });
      assert.equal(claims.length, 40);
      await Promise.all(
        claims.map((c, i) =>
          stores[i % 2]!.recordAttempts(
            [attemptRecord(c.delivery, c.event, { outcome: 'failed', status: 'failed' })],
            { now: T0 + 1, failureThreshold: 1000 },
          ),
        ),
      );
      assert.equal((await stores[1]!.getEndpoint(project.id, endpoints[0]!.id))?.consecutiveFailures, 40);
    } finally {
      await closeAll(stores);
    }
  });

  test("successes for an endpoint whose count is 0 do not wait for another worker's records of it; a count to reset does", async () =>
    withStoreAndClient(async (store, locker) => {
      const { project, endpoints } = await projectWithEndpoints(store, 1);
      const endpoint = endpoints[0]!;
      await store.acceptEvents(project.id, [eventInput('a'), eventInput('a'), eventInput('a')], T0);
      const claims = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: T0,
        workerId: 'w1',
      });
      assert.equal(claims.length, 3);
      const options = { now: T0 + 1, failureThreshold: 10 };
      // Another worker's batch of records holds the endpoint's row (FOR NO KEY UPDATE), left open.
      const hold = async () => {
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM endpoints WHERE project_id = $1 AND id = $2 FOR NO KEY UPDATE', [
          project.id,
          endpoint.id,
        ]);
      };
      const within = (p: Promise<unknown>, ms: number) =>
        Promise.race([
          p.then(() => 'recorded'),
          new Promise((r) => setTimeout(() => r('still waiting'), ms)),
        ]);
      await hold();
      const first = store.recordAttempts([attemptRecord(claims[0]!.delivery, claims[0]!.event)], options);
      assert.equal(await within(first, 3_000), 'recorded', 'a success on a count of 0 commits at once');
      await locker.query('ROLLBACK');
      // A failure (count 1), then a success while the row is held: it resets the count, so it waits.
      await store.recordAttempts(
        [attemptRecord(claims[1]!.delivery, claims[1]!.event, { outcome: 'failed' })],
        options,
      );
      assert.equal((await store.getEndpoint(project.id, endpoint.id))?.consecutiveFailures, 1);
      await hold();
      const second = store.recordAttempts([attemptRecord(claims[2]!.delivery, claims[2]!.event)], options);
      assert.equal(await within(second, 500), 'still waiting');
      await locker.query('ROLLBACK');
      await second;
      assert.equal((await store.getEndpoint(project.id, endpoint.id))?.consecutiveFailures, 0);
      const { rows } = await locker.query('SELECT status FROM deliveries WHERE project_id = $1 ORDER BY id', [
        project.id,
      ]);
      assert.deepEqual(rows.map((r) => r.status).sort(), ['pending', 'succeeded', 'succeeded']);
    }));

  test('releaseClaims releases only that worker’s claims', async () => {
    const [store] = await processes(1);
    try {
      const { project } = await projectWithEndpoints(store!, 4);
      await store!.acceptEvents(project.id, [eventInput('a')], T0);
      await store!.claimDueDeliveries({ limit: 1, leaseMs: 60 * SECOND, now: T0, workerId: 'a' });
      await store!.claimDueDeliveries({ limit: 3, leaseMs: 60 * SECOND, now: T0, workerId: 'b' });
      assert.equal(await store!.releaseClaims('a', T0 + 1), 1);
      assert.equal(await store!.releaseClaims('a', T0 + 1), 0);
      const again = await store!.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0 + 1, workerId: 'c' });
      assert.equal(again.length, 1);
      assert.equal(await store!.releaseClaims('*', T0 + 2), 4);
    } finally {
      await store!.close();
    }
  });

  test("deleteProject goes in chunks: a record of one of the project's attempts does not wait for the whole delete", async () =>
    withStoreAndClient(async (store, locker) => {
      const { project } = await projectWithEndpoints(store, 1);
      const [accepted] = await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0);
      const claims = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: T0,
        workerId: 'w',
      });
      assert.equal(claims.length, 2);
      // Another transaction holds one of the project's events, so the delete stops at the events:
      // by then the attempts and deliveries are gone.
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM events WHERE project_id = $1 AND id = $2 FOR UPDATE', [
        project.id,
        accepted!.event.id,
      ]);
      const deleting = store.deleteProject(project.id);
      for (let i = 0; ; i++) {
        const waiting = await locker.query(
          "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (waiting.rowCount) break;
        assert.ok(i < 500, 'the delete reaches the held event');
        await new Promise((r) => setTimeout(r, 10));
      }
      // In one transaction the delivery rows stayed locked until the end: this record waited.
      const recorded = store
        .recordAttempts([attemptRecord(claims[0]!.delivery, claims[0]!.event)], {
          now: T0 + 1,
          failureThreshold: 10,
        })
        .then(() => 'recorded');
      const timeout = new Promise((r) => setTimeout(() => r('still waiting'), 3_000));
      assert.equal(await Promise.race([recorded, timeout]), 'recorded');
      await locker.query('ROLLBACK');
      assert.equal(await deleting, true);
      assert.equal(await store.getProject(project.id), null);
      const left = await locker.query('SELECT count(*)::int AS n FROM attempts WHERE project_id = $1', [
        project.id,
      ]);
      assert.equal(left.rows[0].n, 0, 'no orphan attempt');
    }));

  test('a retry committed while retention purges its event keeps the whole event: none of its deliveries go', async () =>
    withStoreAndClient(async (store, locker) => {
      const { project } = await projectWithEndpoints(store, 2);
      const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
      const claims = await store.claimDueDeliveries({
        limit: 10,
        leaseMs: 60 * SECOND,
        now: T0,
        workerId: 'w',
      });
      await store.recordAttempts(
        claims.map((c) => attemptRecord(c.delivery, c.event)),
        { now: T0, failureThreshold: 10 },
      );
      const [retried, sibling] = accepted!.deliveries;
      assert.ok(retried && sibling);
      const later = T0 + 2 * DAY;
      const waiting = async (n: number, what: string) => {
        for (let i = 0; ; i++) {
          // Inside its transaction the locker would read the same pg_stat_activity each time.
          await locker.query('SELECT pg_stat_clear_snapshot()');
          const { rowCount } = await locker.query(
            `SELECT 1 FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
          );
          if (rowCount === n) return;
          assert.ok(i < 500, what);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      // The retry waits for a lock another transaction holds on its delivery; the purge, which reads
      // the event as finished, reaches that delivery after it and waits behind it.
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM deliveries WHERE project_id = $1 AND id = $2 FOR UPDATE', [
        project.id,
        retried.id,
      ]);
      const retry = store.retryDelivery(project.id, retried.id, later);
      await waiting(1, 'the retry waits');
      const purge = store.purgeBefore(project.id, T0 + DAY, 100);
      await waiting(2, 'the purge waits behind the retry');
      await locker.query('COMMIT');
      assert.equal(((await retry) as { status?: string }).status, 'pending');
      const result = await purge;
      assert.deepEqual([result.events, result.deliveries], [0, 0], 'nothing of the event purged');
      const event = await store.getEvent(project.id, accepted!.event.id);
      assert.deepEqual(
        event?.deliveries.map((d) => [d.id, d.status]).sort(),
        [
          [retried.id, 'pending'],
          [sibling.id, 'succeeded'],
        ].sort(),
      );
    }));

  test('purgeBefore bounds a batch by rows: events with many deliveries and attempts go over several batches, each event whole', async () =>
    withStoreAndClient(async (store, db) => {
      const { project } = await projectWithEndpoints(store, 0);
      const old = T0 - 40 * DAY;
      const cutoff = T0 - 30 * DAY;
      const fanOut = 400;
      const perDelivery = 5;
      const wide = PURGE_BATCH_ROWS + 2_000; // one event fanned out to more endpoints than a batch's rows
      // 10 events to `fanOut` endpoints and one, in their midst, to `wide`; every delivery finished
      // long ago with `perDelivery` attempts (as a history filled by an import, or grown over a month).
      await db.query(
        `INSERT INTO events (project_id, id, type, payload, created_at, delivery_count)
         SELECT $1, 'evt_' || lpad(i::text, 3, '0'), 'a', '{}', $2::bigint + i, CASE WHEN i = 5 THEN $4::int ELSE $3::int END
         FROM generate_series(1, 11) i`,
        [project.id, old, fanOut, wide],
      );
      await db.query(
        `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, created_at, updated_at)
         SELECT e.project_id, 'dlv_' || e.id || '_' || lpad(k::text, 6, '0'), e.id, NULL, 'http://127.0.0.1:9/w',
           'succeeded', $2, e.created_at, e.created_at
         FROM events e CROSS JOIN LATERAL generate_series(1, e.delivery_count) k WHERE e.project_id = $1`,
        [project.id, perDelivery],
      );
      await db.query(
        `INSERT INTO attempts (project_id, id, delivery_id, event_id, endpoint_id, event_type, number, started_at, duration_ms, outcome, request)
         SELECT d.project_id, 'att_' || d.id || '_' || k, d.id, d.event_id, NULL, 'a', k, d.created_at + k, 1, 'succeeded', '{}'
         FROM deliveries d CROSS JOIN generate_series(1, $2) k WHERE d.project_id = $1`,
        [project.id, perDelivery],
      );
      const count = async (table: string) =>
        (await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1`, [project.id]))
          .rows[0].n as number;
      const deliveriesTotal = await count('deliveries');
      const attemptsTotal = await count('attempts');
      assert.equal(deliveriesTotal, 10 * fanOut + wide);
      assert.equal(attemptsTotal, deliveriesTotal * perDelivery);
      const totals = { events: 0, deliveries: 0, attempts: 0 };
      let next: string | null = null;
      let calls = 0;
      do {
        const r = await store.purgeBefore(project.id, cutoff, 1000, next);
        calls++;
        // Each batch deletes at most a batch's rows, but for the deliveries of one event (all in
        // the same transaction): without the bound, the first took all 11 events, 96,000 rows.
        assert.ok(r.attempts <= PURGE_BATCH_ROWS, `call ${calls}: ${r.attempts} attempts`);
        assert.ok(
          r.deliveries <= Math.max(PURGE_BATCH_ROWS, wide),
          `call ${calls}: ${r.deliveries} deliveries`,
        );
        assert.ok(r.attempts + r.deliveries > 0, `call ${calls} deleted nothing`);
        // The wide event is there with all its deliveries, or gone with them.
        const left = await db.query(
          `SELECT (SELECT count(*)::int FROM deliveries WHERE project_id = $1 AND event_id = 'evt_005') AS n,
             EXISTS (SELECT 1 FROM events WHERE project_id = $1 AND id = 'evt_005') AS there`,
          [project.id],
        );
        assert.equal(left.rows[0].n, left.rows[0].there ? wide : 0);
        totals.events += r.events;
        totals.deliveries += r.deliveries;
        totals.attempts += r.attempts;
        next = r.next;
      } while (next !== null && calls < 1000);
      assert.deepEqual(totals, { events: 11, deliveries: deliveriesTotal, attempts: attemptsTotal });
      assert.deepEqual(
        [await count('events'), await count('deliveries'), await count('attempts')],
        [0, 0, 0],
      );
      assert.ok(calls >= attemptsTotal / PURGE_BATCH_ROWS, `${calls} calls`);
    }));

  test('deleteProject takes a project of many chunks whole, and leaves its neighbour alone', async () =>
    withStoreAndClient(async (store, sql) => {
      const gone = await projectWithEndpoints(store, 1);
      const kept = await projectWithEndpoints(store, 1);
      // 12,345 events with a delivery and an attempt each (over two chunks of 5,000 and a rest).
      for (const [project, n] of [
        [gone.project.id, 12_345],
        [kept.project.id, 10],
      ] as const) {
        await sql.query(
          `INSERT INTO events (project_id, id, type, payload, created_at)
           SELECT $1, 'evt_' || $1 || lpad(i::text, 6, '0'), 't', '{}', 0 FROM generate_series(1, $2::int) i`,
          [project, n],
        );
        await sql.query(
          `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, created_at, updated_at)
           SELECT project_id, 'dlv_' || substr(id, 5), id, NULL, 'http://127.0.0.1:9/', 'succeeded', 0, 0
           FROM events WHERE project_id = $1`,
          [project],
        );
        await sql.query(
          `INSERT INTO attempts (project_id, id, delivery_id, event_id, event_type, number, started_at, duration_ms, outcome, request)
           SELECT project_id, 'att_' || substr(id, 5), 'dlv_' || substr(id, 5), id, 't', 1, 0, 1, 'succeeded', '{}'
           FROM events WHERE project_id = $1`,
          [project],
        );
      }
      assert.equal(await store.deleteProject(gone.project.id), true);
      const count = async (project: string) =>
        (
          await sql.query(
            `SELECT (SELECT count(*) FROM events WHERE project_id = $1)
               + (SELECT count(*) FROM deliveries WHERE project_id = $1)
               + (SELECT count(*) FROM attempts WHERE project_id = $1) AS n`,
            [project],
          )
        ).rows[0].n;
      assert.equal(Number(await count(gone.project.id)), 0);
      assert.equal(Number(await count(kept.project.id)), 30);
      assert.equal(await store.getProject(gone.project.id), null);
    }));

  test('a burst of acceptEvents and recordAttempts shares one transaction', async () => {
    const [store] = await processes(1);
    try {
      const { project } = await projectWithEndpoints(store!, 2);
      await store!.acceptEvents(project.id, [eventInput('a')], T0);
      const claims = await store!.claimDueDeliveries({ limit: 10, leaseMs: 1000, now: T0, workerId: 'w' });
      const before = store!.groupCommits;
      const results = await Promise.allSettled([
        ...Array.from({ length: 50 }, (_, i) =>
          store!.acceptEvents(project.id, [eventInput('a', { payload: i })], T0),
        ),
        ...claims.map((c) =>
          store!.recordAttempts([attemptRecord(c.delivery, c.event)], { now: T0, failureThreshold: 5 }),
        ),
      ]);
      assert.ok(results.every((r) => r.status === 'fulfilled'));
      assert.equal(store!.groupCommits - before, 1, '52 calls, one commit');
    } finally {
      await store!.close();
    }
  });

  test('a failing call in a group rejects alone', async () => {
    const [store] = await processes(1);
    try {
      const { project } = await projectWithEndpoints(store!, 1);
      // A NUL character cannot be stored in PostgreSQL text: that call fails, its neighbours land.
      const results = await Promise.allSettled([
        store!.acceptEvents(project.id, [eventInput('a')], T0),
        store!.acceptEvents(project.id, [eventInput('bad\u0000type')], T0),
        store!.acceptEvents(project.id, [eventInput('b')], T0),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal((await store!.listEvents(project.id, { limit: 10 })).data.length, 2);
    } finally {
      await store!.close();
    }
  });

  test('NOTIFY wakes the dispatchers of other processes', async () => {
    const [a, b] = await processes(2);
    try {
      const { project } = await projectWithEndpoints(a!, 1);
      let woken = 0;
      const wokenOnce = new Promise<void>((resolve) => {
        b!.subscribeDue(() => {
          woken++;
          resolve();
        });
      });
      await b!.listening();
      await a!.acceptEvents(project.id, [eventInput('a')], T0);
      await wokenOnce;
      assert.ok(woken >= 1);
    } finally {
      await closeAll([a!, b!]);
    }
  });
});

describe('postgres restart', () => {
  test('a PostgreSQL restart fails calls without crashing; they succeed again, LISTEN reconnects', async () => {
    const local = await startPostgres();
    const url = await local.createDatabase();
    const [a, b] = await processes(2, url);
    try {
      const { project } = await projectWithEndpoints(a!, 1);
      let woken = 0;
      b!.subscribeDue(() => woken++);
      await b!.listening();
      // Writes in flight while the server goes away: they may fail, they must not crash the process.
      let writing = true;
      const background = (async () => {
        let failures = 0;
        while (writing) {
          await a!.acceptEvents(project.id, [eventInput('a'), eventInput('b')], T0).catch(() => failures++);
        }
        return failures;
      })();
      await new Promise((r) => setTimeout(r, 100));
      await local.down();
      await assert.rejects(a!.ping(), 'calls fail while the server is down');
      await assert.rejects(a!.acceptEvents(project.id, [eventInput('a')], T0));
      await new Promise((r) => setTimeout(r, 200));
      await local.up();
      writing = false;
      assert.ok((await background) > 0, 'writes failed while the server was down');
      // Idle pooled connections were cut; the first calls may fail, none may crash the process.
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await a!.ping().then(
          () => true,
          () => false,
        );
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ok, 'the store answers again after the restart');
      const [accepted] = await a!.acceptEvents(project.id, [eventInput('a')], T0);
      assert.equal(accepted?.deliveries.length, 1);
      await b!.listening();
      const before = woken;
      await a!.acceptEvents(project.id, [eventInput('a')], T0);
      for (let i = 0; i < 50 && woken === before; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(woken > before, 'the LISTEN connection came back');
    } finally {
      await closeAll([a!, b!]);
      await local.stop();
    }
  });
});

/**
 * A fresh database with a project of `n` endpoints and one accepted event (a delivery to each), and
 * a plain client on it for rows no ANALYZE has seen; both closed after `fn`.
 */
async function withUnanalysed(
  n: number,
  fn: (client: pg.Client, event: HeraldEvent, endpoints: Endpoint[]) => Promise<void>,
): Promise<void> {
  const url = await migratedDatabase();
  const store = await openStore(url);
  const client = new pg.Client({ connectionString: url });
  try {
    const { project, endpoints } = await projectWithEndpoints(store, n);
    const [accepted] = await store.acceptEvents(project.id, [eventInput('a')], T0);
    await client.connect();
    await fn(client, accepted!.event, endpoints);
  } finally {
    await client.end();
    await store.close();
  }
}

/**
 * EXPLAIN ANALYZE of a claim's pick under CLAIM_PLANNER_SETTINGS, rolled back. `params` are $1 and
 * $4 on: $2 and $3 belong to the UPDATE around the pick and are given a type here.
 */
async function explainPick(
  client: pg.Client,
  pick: string,
  [now, ...rest]: unknown[],
): Promise<Record<string, unknown>> {
  await client.query('BEGIN');
  try {
    await client.query(CLAIM_PLANNER_SETTINGS);
    const sql = `EXPLAIN (ANALYZE, FORMAT JSON) SELECT p.* FROM (${pick}) p, (SELECT $2::bigint, $3::text) u`;
    const { rows } = await client.query(sql, [now, null, null, ...rest]);
    return rows[0]['QUERY PLAN'][0].Plan;
  } finally {
    await client.query('ROLLBACK');
  }
}

/** A probe round over `endpointIds` at T0 + 10 min: a share of 64 each, at most 200 rows in all. */
function explainProbeRound(client: pg.Client, projectId: string, endpointIds: string[]) {
  return explainPick(client, PROBE_ROUND_PICK, [
    T0 + 600_000,
    endpointIds.map(() => projectId),
    endpointIds,
    endpointIds.map(() => 64),
    200,
  ]);
}

/** Due deliveries `from`..`from + count - 1` of one endpoint, due at T0 + n, in one statement. */
function insertDue(client: pg.Client, event: HeraldEvent, endpointId: string, from: number, count: number) {
  return client.query(
    `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT $1, 'dlv_' || lpad(g::text, 20, '0'), $2, $3, 'http://127.0.0.1:9/x', 'pending', 0, $4::bigint + g, $4::bigint, $4::bigint
     FROM generate_series($5::int, $5::int + $6::int - 1) g`,
    [event.projectId, event.id, endpointId, T0, from, count],
  );
}

/** The first node of an EXPLAIN (FORMAT JSON) plan of this type, depth first. */
function planNode(node: Record<string, unknown>, type: string): Record<string, unknown> | undefined {
  if (node['Node Type'] === type) return node;
  for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) {
    const found = planNode(child, type);
    if (found) return found;
  }
  return undefined;
}

/** The most rows any node of an EXPLAIN (ANALYZE, FORMAT JSON) plan read: returned × loops + filtered out. */
function mostRowsRead(node: Record<string, unknown>): number {
  const own =
    Number(node['Actual Rows'] ?? 0) * Number(node['Actual Loops'] ?? 1) +
    Number(node['Rows Removed by Filter'] ?? 0);
  const children = (node.Plans as Record<string, unknown>[] | undefined) ?? [];
  return Math.max(own, ...children.map(mostRowsRead));
}
