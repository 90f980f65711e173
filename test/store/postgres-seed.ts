/**
 * A PostgreSQL database of a production's shape, for judging query plans (postgres-query-plans):
 * seeded in SQL (generate_series, a few seconds) and analysed.
 */
import type pg from 'pg';
import { T0 } from './helpers.ts';

const DAY = 86_400_000;
/**
 * A time-ordered id as ids.ts makes them (prefix, 10 base-32 characters of t, 16 more). One
 * expression, not a subquery aggregating ten rows per id: 0.4 s of the server's CPU for the 200,000
 * ids, not 0.9-1 s.
 */
const TIME_ID = `${Array.from(
  { length: 10 },
  (_, k) => `substr('0123456789abcdefghjkmnpqrstvwxyz', ((t >> ${5 * (9 - k)}) & 31)::int + 1, 1)`,
).join(' || ')} || lpad(g::text, 16, '0')`;

/**
 * A production's shape: 50 projects of 10 endpoints; 200,000 events over 30 days around T0, half of
 * them the first project's and a fifth the second's (the rest shared by 48), each with one delivery
 * (90% succeeded, 4% pending, 4% failed, 2% parked) and one attempt per delivery tried; an
 * idempotency key for every other event, an operational event per 10.
 */
export async function seedProduction(client: pg.Client): Promise<void> {
  const events = 200_000;
  const from = T0 - 20 * DAY;
  const step = Math.floor((30 * DAY) / events);
  await client.query(
    `INSERT INTO projects (id, project_id, name, created_at, updated_at)
     SELECT 'prj_seed' || lpad(p::text, 2, '0'), 'prj_seed' || lpad(p::text, 2, '0'), 'p' || p, $1::bigint, $1::bigint
     FROM generate_series(1, 50) p`,
    [from],
  );
  await client.query(
    `INSERT INTO endpoints (project_id, id, url, event_types, headers, timeout_ms, signature, created_at, updated_at)
     SELECT 'prj_seed' || lpad(p::text, 2, '0'), 'ep_seed' || lpad(p::text, 2, '0') || '_' || e,
       'http://127.0.0.1:9/' || e, '["*"]', '{}', 10000, '{}', $1::bigint, $1::bigint
     FROM generate_series(1, 50) p, generate_series(0, 9) e`,
    [from],
  );
  // g's project: 1 for half, 2 for a fifth, 3..50 for the rest; its endpoint: mostly the first ones.
  await client.query(
    `CREATE TEMP TABLE seed AS
     SELECT g, t, 'prj_seed' || lpad(p::text, 2, '0') AS project_id,
       'ep_seed' || lpad(p::text, 2, '0') || '_' || ((g * 7) % 10 * (g % 3) / 2) AS endpoint_id,
       ${TIME_ID} AS tid,
       CASE WHEN (g / 10) % 50 < 45 THEN 'succeeded' WHEN (g / 10) % 50 < 47 THEN 'pending' WHEN (g / 10) % 50 < 49 THEN 'failed'
         ELSE 'parked' END AS status
     FROM (SELECT g, $1::bigint + g * $2::bigint AS t,
             CASE WHEN g % 10 < 5 THEN 1 WHEN g % 10 < 7 THEN 2 ELSE 3 + g % 48 END AS p
           FROM generate_series(1, $3::int) g) s`,
    [from, step, events],
  );
  await client.query(
    `INSERT INTO events (project_id, id, type, payload, idempotency_key, created_at, delivery_count)
     SELECT project_id, 'evt_' || tid, 'order.' || (g % 7), '{"n":1}', CASE WHEN g % 2 = 0 THEN 'k' || g END, t, 1
     FROM seed`,
  );
  await client.query(
    `INSERT INTO idempotency_keys (project_id, key, event_id, expires_at)
     SELECT project_id, 'k' || g, 'evt_' || tid, t + ${DAY} FROM seed WHERE g % 2 = 0`,
  );
  await client.query(
    `INSERT INTO deliveries (project_id, id, event_id, endpoint_id, url, status, attempts, next_attempt_at,
       last_attempt_at, created_at, updated_at, due_since)
     SELECT project_id, 'dlv_' || tid, 'evt_' || tid, endpoint_id, 'http://127.0.0.1:9/x', status,
       CASE WHEN status = 'pending' AND g % 4 = 0 THEN 0 ELSE 1 END,
       CASE WHEN status = 'pending' THEN t + 60000 END, t, t, t, CASE WHEN status = 'pending' THEN t END
     FROM seed`,
  );
  await client.query(
    `INSERT INTO attempts (project_id, id, delivery_id, event_id, endpoint_id, event_type, number, started_at,
       duration_ms, outcome, request)
     SELECT project_id, 'att_' || tid, 'dlv_' || tid, 'evt_' || tid, endpoint_id, 'order.' || (g % 7), 1, t,
       g % 997, CASE WHEN status = 'succeeded' THEN 'succeeded' ELSE 'failed' END, '{}'
     FROM seed WHERE NOT (status = 'pending' AND g % 4 = 0)`,
  );
  await client.query(
    `INSERT INTO operational_events (project_id, id, type, data, created_at, forwarded_at)
     SELECT project_id, 'op_' || tid, 'endpoint.disabled', '{}', t, CASE WHEN g % 10000 <> 0 THEN t END
     FROM seed WHERE g % 10 = 0`,
  );
  await client.query('DROP TABLE seed');
  // As autovacuum leaves a table that mostly grows: its visibility map set, so index-only scans pay no heap visits.
  await client.query('VACUUM ANALYZE');
}

/** Seeded tenants, each with its busiest endpoint: the largest (half the rows), and one of the 48 small. */
export const TENANTS = {
  large: { project: 'prj_seed01', endpoint: 'ep_seed01_0' },
  small: { project: 'prj_seed07', endpoint: 'ep_seed07_0' },
} as const;
