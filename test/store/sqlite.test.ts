import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { WINDOW_SKIP_MS } from '../../src/store/claim-limits.ts';
import { newTurnCursor, type TurnList, turnListOf } from '../../src/store/claim-turns.ts';
import { FanOutCache } from '../../src/store/fan-out-cache.ts';
import { openStore } from '../../src/store/open-store.ts';
import { parkBatch } from '../../src/store/park-batch.ts';
import { acceptEventsSqlite } from '../../src/store/sqlite/accept-events.ts';
import { CHECKPOINT_EVERY_MS } from '../../src/store/sqlite/checkpoint-after-commit.ts';
import {
  CALLBACK_PROBE_SQL,
  CALLBACK_PROJECTS_SQL,
  DUE_ENDPOINTS_SQL,
  ENDPOINT_CHANGES_KEPT,
  ENDPOINT_PROBE_SQL,
  claimDue as leaseDue,
  PROJECT_CALLBACK_PROBE_SQL,
  type ProbeCursor,
  withEvents,
} from '../../src/store/sqlite/claims.ts';
import { RECOVER_SCAN_SQL } from '../../src/store/sqlite/due-deliveries.ts';
import { BACKLOG_COUNT_SQL, endpointDeliveryPageQuery } from '../../src/store/sqlite/endpoint-deliveries.ts';
import { eventDeliveryPageQuery } from '../../src/store/sqlite/event-deliveries.ts';
import { GroupCommit } from '../../src/store/sqlite/group-commit.ts';
import {
  BUCKET_STEP_END,
  BUCKET_STEP_SQL,
  ENDPOINT_STATS_SQL,
  eventPageQuery,
  listAttemptsSqlite,
  listEventsSqlite,
  STATS_STEP_END,
} from '../../src/store/sqlite/history-reads.ts';
import { migrateSqlite } from '../../src/store/sqlite/migrate.ts';
import { openDatabaseSqlite, WAL_SIZE_LIMIT_BYTES } from '../../src/store/sqlite/open-database.ts';
import { DELIVERED_SQL } from '../../src/store/sqlite/replay-missing.ts';
import { PURGE_CHUNK, PURGE_CHUNK_ROWS, purgeBeforeSqlite } from '../../src/store/sqlite/retention.ts';
import { attemptRecord, endpointInput, eventInput, projectWithEndpoints, T0 } from './helpers.ts';
import { defineKeyRotationTest } from './key-rotation.ts';
import { defineSqlitePlanGuard } from './sqlite-query-plans.ts';
import { defineStoreSuite } from './store-suite.ts';
import { holdWriteLock, turns } from './write-lock-holder.ts';

/** A claim and the read of its events, as the store runs them (the read after the commit). */
const claimDue = (...args: Parameters<typeof leaseDue>) => withEvents(args[0], leaseDue(...args));

const execFileAsync = promisify(execFile);

const dir = mkdtempSync(join(tmpdir(), 'herald-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// A fresh database file per test: the suite needs an empty store each time.
defineStoreSuite(
  'sqlite',
  () => openStore(`sqlite:${join(dir, `t${++n}`, 'herald.db')}`),
  () => openStore(`sqlite:${join(dir, `t${n}`, 'herald.db')}`),
);
// Judges the plans of every statement the suite above ran (sqlite-query-plans.ts).
defineSqlitePlanGuard(dir);

describe('sqlite specifics', () => {
  defineKeyRotationTest('sqlite', async () => `sqlite:${join(dir, `rotation${++n}`, 'herald.db')}`);

  test('openStore creates the directory, migrates once, reopens the same data', async () => {
    const url = `sqlite:${join(dir, 'reopen', 'nested', 'h.db')}`;
    const a = await openStore(url);
    const p = await a.createProject({ name: 'kept', uid: 'kept' }, 1);
    await a.close();
    const b = await openStore(url);
    assert.equal((await b.getProject('kept'))?.id, p.id);
    await b.close();
    const raw = new DatabaseSync(url.slice('sqlite:'.length));
    const modes = raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    const migrations = raw.prepare('SELECT name FROM schema_migrations').all();
    raw.close();
    assert.equal(modes.journal_mode, 'wal');
    assert.deepEqual(
      migrations.map((m) => m.name),
      [
        '0001_init.sql',
        '0002_limits_retention.sql',
        '0003_endpoint_due_order.sql',
        '0004_callback_due.sql',
        '0005_fan_out_version.sql',
        '0006_dispatch_version.sql',
        '0007_fk_child_indexes.sql',
        '0008_failed_attempts.sql',
        '0009_events_type.sql',
        '0010_rate_deferred.sql',
        '0011_portal_links_not_before.sql',
        '0012_callback_envelope.sql',
        '0013_portal_links_generation.sql',
        '0014_project_backlog_limit.sql',
        '0015_event_delivery_count.sql',
        '0016_event_deliveries_in_id_order.sql',
        '0017_failed_deliveries_in_creation_order.sql',
        '0018_api_key_scope.sql',
        '0019_project_deleting.sql',
        '0020_due_since.sql',
        '0021_active_endpoints.sql',
        '0022_endpoint_changes.sql',
        '0023_hand_back_hold.sql',
        '0024_callback_projects.sql',
        '0025_endpoint_change_projects.sql',
        '0026_lease_until.sql',
      ],
    );
  });

  test('every foreign key has an index led by its child columns (a deleted parent never scans the child table)', async () => {
    const path = join(dir, 'fk-indexes', 'h.db');
    await (await openStore(`sqlite:${path}`)).close();
    const raw = new DatabaseSync(path);
    try {
      const tables = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all()
        .map((t) => String(t.name));
      const unindexed: string[] = [];
      let foreignKeys = 0;
      for (const table of tables) {
        const keys = new Map<number, string[]>();
        for (const fk of raw.prepare(`PRAGMA foreign_key_list(${table})`).all()) {
          const columns = keys.get(Number(fk.id)) ?? [];
          columns[Number(fk.seq)] = String(fk.from);
          keys.set(Number(fk.id), columns);
        }
        const indexes = raw
          .prepare(`PRAGMA index_list(${table})`)
          .all()
          .filter((i) => Number(i.partial) === 0)
          .map((i) =>
            raw
              .prepare(`PRAGMA index_info(${String(i.name)})`)
              .all()
              .sort((a, b) => Number(a.seqno) - Number(b.seqno))
              .map((c) => String(c.name)),
          );
        for (const columns of keys.values()) {
          foreignKeys++;
          const led = indexes.some((index) => columns.every((column, k) => index[k] === column));
          if (!led) unindexed.push(`${table} (${columns.join(', ')})`);
        }
      }
      assert.ok(foreignKeys >= 5, `found ${foreignKeys} foreign keys`);
      assert.deepEqual(unindexed, []);
    } finally {
      raw.close();
    }
  });

  test('fan-out sees endpoint changes made through another connection (triggers bump the version)', async () => {
    const url = `sqlite:${join(dir, `fanout${++n}`, 'herald.db')}`;
    const a = await openStore(url);
    const b = await openStore(url);
    try {
      const { project, endpoints } = await projectWithEndpoints(a, 2);
      const targets = async (type = 'order.created') => {
        const [accepted] = await a.acceptEvents(project.id, [eventInput(type)], T0);
        return accepted!.deliveries.map((d) => d.endpointId).sort();
      };
      const ids = endpoints.map((e) => e.id).sort();
      assert.deepEqual(await targets(), ids);
      // Each change below goes through the other connection, after `a` has its list in memory.
      const added = await b.createEndpoint(endpointInput(project.id), 'whsec_x', T0);
      assert.deepEqual(await targets(), [...ids, added.id].sort());
      await b.updateEndpoint(project.id, added.id, { eventTypes: ['user.created'] }, T0);
      assert.deepEqual(await targets(), ids);
      assert.deepEqual(await targets('user.created'), [...ids, added.id].sort());
      await b.updateEndpoint(project.id, endpoints[0]!.id, { active: false }, T0);
      assert.deepEqual(await targets(), [endpoints[1]!.id]);
      await b.enableEndpoint(project.id, endpoints[0]!.id, T0);
      assert.deepEqual(await targets(), ids);
      await b.deleteEndpoint(project.id, endpoints[1]!.id, T0);
      assert.deepEqual(await targets(), [endpoints[0]!.id]);
      // A write that fan-out does not read leaves the version alone.
      const raw = new DatabaseSync(url.slice('sqlite:'.length));
      const version = () =>
        Number(
          (
            raw.prepare('SELECT fan_out_version AS v FROM projects WHERE id = ?').get(project.id) as {
              v: number;
            }
          ).v,
        );
      const before = version();
      raw.prepare('UPDATE endpoints SET consecutive_failures = 3 WHERE id = ?').run(endpoints[0]!.id);
      assert.equal(version(), before);
      raw.prepare("UPDATE endpoints SET url = 'http://127.0.0.1:9/moved' WHERE id = ?").run(endpoints[0]!.id);
      raw.close();
      const [moved] = await a.acceptEvents(project.id, [eventInput()], T0);
      assert.equal(moved!.deliveries[0]!.url, 'http://127.0.0.1:9/moved');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a fan-out list read in a transaction that is rolled back is never cached', () => {
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    const endpoint = (id: string) =>
      db
        .prepare(
          `INSERT INTO endpoints (id, project_id, url, timeout_ms, signature, created_at, updated_at)
           VALUES (?, 'p', ?, 5000, '{"scheme":"standard"}', 0, 0)`,
        )
        .run(id, `http://127.0.0.1:9/${id}`);
    db.prepare(
      "INSERT INTO projects (id, project_id, name, created_at, updated_at) VALUES ('p', 'p', 'p', 0, 0)",
    ).run();
    endpoint('e1');
    const cache = new FanOutCache();
    const accept = () => acceptEventsSqlite(db, cache, 'p', [eventInput()], T0);
    const targets = (r: ReturnType<typeof accept>) =>
      r.accepted[0]!.deliveries.map((d) => d.endpointId).sort();
    // A transaction that adds e2 (the version moves to n + 1) and accepts, then fails as a whole.
    db.exec('BEGIN');
    endpoint('e2');
    const undone = accept();
    db.exec('ROLLBACK');
    assert.deepEqual(targets(undone), ['e1', 'e2']);
    assert.equal(cache.size, 0, 'nothing is cached before a commit');
    // Another change reaches the same version number: it must not name the rolled-back list.
    endpoint('e3');
    const next = accept();
    assert.deepEqual(targets(next), ['e1', 'e3']);
    assert.equal(next.loaded?.version, undone.loaded?.version, 'the same version, another list');
    cache.set('p', next.loaded!.version, next.loaded!.endpoints); // what the store does after the commit
    const cached = accept();
    assert.equal(cached.loaded, null, 'served from the cache');
    assert.deepEqual(targets(cached), ['e1', 'e3']);
    db.close();
  });

  test('a fan-out to more than one multi-row insert stores every delivery once', async () => {
    const store = await openStore(`sqlite:${join(dir, `fanrows${++n}`, 'herald.db')}`);
    try {
      const { project, endpoints } = await projectWithEndpoints(store, 150);
      const [accepted] = await store.acceptEvents(project.id, [eventInput()], T0);
      assert.equal(accepted!.deliveries.length, 150);
      const stored = await store.getEvent(project.id, accepted!.event.id);
      assert.deepEqual(stored!.deliveries.map((d) => d.endpointId).sort(), endpoints.map((e) => e.id).sort());
      assert.deepEqual(
        stored!.deliveries.map((d) => d.id).sort(),
        accepted!.deliveries.map((d) => d.id).sort(),
      );
    } finally {
      await store.close();
    }
  });

  test('an attempt whose body is the event envelope stores a reference, not the body again', async () => {
    const url = `sqlite:${join(dir, `bodyref${++n}`, 'herald.db')}`;
    const store = await openStore(url);
    try {
      const { project } = await projectWithEndpoints(store, 1);
      const payload = { pad: 'x'.repeat(2000) };
      await store.acceptEvents(project.id, [eventInput('a', { payload })], T0);
      const [claim] = await store.claimDueDeliveries({ limit: 1, leaseMs: 1000, now: T0, workerId: 'w' });
      const byReference = attemptRecord(claim!.delivery, claim!.event);
      byReference.attempt.request.body = `{"type":"a","timestamp":"${new Date(T0).toISOString()}","data":${claim!.payloadJson}}`;
      byReference.requestBodyEnvelope = 'standard';
      await store.recordAttempts([byReference], { now: T0, failureThreshold: 10 });
      const raw = new DatabaseSync(url.slice('sqlite:'.length));
      const stored = String(raw.prepare('SELECT request FROM attempts').get()!.request);
      raw.close();
      assert.ok(stored.length < 300, stored);
      assert.deepEqual(JSON.parse(stored), {
        method: 'POST',
        url: claim!.delivery.url,
        headers: byReference.attempt.request.headers,
        bodyEnvelope: 'standard',
      });
      const [read] = (await store.listAttempts(project.id, { limit: 1 })).data;
      assert.equal(read!.request.body, byReference.attempt.request.body);
    } finally {
      await store.close();
    }
  });

  test('deleteProject takes a large project in chunks: other writes go in between, nothing of it is left', async () => {
    const store = await openStore(`sqlite:${join(dir, 'delete-chunks', 'h.db')}`);
    try {
      const { project } = await projectWithEndpoints(store, 1);
      const other = await projectWithEndpoints(store, 1);
      for (let i = 0; i < 9; i++) {
        await store.acceptEvents(
          project.id,
          Array.from({ length: 500 }, () => eventInput('a')),
          T0,
        );
      }
      const [kept] = await store.acceptEvents(other.project.id, [eventInput('a')], T0);
      const order: string[] = [];
      const deleting = store.deleteProject(project.id).then((ok) => order.push(`deleted ${ok}`));
      // Queued once the first write of the delete is in: it must not wait for the 9,000 rows to go.
      await Promise.resolve();
      const created = store.createProject({ name: 'meanwhile' }, T0).then(() => order.push('created'));
      await Promise.all([deleting, created]);
      assert.deepEqual(order, ['created', 'deleted true']);
      assert.equal(await store.getProject(project.id), null);
      assert.equal((await store.listEvents(project.id, { limit: 10 })).data.length, 0);
      assert.ok(await store.getEvent(other.project.id, kept!.event.id));
      assert.equal((await store.backlog(T0 + 10 * 1000)).pending, 1, 'only the other project’s delivery');
    } finally {
      await store.close();
    }
  });

  test('deleteEndpoint closes a large backlog in batches: other writes go in between, none is left open', async () => {
    const path = join(dir, 'delete-endpoint-batches', 'h.db');
    const store = await openStore(`sqlite:${path}`);
    const batchRows = parkBatch.rows;
    parkBatch.rows = 100;
    try {
      const { project, endpoints } = await projectWithEndpoints(store, 3);
      const [gone, parked, kept] = endpoints;
      for (let i = 0; i < 9; i++) {
        await store.acceptEvents(
          project.id,
          Array.from({ length: 500 }, () => eventInput('a')),
          T0,
        );
      }
      // One endpoint's backlog parked (a dead endpoint disabled), then deleted with the other.
      await store.updateEndpoint(project.id, parked!.id, { active: false }, T0);
      while ((await store.backlog(T0)).pending > 9_000) await new Promise((r) => setTimeout(r, 10));
      const order: string[] = [];
      const deleting = Promise.all([
        store.deleteEndpoint(project.id, gone!.id, T0),
        store.deleteEndpoint(project.id, parked!.id, T0),
      ]).then((ok) => order.push(`deleted ${ok}`));
      // Queued once the first writes of the deletes are in: it must not wait for 9,000 rows to close.
      await Promise.resolve();
      const created = store.createProject({ name: 'meanwhile' }, T0).then(() => order.push('created'));
      await Promise.all([deleting, created]);
      assert.deepEqual(order, ['created', 'deleted true,true']);
      const raw = new DatabaseSync(path);
      const counts = raw
        .prepare('SELECT endpoint_id, status, COUNT(*) AS n FROM deliveries GROUP BY endpoint_id, status')
        .all()
        .map((r) => `${r.endpoint_id === kept!.id ? 'kept' : 'deleted'} ${r.status} ${r.n}`)
        .sort();
      // As a stop between two batches leaves them: a repeated delete answers false and closes them.
      raw
        .prepare(
          "UPDATE deliveries SET status = 'parked' WHERE rowid IN (SELECT rowid FROM deliveries WHERE endpoint_id = ? LIMIT 250)",
        )
        .run(gone!.id);
      assert.equal(await store.deleteEndpoint(project.id, gone!.id, T0), false);
      const open = raw
        .prepare("SELECT COUNT(*) AS n FROM deliveries WHERE endpoint_id = ? AND status <> 'failed'")
        .get(gone!.id);
      raw.close();
      assert.deepEqual(counts, ['deleted failed 4500', 'deleted failed 4500', 'kept pending 4500']);
      assert.equal(open?.n, 0);
    } finally {
      parkBatch.rows = batchRows;
      await store.close();
    }
  });

  test('purgeBefore stops after the chunk that ends past its time budget, before its limit; the cursor goes on from there', async () => {
    const path = join(dir, 'purge-budget', 'h.db');
    const store = await openStore(`sqlite:${path}`);
    const old = T0 - 40 * 86_400_000;
    const cutoff = T0 - 30 * 86_400_000;
    let projectId: string;
    try {
      const project = await store.createProject({ name: 'old' }, old);
      projectId = project.id;
      // No endpoint: every event is finished from the start.
      await store.acceptEvents(
        projectId,
        Array.from({ length: 2 * PURGE_CHUNK + 20 }, () => eventInput('a')),
        old,
      );
    } finally {
      await store.close();
    }
    const db = openDatabaseSqlite(path, undefined);
    try {
      // No budget: one chunk per call, whatever the limit.
      const first = purgeBeforeSqlite(db, projectId, cutoff, 1000, null, 0);
      assert.equal(first.events, PURGE_CHUNK);
      assert.ok(first.next);
      // Budget enough: the limit bounds the call, across chunks.
      const second = purgeBeforeSqlite(db, projectId, cutoff, PURGE_CHUNK + 5, first.next, 60_000);
      assert.equal(second.events, PURGE_CHUNK + 5);
      assert.ok(second.next);
      const third = purgeBeforeSqlite(db, projectId, cutoff, 1000, second.next, 60_000);
      assert.deepEqual(third, { events: 15, deliveries: 0, attempts: 0, operationalEvents: 0, next: null });
      assert.equal(Number(db.prepare('SELECT count(*) AS n FROM events').get()!.n), 0);
    } finally {
      db.close();
    }
  });

  test('purgeBefore bounds a call by rows: events with many deliveries and attempts go over several calls, each event whole', async () => {
    const path = join(dir, 'purge-rows', 'h.db');
    const store = await openStore(`sqlite:${path}`);
    const old = T0 - 40 * 86_400_000;
    const cutoff = T0 - 30 * 86_400_000;
    const fanOut = 40;
    const perDelivery = 5;
    const wide = 600; // one event fanned out to more endpoints than a chunk's rows
    let projectId: string;
    try {
      const { project } = await projectWithEndpoints(store, fanOut, old);
      projectId = project.id;
      await store.acceptEvents(
        projectId,
        Array.from({ length: 10 }, () => eventInput('a')),
        old,
      );
    } finally {
      await store.close();
    }
    const db = openDatabaseSqlite(path, undefined);
    try {
      // One more event to `wide` endpoints, then every delivery finished long ago with
      // `perDelivery` attempts each (as a history filled by an import, or grown over a month).
      const [first] = db.prepare('SELECT id FROM events ORDER BY created_at, id LIMIT 1').all();
      const eventId = `${String(first!.id)}z`;
      db.prepare(
        "INSERT INTO events (id, project_id, type, payload, created_at, delivery_count) VALUES (?, ?, 'a', '{}', ?, ?)",
      ).run(eventId, projectId, old + 1, wide);
      const addDelivery = db.prepare(
        "INSERT INTO deliveries (id, project_id, event_id, endpoint_id, url, status, created_at, updated_at) VALUES (?, ?, ?, NULL, 'http://127.0.0.1:9/w', 'pending', ?, ?)",
      );
      for (let i = 0; i < wide; i++) addDelivery.run(`dlv_wide${i}`, projectId, eventId, old + 1, old + 1);
      db.exec(
        `UPDATE deliveries SET status = 'succeeded', next_attempt_at = NULL, attempts = ${perDelivery}`,
      );
      db.exec(`WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ${perDelivery})
        INSERT INTO attempts (id, project_id, delivery_id, event_id, endpoint_id, event_type, number, started_at, duration_ms, outcome, request)
        SELECT 'att_' || d.id || '_' || k.n, d.project_id, d.id, d.event_id, d.endpoint_id, 'a', k.n, d.created_at + k.n, 1, 'succeeded', '{}'
        FROM deliveries d, k`);
      const count = (table: string) => Number(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()!.n);
      const deliveriesTotal = count('deliveries');
      const attemptsTotal = count('attempts');
      assert.equal(deliveriesTotal, 10 * fanOut + wide);
      assert.equal(attemptsTotal, deliveriesTotal * perDelivery);
      const totals = { events: 0, deliveries: 0, attempts: 0 };
      let next: string | null = null;
      let calls = 0;
      do {
        // No time budget: one chunk per call, as a call on a busy machine gets.
        const r = purgeBeforeSqlite(db, projectId, cutoff, 1000, next, 0);
        calls++;
        // Each call deletes at most a chunk's rows, but for the deliveries of one event (all in
        // the same write): without the bound, the first call took all 11 events, 6,000 rows.
        assert.ok(r.attempts <= PURGE_CHUNK_ROWS, `call ${calls}: ${r.attempts} attempts`);
        assert.ok(
          r.deliveries <= Math.max(PURGE_CHUNK_ROWS, wide),
          `call ${calls}: ${r.deliveries} deliveries`,
        );
        assert.ok(r.attempts + r.deliveries > 0, `call ${calls} deleted nothing`);
        // The wide event is there with all its deliveries, or gone with them.
        const left = Number(
          db.prepare('SELECT count(*) AS n FROM deliveries WHERE event_id = ?').get(eventId)!.n,
        );
        const there = db.prepare('SELECT 1 FROM events WHERE id = ?').get(eventId) !== undefined;
        assert.equal(left, there ? wide : 0);
        totals.events += r.events;
        totals.deliveries += r.deliveries;
        totals.attempts += r.attempts;
        next = r.next;
      } while (next !== null && calls < 1000);
      assert.deepEqual(totals, { events: 11, deliveries: deliveriesTotal, attempts: attemptsTotal });
      assert.deepEqual([count('events'), count('deliveries'), count('attempts')], [0, 0, 0]);
      assert.ok(calls >= attemptsTotal / PURGE_CHUNK_ROWS, `${calls} calls`);
    } finally {
      db.close();
    }
  });

  /** The details of SQLite's plan for `sql` with `params`, on a freshly migrated database unless one is given. */
  const planOf = (sql: string, params: readonly SQLInputValue[], on?: DatabaseSync): string[] => {
    const db = on ?? new DatabaseSync(':memory:');
    if (!on) migrateSqlite(db);
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => String(r.detail));
    if (!on) db.close();
    return plan;
  };

  test("an endpoint's failed attempts are read from an index of their own, not found among the rest", () => {
    // The query listAttempts makes for ?endpointId&outcome=failed (the outcome inlined as a literal).
    const plan = planOf(
      "SELECT * FROM attempts WHERE project_id = ? AND endpoint_id = ? AND outcome = 'failed' ORDER BY id DESC LIMIT ?",
      ['p', 'e', 51],
    );
    assert.ok(
      plan.some((d) => d.includes('attempts_endpoint_failed')),
      plan.join('; '),
    );
    assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `sorts: ${plan.join('; ')}`);
  });

  test("a project's events of one type are read from an index of their own, newest first", () => {
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    const cursor = Buffer.from('evt_9', 'utf8').toString('base64url');
    // With a cursor and since both bounding the id, SQLite's planner unhinted walked events_project.
    for (const q of [{}, { cursor }, { cursor, since: T0 }, { since: T0, until: T0 + 5 }]) {
      const { sql, params } = eventPageQuery('p', { limit: 50, type: 't', ...q });
      const plan = planOf(sql, params, db);
      assert.ok(
        plan.some((d) => d.includes('USING INDEX events_type')),
        plan.join('; '),
      );
      assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `sorts: ${plan.join('; ')}`);
    }
    db.close();
  });

  test('a page of events by idempotency key reads payloads only up to its byte budget', () => {
    // The key is stored after the payload, so checking an event's key reads its payload's overflow
    // pages: 10,000 events of 1 MB were ~3.4 s a page on the thread that accepts events (300 took
    // 100 ms). The scan also stops once the payloads it passed reach the budget, and the page goes
    // on from there.
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec(`WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 20)
      INSERT INTO events (id, project_id, type, payload, test, idempotency_key, created_at)
      SELECT 'evt_' || printf('%026d', i), 'p', 't', json_object('x', printf('%.1000c', 'a')), 0,
        CASE WHEN i IN (3, 18) THEN 'order-1234' ELSE 'k' || i END, ${T0} FROM g`);
    const bytes = (db.prepare('SELECT octet_length(payload) AS n FROM events LIMIT 1').get() as { n: number })
      .n;
    // A budget of 5 payloads: events 20-16, then 15-11, 10-6, 5-1, then nothing older.
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = listEventsSqlite(db, 'p', { limit: 50, idempotencyKey: 'order-1234', cursor }, 5 * bytes);
      pages.push(page.data.map((e) => e.id.slice(-2)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(pages, [['18'], [], [], ['03'], []]);
    // The default budget takes all 20 at once.
    assert.deepEqual(
      listEventsSqlite(db, 'p', { limit: 50, idempotencyKey: 'order-1234' }).data.map((e) => e.id.slice(-2)),
      ['18', '03'],
    );
    db.close();
  });

  test("a page of events by idempotency key and type finds where its scan ends in the type's index, not among the project's other events", () => {
    // The scan's statements (where the payload budget ends, where the row count ends) ran unhinted:
    // with a cursor and `since` both bounding the id, SQLite's planner walked events_project over
    // every event of the range, of any type (a project of 300,000 events, 100 of the type: 173 ms a
    // page on the thread that accepts events, against 1 ms; the page's own statement names the
    // index already, eventPageQuery).
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    const statements: { sql: string; params: SQLInputValue[] }[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = (sql: string) => {
      const statement = prepare(sql);
      if (sql.startsWith('EXPLAIN')) return statement;
      for (const method of ['get', 'all', 'iterate'] as const) {
        const run = statement[method].bind(statement) as (...p: SQLInputValue[]) => unknown;
        (statement as unknown as Record<string, unknown>)[method] = (...params: SQLInputValue[]) => {
          statements.push({ sql, params });
          return run(...params);
        };
      }
      return statement;
    };
    const cursor = Buffer.from('evt_9', 'utf8').toString('base64url');
    for (const q of [{}, { cursor }, { cursor, since: T0 }, { since: T0, until: T0 + 5 }]) {
      statements.length = 0;
      listEventsSqlite(db, 'p', { limit: 50, type: 't', idempotencyKey: 'order-1234', ...q });
      assert.ok(statements.length >= 2, `${JSON.stringify(q)}: the scan's statements and the page's`);
      for (const { sql, params } of statements) {
        const plan = planOf(sql, params, db);
        assert.ok(
          plan.some(
            (d) => d.includes('USING INDEX events_type') || d.includes('USING COVERING INDEX events_type'),
          ),
          `${JSON.stringify(q)}: ${sql.replace(/\s+/g, ' ')}: ${plan.join('; ')}`,
        );
      }
    }
    db.close();
  });

  test("a page of a delivery's, an event's or an endpoint's attempts walks that one's index, whatever bounds the id", async () => {
    // With two bounds on the id (a cursor, since, until, the bounded scan's end), SQLite's planner
    // unhinted walked attempts_project over every attempt of the project in the range: 200,000
    // attempts, ~50 ms a page of a quiet endpoint's or of one event's, against under 0.5 ms.
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    const statements: { sql: string; params: SQLInputValue[] }[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = (sql: string) => {
      const statement = prepare(sql);
      if (sql.startsWith('EXPLAIN')) return statement;
      for (const method of ['get', 'all', 'iterate'] as const) {
        const run = statement[method].bind(statement) as (...p: SQLInputValue[]) => unknown;
        (statement as unknown as Record<string, unknown>)[method] = (...params: SQLInputValue[]) => {
          statements.push({ sql, params });
          return run(...params);
        };
      }
      return statement;
    };
    const cursor = Buffer.from('att_9', 'utf8').toString('base64url');
    const filters = [
      [{ deliveryId: 'dlv_1' }, 'attempts_delivery (project_id=? AND delivery_id=?'],
      [{ eventId: 'evt_1', endpointId: 'ep' }, 'attempts_event (project_id=? AND event_id=?'],
      [{ endpointId: 'ep' }, 'attempts_endpoint (project_id=? AND endpoint_id=?'],
      [
        { endpointId: 'ep', outcome: 'failed' as const },
        'attempts_endpoint_failed (project_id=? AND endpoint_id=?',
      ],
      [{ endpointId: 'ep', eventType: 't' }, 'attempts_endpoint (project_id=? AND endpoint_id=?'],
    ] as const;
    for (const [filter, index] of filters) {
      for (const q of [{}, { cursor, until: T0 }, { since: T0 - 5, until: T0 }, { cursor, since: T0 - 5 }]) {
        statements.length = 0;
        await listAttemptsSqlite(db, 'p', { limit: 50, ...filter, ...q });
        assert.ok(statements.length >= 1);
        for (const { sql, params } of statements) {
          const plan = planOf(sql, params, db);
          assert.ok(
            plan.some((d) => d.includes(index)),
            `${JSON.stringify({ ...filter, ...q })}: ${sql.replace(/\s+/g, ' ')}: ${plan.join('; ')}`,
          );
          assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `sorts: ${plan.join('; ')}`);
        }
      }
    }
    db.close();
  });

  test("a page of an event's deliveries walks deliveries_event in id order from the cursor, also when statistics show wide events", () => {
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    // Two events of 12,500 deliveries, analysed: with a cursor, SQLite's planner unhinted walked the
    // id index from it over every later delivery of every project, filtering on the event; and before
    // migration 0016 the index held no id, so every page read and sorted all of the event's rows.
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec(`WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 25000)
      INSERT INTO deliveries (id, project_id, event_id, endpoint_id, url, status, attempts, created_at, updated_at)
      SELECT 'dlv_' || printf('%026d', i), 'p', 'evt_' || (i / 12500), 'ep', 'http://127.0.0.1:9/x', 'pending', 0, 0, 0 FROM g`);
    db.exec('ANALYZE');
    const cursor = Buffer.from(`dlv_${'1'.padStart(26, '0')}`, 'utf8').toString('base64url');
    for (const q of [{}, { cursor }, { status: 'failed' as const }, { cursor, status: 'pending' as const }]) {
      const { sql, params } = eventDeliveryPageQuery('p', 'evt_1', { limit: 100, ...q });
      const plan = planOf(sql, params, db);
      const search = q.cursor ? '(event_id=? AND project_id=? AND id>?)' : '(event_id=? AND project_id=?)';
      assert.ok(
        plan.some((d) => d.includes(`SEARCH deliveries USING INDEX deliveries_event ${search}`)),
        `${JSON.stringify(q)}: ${plan.join('; ')}`,
      );
      assert.ok(!plan.some((d) => d.startsWith('SCAN')), plan.join('; '));
      assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `sorts: ${plan.join('; ')}`);
    }
    db.close();
  });

  test("a page of an endpoint's waiting deliveries walks deliveries_endpoint from the cursor's due time; its counts stop at atMost", () => {
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    // Two endpoints of 12,500 pending deliveries, due in groups of 10 (a batch's share a due time).
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec(`WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 25000)
      INSERT INTO deliveries (id, project_id, event_id, endpoint_id, url, status, attempts, next_attempt_at, created_at, updated_at)
      SELECT 'dlv_' || printf('%026d', i), 'p', 'evt_' || i, 'ep' || (i % 2), 'http://127.0.0.1:9/x', 'pending', 0, i / 20, 0, 0 FROM g`);
    db.exec('ANALYZE');
    const cursor = Buffer.from(`dlv_${'6000'.padStart(26, '0')}@300`, 'utf8').toString('base64url');
    for (const q of [{}, { cursor }]) {
      const { sql, params } = endpointDeliveryPageQuery('p', 'ep0', { limit: 100, status: 'pending', ...q });
      const plan = planOf(sql, params, db);
      const search = q.cursor
        ? '(project_id=? AND endpoint_id=? AND status=? AND next_attempt_at>?)'
        : '(project_id=? AND endpoint_id=? AND status=?)';
      assert.ok(
        plan.some((d) => d.includes(`SEARCH deliveries USING INDEX deliveries_endpoint ${search}`)),
        `${JSON.stringify(q)}: ${plan.join('; ')}`,
      );
      assert.ok(!plan.some((d) => d.startsWith('SCAN')), plan.join('; '));
      // Ties of a due time are sorted among themselves, not the whole range.
      assert.ok(!plan.some((d) => d === 'USE TEMP B-TREE FOR ORDER BY'), `sorts: ${plan.join('; ')}`);
      const rows = db.prepare(sql).all(...params) as { id: string }[];
      assert.equal(rows.length, 101);
      if (q.cursor) assert.equal(rows[0]!.id, `dlv_${'6002'.padStart(26, '0')}`, 'the tie after the cursor');
    }
    const countPlan = planOf(BACKLOG_COUNT_SQL, ['p', 'ep0', 'pending', 10_000], db);
    assert.ok(
      countPlan.some((d) => d.includes('USING COVERING INDEX deliveries_endpoint')),
      countPlan.join('; '),
    );
    assert.equal(
      (db.prepare(BACKLOG_COUNT_SQL).get('p', 'ep0', 'pending', 10_000) as { n: number }).n,
      10_000,
    );
    db.close();
  });

  test("a recover's batch walks the endpoint's failed deliveries in creation order from its cursor, not the others", () => {
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    // Two endpoints of 12,500 deliveries, 1 in 5 failed, inserted newest first, analysed:
    // deliveries_endpoint gives the failed ones by rowid (here the reverse of creation order), so a
    // batch in creation order from it would read and sort all of them.
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec(`WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 25000)
      INSERT INTO deliveries (id, project_id, event_id, endpoint_id, url, status, attempts, created_at, updated_at)
      SELECT 'dlv_' || printf('%026d', i), 'p', 'evt_' || i, 'ep' || (i % 2), 'http://127.0.0.1:9/x',
        CASE WHEN i % 5 = 0 THEN 'failed' ELSE 'succeeded' END, 1, 25000 - i, 0 FROM g`);
    db.exec('ANALYZE');
    const params = ['p', 'ep0', 1000, 'dlv_', 20000, 100];
    const plan = planOf(RECOVER_SCAN_SQL, params, db);
    assert.ok(
      plan.some((d) =>
        d.includes(
          'USING COVERING INDEX deliveries_failed (project_id=? AND endpoint_id=? AND (created_at,id)>(?,?)',
        ),
      ),
      plan.join('; '),
    );
    assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `sorts: ${plan.join('; ')}`);
    const rows = db.prepare(RECOVER_SCAN_SQL).all(...params) as { created_at: number; id: string }[];
    assert.equal(rows.length, 100);
    assert.equal(rows[0]!.created_at, 1000, 'the oldest from since on');
    assert.deepEqual(
      rows.map((r) => [r.created_at, r.id]),
      rows
        .map((r) => [r.created_at, r.id])
        .sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[1]).localeCompare(String(b[1]))),
      'in creation order',
    );
    db.close();
  });

  test("a replay's batch looks up its events' deliveries by event, not among all of the endpoint's", () => {
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    // An endpoint of 20,000 deliveries: SQLite's planner unhinted walked deliveries_endpoint over
    // all of them for each batch of 1,000 events, inside the write transaction (200,000: 102 ms a
    // batch, against 1.3 ms by the event).
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec(`WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 20000)
      INSERT INTO deliveries (id, project_id, event_id, endpoint_id, url, status, attempts, created_at, updated_at)
      SELECT 'dlv_' || printf('%026d', i), 'p', 'evt_' || printf('%026d', i), 'ep0', 'http://127.0.0.1:9/x', 'succeeded', 1, i, i FROM g`);
    const ids = ['evt_00000000000000000000000007', 'evt_x'];
    const params = [JSON.stringify(ids), 'p', 'ep0'];
    const plan = planOf(DELIVERED_SQL, params, db);
    assert.ok(
      plan.some((d) =>
        d.includes('SEARCH deliveries USING INDEX deliveries_event (event_id=? AND project_id=?)'),
      ),
      plan.join('; '),
    );
    assert.deepEqual(
      db
        .prepare(DELIVERED_SQL)
        .all(...params)
        .map((r) => r.event_id),
      [ids[0]],
    );
    db.close();
  });

  test('a page of events up to a time walks the id index from there down, not every newer event', () => {
    const db = new DatabaseSync(':memory:');
    migrateSqlite(db);
    const cursor = Buffer.from('evt_9', 'utf8').toString('base64url');
    for (const q of [{ until: T0 }, { until: T0, cursor }, { since: T0 - 5, until: T0 }]) {
      const { sql, params } = eventPageQuery('p', { limit: 50, ...q });
      const plan = planOf(sql, params, db);
      assert.ok(
        plan.some((d) => /USING INDEX events_project \(project_id=\? AND (id>\? AND )?id<\?\)/.test(d)),
        `${JSON.stringify(q)}: ${plan.join('; ')}`,
      );
      assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `sorts: ${plan.join('; ')}`);
    }
    db.close();
  });

  for (const [what, sql, params] of [
    [
      'counts a step of whole buckets',
      ENDPOINT_STATS_SQL,
      [60_000, 'p', 'e', 'att_01', 'att_02', 'att_03', 0, 1],
    ],
    ['finds where a step ends', STATS_STEP_END, ['p', 'e', 'att_01', 'att_02', 999]],
    ['finds where a step of one bucket ends', BUCKET_STEP_END, ['p', 'e', 'att_01', 'att_02', 999]],
    ['counts a step of one bucket', BUCKET_STEP_SQL, ['p', 'e', 'att_01', 'att_02', 0, 1]],
  ] as const) {
    test(`an endpoint's chart ${what} on its own attempts from since to until, not from its first or up to its newest`, () => {
      const plan = planOf(sql, params);
      assert.ok(
        plan.some((d) => d.includes('attempts_endpoint (project_id=? AND endpoint_id=? AND id>? AND id<?)')),
        plan.join('; '),
      );
    });
  }

  for (const [what, sql, params, index] of [
    ['one endpoint', ENDPOINT_PROBE_SQL, ['p', 'e', 0, 10], 'deliveries_endpoint'],
    ['the callbacks', CALLBACK_PROBE_SQL, [0, 10], 'deliveries_callbacks_due'],
    ['which endpoints have due work', DUE_ENDPOINTS_SQL, ['[["p","e"]]', 0], 'deliveries_endpoint'],
    ["one project's callbacks", PROJECT_CALLBACK_PROBE_SQL, ['p', 0, 10], 'deliveries_endpoint'],
    ['which projects have callbacks due', CALLBACK_PROJECTS_SQL, [0], 'deliveries_callbacks_by_project'],
  ] as const) {
    test(`a claim probes ${what} through an index in due order, without sorting a backlog`, async () => {
      const plan = planOf(sql, params);
      assert.ok(
        plan.some((d) => /USING (COVERING )?INDEX /.test(d) && d.includes(`INDEX ${index} `)),
        plan.join('; '),
      );
      assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `sorts: ${plan.join('; ')}`);
    });
  }

  test('which projects have callbacks due is found among the pending callbacks, not by asking every project', () => {
    // Read every 250 ms while callbacks are due and claims give turns: a seek in deliveries_endpoint
    // for every project took 42-74 ms at 100,000 projects.
    const plan = planOf(CALLBACK_PROJECTS_SQL, [0]);
    const scans = plan.filter((d) => /^SCAN (p|projects|deliveries)\b/.test(d));
    assert.deepEqual(scans, [], plan.join('; '));
    assert.ok(!plan.some((d) => /\b(projects|sqlite_autoindex_projects_1)\b/.test(d)), plan.join('; '));
  });

  test('sqliteCheckpointPages: a connection checkpoints the WAL only once it holds that many pages; without it, after its commits', async () => {
    // The dispatcher thread's connection is opened with 10,000 and leaves checkpoints to the API's
    // (dispatcher-thread.ts), which runs them after its commits, at most one per
    // CHECKPOINT_EVERY_MS (checkpoint-after-commit.ts). The WAL file keeps the largest size it
    // reached: checkpointed, it is reused from its start; with a large limit it grows.
    const walAfterWrites = async (name: string, pages?: number) => {
      const file = join(dir, name, 'herald.db');
      const store = await openStore(
        `sqlite:${file}`,
        pages === undefined ? {} : { sqliteCheckpointPages: pages },
      );
      const { project } = await projectWithEndpoints(store, 1);
      const payload = { blob: 'x'.repeat(10_000) };
      for (let i = 0; i < 16; i++) {
        // ~2 MiB a round of four, then longer than the interval between checkpoints.
        if (i > 0 && i % 4 === 0) await new Promise((r) => setTimeout(r, CHECKPOINT_EVERY_MS + 50));
        await store.acceptEvents(
          project.id,
          Array.from({ length: 50 }, () => eventInput('a', { payload })),
          T0 + i,
        );
      }
      await new Promise((r) => setImmediate(r));
      const bytes = statSync(`${file}-wal`).size;
      await store.close();
      return bytes;
    };
    const mib = 1024 * 1024;
    const byDefault = await walAfterWrites('checkpoint-default');
    const left = await walAfterWrites('checkpoint-left', 100_000);
    assert.ok(byDefault < 5.5 * mib, `default: checkpointed after commits (${byDefault} bytes)`);
    assert.ok(left > 8 * mib, `100,000 pages: not checkpointed (${left} bytes)`);
  });

  test('a second open of the database in this process (the dispatcher thread) keeps the locks that protect its WAL from other programs', async () => {
    // Closing any descriptor of a file drops every POSIX lock the process holds on it. If the
    // second open touched the file, another program reading the database (sqlite3, a backup)
    // would take itself for the last connection, checkpoint and delete the WAL under Herald, and
    // writes acknowledged after that were gone after a crash.
    const file = join(dir, 'second-open', 'herald.db');
    const first = await openStore(`sqlite:${file}`);
    await first.migrate();
    await first.createProject({ name: 'before' }, T0);
    const second = await openStore(`sqlite:${file}`);
    const reader = `const { DatabaseSync } = require('node:sqlite');
      const db = new DatabaseSync(process.argv[1]);
      console.log(db.prepare('SELECT count(*) AS n FROM projects').get().n);
      db.close();`;
    const { stdout } = await execFileAsync(process.execPath, ['-e', reader, file]);
    assert.equal(stdout.trim(), '1');
    assert.ok(existsSync(`${file}-wal`), 'the WAL is still there after the other program closed');
    await first.createProject({ name: 'after' }, T0 + 1);
    const again = await execFileAsync(process.execPath, ['-e', reader, file]);
    assert.equal(again.stdout.trim(), '2', 'another program sees the write made after it');
    await second.close();
    await first.close();
  });

  test('a migration the database has and this version does not (a newer Herald applied it) is reported', async () => {
    const file = join(dir, 'from-the-future', 'herald.db');
    const seen: unknown[] = [];
    const first = await openStore(`sqlite:${file}`, { onMigrated: (r) => seen.push(r) });
    await first.close();
    assert.ok((seen[0] as { applied: string[] }).applied.includes('0001_init.sql'));
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run('9999_future.sql', T0);
    db.close();
    const again = await openStore(`sqlite:${file}`, { onMigrated: (r) => seen.push(r) });
    await again.close();
    assert.deepEqual(seen[1], { applied: [], unknown: ['9999_future.sql'] });
  });

  test('migration 0014 gives the projects of an older database no backlog limit of their own (null), and it can be set', async () => {
    const file = join(dir, 'before-0014', 'herald.db');
    const first = await openStore(`sqlite:${file}`);
    const old = await first.createProject({ name: 'old', uid: 'old' }, T0);
    await first.close();
    // As the previous version left it: no column, the migration not applied.
    const db = new DatabaseSync(file);
    db.exec('ALTER TABLE projects DROP COLUMN backlog_limit');
    db.prepare('DELETE FROM schema_migrations WHERE name = ?').run('0014_project_backlog_limit.sql');
    db.close();
    const seen: unknown[] = [];
    const again = await openStore(`sqlite:${file}`, { onMigrated: (r) => seen.push(r) });
    try {
      assert.deepEqual(seen[0], { applied: ['0014_project_backlog_limit.sql'], unknown: [] });
      const migrated = await again.getProject('old');
      assert.deepEqual(migrated, { ...old, backlogLimit: null });
      assert.equal((await again.updateProject(old.id, { backlogLimit: 7 }, T0 + 1))?.backlogLimit, 7);
    } finally {
      await again.close();
    }
  });

  test('migration 0026 keeps the end of a lease taken before it: that claim is still handed back by it', async () => {
    const file = join(dir, 'before-0026', 'herald.db');
    const first = await openStore(`sqlite:${file}`);
    const { project } = await projectWithEndpoints(first, 1);
    await first.acceptEvents(project.id, [eventInput('a')], T0);
    const [claimed] = await first.claimDueDeliveries({ limit: 1, leaseMs: 60_000, now: T0, workerId: 'w1' });
    assert.ok(claimed);
    await first.close();
    // As the previous version left it: no column, the migration not applied, the lease in its due time.
    const db = new DatabaseSync(file);
    db.exec('ALTER TABLE deliveries DROP COLUMN lease_until');
    db.prepare('DELETE FROM schema_migrations WHERE name = ?').run('0026_lease_until.sql');
    db.close();
    const seen: unknown[] = [];
    const again = await openStore(`sqlite:${file}`, { onMigrated: (r) => seen.push(r) });
    try {
      assert.deepEqual(seen[0], { applied: ['0026_lease_until.sql'], unknown: [] });
      const back = {
        projectId: project.id,
        deliveryId: claimed.delivery.id,
        nextAttemptAt: T0 + 5_000,
        heldBy: 'w1',
        attempts: 0,
      };
      await again.releaseDeliveries([{ ...back, leasedUntil: T0 + 30_000 }]);
      assert.equal(
        (await again.getDelivery(project.id, claimed.delivery.id))?.leasedUntil,
        T0 + 60_000,
        'not that claim',
      );
      await again.releaseDeliveries([{ ...back, leasedUntil: claimed.delivery.leasedUntil }]);
      const d = await again.getDelivery(project.id, claimed.delivery.id);
      assert.equal(d?.leasedUntil, null, 'handed back');
      assert.equal(d?.nextAttemptAt, T0 + 5_000);
    } finally {
      await again.close();
    }
  });

  test('migration 0018 makes the keys of an older database full keys, which keep working as before', async () => {
    const file = join(dir, 'before-0018', 'herald.db');
    const first = await openStore(`sqlite:${file}`);
    const p = await first.createProject({ name: 'p' }, T0);
    await first.createApiKey({ projectId: p.id, name: 'old', prefix: 'hk_old', keyHash: 'hold' }, T0);
    await first.close();
    // As the previous version left it: no column, the migration not applied.
    const db = new DatabaseSync(file);
    db.exec('ALTER TABLE api_keys DROP COLUMN scope');
    db.prepare('DELETE FROM schema_migrations WHERE name = ?').run('0018_api_key_scope.sql');
    db.close();
    const seen: unknown[] = [];
    const again = await openStore(`sqlite:${file}`, { onMigrated: (r) => seen.push(r) });
    try {
      assert.deepEqual(seen[0], { applied: ['0018_api_key_scope.sql'], unknown: [] });
      assert.equal((await again.findApiKeyByHash('hold'))?.scope, 'full');
    } finally {
      await again.close();
    }
  });

  test('a migration that fails is named in the error, as on PostgreSQL, and nothing of it is applied', async () => {
    const file = join(dir, 'failing-0018', 'herald.db');
    await (await openStore(`sqlite:${file}`)).close();
    // A file whose record of 0018 was lost while the column stayed: applying it again fails.
    const db = new DatabaseSync(file);
    db.prepare('DELETE FROM schema_migrations WHERE name = ?').run('0018_api_key_scope.sql');
    db.close();
    await assert.rejects(openStore(`sqlite:${file}`), (error: Error) => {
      assert.match(error.message, /duplicate column name: scope \(migration 0018_api_key_scope\.sql\)/);
      assert.equal((error as { errcode?: unknown }).errcode, 1, 'the SQLite code is kept');
      return true;
    });
    const after = new DatabaseSync(file);
    const recorded = after
      .prepare('SELECT name FROM schema_migrations WHERE name = ?')
      .get('0018_api_key_scope.sql');
    after.close();
    assert.equal(recorded, undefined);
  });

  test('migration 0015 leaves the events of an older database uncounted (no deliveryCount); new ones are counted', async () => {
    const file = join(dir, 'before-0015', 'herald.db');
    const first = await openStore(`sqlite:${file}`);
    const { project } = await projectWithEndpoints(first, 3);
    const [old] = await first.acceptEvents(project.id, [eventInput('a')], T0);
    await first.close();
    // As the previous version left it: no column, the migration not applied.
    const db = new DatabaseSync(file);
    db.exec('ALTER TABLE events DROP COLUMN delivery_count');
    db.prepare('DELETE FROM schema_migrations WHERE name = ?').run('0015_event_delivery_count.sql');
    db.close();
    const seen: unknown[] = [];
    const again = await openStore(`sqlite:${file}`, { onMigrated: (r) => seen.push(r) });
    try {
      assert.deepEqual(seen[0], { applied: ['0015_event_delivery_count.sql'], unknown: [] });
      const [added] = await again.acceptEvents(project.id, [eventInput('a')], T0 + 1);
      const listed = (await again.listEvents(project.id, { limit: 10 })).data;
      assert.deepEqual(
        listed.map((e) => [e.id, e.deliveryCount]),
        [
          [added!.event.id, 3],
          [old!.event.id, undefined],
        ],
      );
    } finally {
      await again.close();
    }
  });

  test('the WAL file is cut back to its size limit once a checkpoint has copied it back', async () => {
    const file = join(dir, 'wal-limit.db');
    const db = openDatabaseSqlite(file, undefined, 256 * 1024);
    db.exec('CREATE TABLE t (b BLOB)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    db.exec('BEGIN');
    for (let i = 0; i < 400; i++) insert.run(new Uint8Array(8192)); // ~3.3 MB through the WAL
    db.exec('COMMIT');
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    db.exec("INSERT INTO t VALUES (x'00')"); // the next write starts the WAL over, and cuts it
    const size = statSync(`${file}-wal`).size;
    db.close();
    assert.ok(size <= 256 * 1024, `WAL ${size} bytes`);
    assert.equal(WAL_SIZE_LIMIT_BYTES, 64 * 1024 * 1024);
  });

  test("a database the store creates is its owner's only: directory 0700, file, WAL and SHM 0600", async () => {
    // `herald migrate --data-dir` and `event-types import` open the store before anything else
    // creates the directory; umask 022 would otherwise leave payloads and bodies world-readable.
    const file = join(dir, 'owner-only', 'nested', 'herald.db');
    const store = await openStore(`sqlite:${file}`);
    await store.migrate();
    await projectWithEndpoints(store, 1);
    const mode = (path: string) => statSync(path).mode & 0o777;
    assert.equal(mode(join(dir, 'owner-only', 'nested')), 0o700);
    assert.equal(mode(join(dir, 'owner-only')), 0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(path), 0o600, path);
    await store.close();
  });

  test('sqlite::memory: works; unknown schemes are refused clearly', async () => {
    const mem = await openStore('sqlite::memory:');
    await mem.ping();
    await mem.close();
    await assert.rejects(openStore('mysql://x'), /unsupported database URL/);
  });

  test('group commit: one transaction per batch, a failing job rejects alone', async () => {
    const db = new DatabaseSync(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    let commits = 0;
    const gc = new GroupCommit(db, () => commits++);
    const insert = (k: string) => () => db.prepare('INSERT INTO t (k) VALUES (?)').run(k);
    const results = await Promise.allSettled([
      gc.submit(insert('a')),
      gc.submit(insert('a')),
      gc.submit(insert('b')),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(commits, 1, 'three calls, one commit');
    assert.deepEqual(
      db
        .prepare('SELECT k FROM t ORDER BY k')
        .all()
        .map((r) => r.k),
      ['a', 'b'],
    );
    db.close();
  });

  test('group commit: a full disk fails the whole batch with SQLITE_FULL; once there is room, writes go on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-full-'));
    const db = new DatabaseSync(join(dir, 'full.db'));
    try {
      db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)');
      const pages = Number(db.prepare('PRAGMA page_count').get()!.page_count);
      db.exec(`PRAGMA max_page_count = ${pages + 10}`); // a disk with room for ~10 pages
      const gc = new GroupCommit(db, () => {});
      const insert = (k: string, size: number) => () =>
        db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(k, 'x'.repeat(size));
      // SQLite rolls the whole transaction back on SQLITE_FULL: the small write before the big one
      // is undone too, so it must fail as well, and with the real error.
      const results = await Promise.allSettled([
        gc.submit(insert('small', 10)),
        gc.submit(insert('big', 200_000)),
      ]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.equal(
          (r as PromiseRejectedResult).reason.errcode,
          13,
          String((r as PromiseRejectedResult).reason),
        );
      }
      assert.equal(db.prepare('SELECT count(*) AS n FROM t').get()!.n, 0);
      db.exec('PRAGMA max_page_count = 1000000');
      await gc.submit(insert('after', 10));
      assert.deepEqual(
        db
          .prepare('SELECT k FROM t')
          .all()
          .map((r) => r.k),
        ['after'],
      );
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('group commit: while another connection holds the write lock, writes wait without blocking the thread', async () => {
    const file = join(dir, 'locked.db');
    const setup = new DatabaseSync(file);
    setup.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY)');
    setup.close();
    const db = new DatabaseSync(file);
    db.exec('PRAGMA busy_timeout = 5000');
    const gc = new GroupCommit(db, () => {});
    const holder = await holdWriteLock(file);
    try {
      const written = gc.submit(() => db.prepare('INSERT INTO t (k) VALUES (?)').run('a'));
      let done = false;
      void written.then(() => {
        done = true;
      });
      // The write's first try runs in the turn of the event loop after submit, right before this
      // one, and finds the lock taken. It does not wait for it (SQLite's busy handler would hold
      // the thread until the lock is free): this thread gets its turn, the write still pending. No
      // timer decides it: the two run one after the other.
      await turns(1);
      assert.equal(done, false, 'not written while the lock is held, and the thread was not held meanwhile');
      await holder.release();
      await written;
      assert.deepEqual(
        db
          .prepare('SELECT k FROM t')
          .all()
          .map((r) => r.k),
        ['a'],
      );
    } finally {
      await holder.close();
      db.close();
    }
  });

  test('management writes and rate tokens wait for the write lock without blocking the thread', async () => {
    const url = `sqlite:${join(dir, 'manage-locked', 'h.db')}`;
    const store = await openStore(url);
    const { project, endpoints } = await projectWithEndpoints(store, 1);
    const endpoint = endpoints[0]!;
    const holder = await holdWriteLock(url.slice('sqlite:'.length)); // the dispatcher's records, say
    try {
      const pending = [
        store.updateEndpoint(project.id, endpoint.id, { name: 'renamed' }, T0 + 1),
        store.createProject({ name: 'second' }, T0 + 1),
        store.takeRateTokens(
          [{ projectId: project.id, endpointId: endpoint.id, want: 1, perSecond: 10, burst: 10 }],
          T0 + 1,
        ),
      ];
      let settled = 0;
      for (const p of pending) void p.finally(() => settled++);
      // Turns of the event loop, not a timer: each one this thread gets while the writes wait, it
      // was not held by them (waiting blocking, the first would come once the lock is free).
      await turns(3);
      assert.equal(settled, 0, 'nothing written while the lock is held, and the thread was not held');
      await holder.release();
      const [updated, second, tokens] = await Promise.all(pending);
      assert.equal((updated as { name: string }).name, 'renamed');
      assert.equal((await store.getProject((second as { id: string }).id))?.name, 'second');
      assert.equal((tokens as Map<string, { granted: number }>).get(endpoint.id)?.granted, 1);
    } finally {
      await holder.close();
      await store.close();
    }
  });

  test('rate tokens given a clock are taken as of when the write lock is had, not when asked for', async () => {
    const url = `sqlite:${join(dir, 'tokens-clock', 'h.db')}`;
    const store = await openStore(url);
    const { project, endpoints } = await projectWithEndpoints(store, 1);
    const holder = await holdWriteLock(url.slice('sqlite:'.length)); // the API's accept commit, say
    try {
      let readAt = 0;
      const tokens = store.takeRateTokens(
        [{ projectId: project.id, endpointId: endpoints[0]!.id, want: 1, perSecond: 10, burst: 1 }],
        () => {
          readAt = performance.timeOrigin + performance.now();
          return T0;
        },
      );
      // Let go 15 ms after the ask, under the group commit's MAX_DEFER_MS (25) of tries.
      await new Promise((resolve) => setTimeout(resolve, 15));
      const held = await holder.release();
      assert.equal((await tokens).get(endpoints[0]!.id)?.granted, 1);
      assert.ok(readAt >= held, `the clock was read ${Math.round(held - readAt)} ms while the lock was held`);
    } finally {
      await holder.close();
      await store.close();
    }
  });

  test('a claim waits for the write lock without blocking the thread, and takes the records waiting with it', async () => {
    const url = `sqlite:${join(dir, 'claim-locked', 'h.db')}`;
    const store = await openStore(url);
    const { project } = await projectWithEndpoints(store, 1);
    await store.acceptEvents(project.id, [eventInput('a'), eventInput('a')], T0);
    const [first] = await store.claimDueDeliveries({ limit: 1, leaseMs: 60_000, now: T0, workerId: 'w' });
    assert.ok(first);
    const holder = await holdWriteLock(url.slice('sqlite:'.length)); // the API's accept commit, say
    try {
      const recorded = store.recordAttempts([attemptRecord(first.delivery, first.event)], {
        now: T0 + 1,
        failureThreshold: 10,
      });
      const claimed = store.claimDueDeliveries({ limit: 10, leaseMs: 60_000, now: T0 + 2, workerId: 'w' });
      let done = false;
      void claimed.then(() => {
        done = true;
      });
      // Turns of the event loop, not a timer (as above).
      await turns(3);
      assert.equal(done, false, 'no claim while the lock is held, and the thread was not held');
      await holder.release();
      assert.equal((await claimed).length, 1);
      await recorded;
      assert.equal((await store.getDelivery(project.id, first.delivery.id))?.status, 'succeeded');
    } finally {
      await holder.close();
      await store.close();
    }
  });

  for (const [what, idle, skipsInARow, afterWork] of [
    ['more endpoints than one claim probes', 298, [1, 2, 4, 8, 8], 0],
    ['few endpoints (the probes see all the window would)', 0, [8, 8, 8, 8, 8], 8],
  ] as const) {
    test(`window reads that find only left-out work, ${what}: skipped for ${skipsInARow.map((k) => k * WINDOW_SKIP_MS).join(', ')} ms`, async () => {
      const file = join(dir, `window-backoff-${idle}`, 'herald.db');
      const store = await openStore(`sqlite:${file}`);
      const { project, endpoints } = await projectWithEndpoints(store, 2);
      if (idle) await projectWithEndpoints(store, idle); // active, with nothing due
      const [busy, other] = [endpoints[0]!, endpoints[1]!];
      // 3,000 of the left-out endpoint's deliveries fill the window (other has an event filter).
      await store.updateEndpoint(project.id, other.id, { eventTypes: ['other.thing'] }, T0);
      await store.updateEndpoint(project.id, busy.id, { eventTypes: ['busy.thing'] }, T0);
      for (let i = 0; i < 30; i++) {
        await store.acceptEvents(
          project.id,
          Array.from({ length: 100 }, () => eventInput('busy.thing')),
          T0 + i,
        );
      }
      await store.close();
      const db = new DatabaseSync(file);
      const probe: ProbeCursor = { turns: newTurnCursor() };
      const claim = (now: number) =>
        claimDue(
          db,
          { limit: 10, leaseMs: 60_000, now, workerId: 'w', excludeEndpointIds: [busy.id] },
          probe,
        );
      let now = T0 + 1_000;
      const skips: number[] = [];
      for (let i = 0; i < 5; i++) {
        assert.deepEqual(claim(now), []);
        const until = probe.skipWindow?.until ?? now;
        skips.push(until - now);
        assert.deepEqual(claim(until - 1), [], 'skipped: the probes find nothing either');
        now = until;
      }
      assert.deepEqual(
        skips,
        skipsInARow.map((k) => k * WINDOW_SKIP_MS),
      );
      const accepted = await (async () => {
        const again = await openStore(`sqlite:${file}`);
        try {
          // Due before the backlog: in the window's rows.
          return await again.acceptEvents(project.id, [eventInput('other.thing')], T0 - 1);
        } finally {
          await again.close();
        }
      })();
      assert.deepEqual(
        claim(now).map((c) => c.delivery.id),
        accepted.flatMap((a) => a.deliveries.map((d) => d.id)),
      );
      assert.equal(
        (probe.skipWindow?.until ?? now) - now,
        afterWork * WINDOW_SKIP_MS,
        'after a window with work in it',
      );
      db.close();
    });
  }

  test('few endpoints, a left-out backlog the window holds whole: the window is read once per 2 s, the others claimed by the probes meanwhile', async () => {
    // As with a hanging endpoint whose backlog is still under CLAIM_WINDOW rows: every claim read
    // all of it (a table lookup per row) to find the others' few due rows, which the probes find.
    const file = join(dir, 'window-whole', 'herald.db');
    const store = await openStore(`sqlite:${file}`);
    const { project, endpoints } = await projectWithEndpoints(store, 2);
    const [busy, other] = [endpoints[0]!, endpoints[1]!];
    await store.updateEndpoint(project.id, other.id, { eventTypes: ['other.thing'] }, T0);
    await store.updateEndpoint(project.id, busy.id, { eventTypes: ['busy.thing'] }, T0);
    await store.acceptEvents(
      project.id,
      Array.from({ length: 500 }, () => eventInput('busy.thing')),
      T0,
    );
    const others = async (at: number) =>
      (await store.acceptEvents(project.id, [eventInput('other.thing'), eventInput('other.thing')], at))
        .flatMap((a) => a.deliveries.map((d) => d.id))
        .sort();
    const firstTwo = await others(T0 + 1);
    const nextTwo = await others(T0 + 2);
    await store.close();
    const db = new DatabaseSync(file);
    const leasedByW = () =>
      Number(
        (db.prepare("SELECT count(*) AS n FROM deliveries WHERE leased_by = 'w'").get() as { n: number }).n,
      );
    const probe: ProbeCursor = { turns: newTurnCursor() };
    const claim = (now: number, limit: number) =>
      claimDue(db, { limit, leaseMs: 60_000, now, workerId: 'w', excludeEndpointIds: [busy.id] }, probe)
        .map((c) => c.delivery.id)
        .sort();
    const now = T0 + 1_000;
    assert.deepEqual(claim(now, 2), firstTwo, 'the window: the oldest due of the others');
    assert.equal(
      (probe.skipWindow?.until ?? now) - now,
      8 * WINDOW_SKIP_MS,
      'the window held all that is due, yet is not read again for 2 s',
    );
    assert.deepEqual(claim(now + 10, 10), nextTwo, 'meanwhile the probes find the others');
    assert.equal(leasedByW(), 4, 'nothing of the left-out endpoint leased');
    db.close();
  });
});

test("a claim's turns read the active endpoints from their own index, no row of endpoints", async () => {
  // Read every 250 ms while claims give turns: in id order the read walked the primary key's index
  // and read each endpoint's row for its status and project, 100-300 ms at 100,000 endpoints on the
  // dispatcher's thread.
  const file = join(dir, 'active-endpoints', 'h.db');
  const store = await openStore(`sqlite:${file}`);
  const busy = (await projectWithEndpoints(store, 1)).endpoints[0]!;
  for (let i = 0; i < 300; i++) await projectWithEndpoints(store, 1);
  await store.acceptEvents(
    busy.projectId,
    Array.from({ length: 400 }, () => eventInput('a')),
    T0,
  );
  await store.close();
  const db = new DatabaseSync(file);
  const statements: { sql: string; params: SQLInputValue[] }[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = (sql: string) => {
    const statement = prepare(sql);
    if (sql.startsWith('EXPLAIN')) return statement;
    for (const method of ['get', 'all', 'iterate'] as const) {
      const run = statement[method].bind(statement) as (...p: SQLInputValue[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...params: SQLInputValue[]) => {
        statements.push({ sql, params });
        return run(...params);
      };
    }
    return statement;
  };
  const probe: ProbeCursor = { turns: newTurnCursor() };
  for (let i = 0; i < 3; i++) {
    const claimed = claimDue(db, { limit: 64, leaseMs: 60_000, now: T0 + 1_000 + i, workerId: 'w' }, probe);
    assert.equal(claimed.length, 64);
  }
  const reads = statements.filter(({ sql }) => /FROM endpoints WHERE status = 'active'/.test(sql));
  assert.equal(reads.length, 1, 'read once for the three claims (kept WINDOW_SKIP_MS)');
  const plan = db
    .prepare(`EXPLAIN QUERY PLAN ${reads[0]!.sql}`)
    .all(...reads[0]!.params)
    .map((r) => String(r.detail));
  const endpointsRead = plan.filter((d) => /\bendpoints\b/.test(d));
  assert.deepEqual(endpointsRead, ['SCAN endpoints USING COVERING INDEX endpoints_active'], reads[0]!.sql);
  db.close();
});

test("a claim's turns read the active endpoints again only once they have changed: created, disabled, enabled, deleted", async () => {
  // Read again every 250 ms, changed or not: 50-120 ms at 100,000 endpoints from their index.
  const file = join(dir, 'endpoint-changes', 'h.db');
  const store = await openStore(`sqlite:${file}`);
  // A backlog of another project's, so that every claim gives turns.
  const busy = (await projectWithEndpoints(store, 1)).endpoints[0]!;
  await store.acceptEvents(
    busy.projectId,
    Array.from({ length: 400 }, () => eventInput('a')),
    T0,
  );
  const { project, endpoints } = await projectWithEndpoints(store, 1);
  const quiet = endpoints[0]!;
  const db = new DatabaseSync(file);
  const probe: ProbeCursor = { turns: newTurnCursor() };
  let now = T0 + 1_000;
  /** The active endpoints a claim 300 ms after the last one plans its turns over, and whether read again. */
  const claim = () => {
    const before = probe.endpoints?.list;
    now += 300;
    claimDue(db, { limit: 8, leaseMs: 60_000, now, workerId: 'w' }, probe);
    const list = probe.endpoints!.list;
    return { ids: [...list.ids].sort(), readAgain: list !== before };
  };
  assert.deepEqual(claim(), { ids: [busy.id, quiet.id].sort(), readAgain: true });
  assert.deepEqual(claim(), { ids: [busy.id, quiet.id].sort(), readAgain: false }, 'nothing changed');
  await store.updateEndpoint(project.id, quiet.id, { name: 'renamed' }, T0 + 2_000);
  assert.equal(claim().readAgain, false, 'a setting changed: the same endpoints are active');
  const added = await store.createEndpoint(
    endpointInput(project.id, { url: 'http://127.0.0.1:9/added' }),
    'whsec_added',
    T0,
  );
  assert.deepEqual(claim(), { ids: [busy.id, quiet.id, added.id].sort(), readAgain: true });
  await store.updateEndpoint(project.id, quiet.id, { active: false }, T0 + 3_000);
  assert.deepEqual(claim(), { ids: [busy.id, added.id].sort(), readAgain: true }, 'disabled');
  await store.updateEndpoint(project.id, quiet.id, { active: true }, T0 + 4_000);
  assert.deepEqual(claim(), { ids: [busy.id, quiet.id, added.id].sort(), readAgain: true }, 'enabled');
  await store.deleteEndpoint(project.id, added.id, T0);
  assert.deepEqual(claim(), { ids: [busy.id, quiet.id].sort(), readAgain: true }, 'deleted');
  assert.equal(claim().readAgain, false);
  await store.deleteProject(project.id);
  assert.deepEqual(claim(), { ids: [busy.id], readAgain: true }, "the project's delete");
  // A change the count missed (a trigger lost to a table rebuild by a later migration) is seen
  // within 30 s: the list is read again at least that often, changed or not.
  assert.equal(claim().readAgain, false);
  now += 30_000;
  assert.equal(claim().readAgain, true, 'read again 30 s after the last read');
  assert.equal(claim().readAgain, false);
  db.close();
  await store.close();
});

test("a change to one project's endpoints, by another connection, is read as that project's, not every active endpoint again", async () => {
  // Every change read every active endpoint again, in every process on the file: 83 ms at 100,000.
  const file = join(dir, 'endpoint-change-projects', 'h.db');
  const store = await openStore(`sqlite:${file}`);
  const busy = (await projectWithEndpoints(store, 1)).endpoints[0]!;
  await store.acceptEvents(
    busy.projectId,
    Array.from({ length: 400 }, () => eventInput('a')),
    T0,
  );
  for (let i = 0; i < 3; i++) await projectWithEndpoints(store, 2);
  const db = new DatabaseSync(file);
  const probe: ProbeCursor = { turns: newTurnCursor() };
  let now = T0 + 1_000;
  /** A claim 300 ms after the last one: the endpoints it leased from, and what it planned over. */
  const claim = () => {
    now += 300;
    const claimed = claimDue(db, { limit: 8, leaseMs: 60_000, now, workerId: 'w' }, probe);
    return { from: new Set(claimed.map((c) => c.delivery.endpointId)), list: probe.endpoints! };
  };
  /** The active endpoints as a full read lists them (the list a claim must plan over). */
  const all = () => {
    const pairs = db
      .prepare("SELECT project_id, id FROM endpoints WHERE status = 'active' ORDER BY project_id, id")
      .all()
      .map((r): [string, string] => [String(r.project_id), String(r.id)]);
    return turnListOf(pairs, true);
  };
  const listed = ({ projectIds, ids, starts }: TurnList) => ({ projectIds, ids, starts });
  const readAt = claim().list.readAt;
  // Another connection's writes (another process's): a project, an endpoint, an event for it.
  const { project, endpoints } = await projectWithEndpoints(store, 1, T0 + 1);
  await store.acceptEvents(project.id, [eventInput('a')], T0 + 1);
  let seen = claim();
  assert.ok(seen.from.has(endpoints[0]!.id), "the new endpoint's turn came");
  assert.deepEqual(listed(seen.list.list), all());
  assert.equal(seen.list.readAt, readAt, 'not every active endpoint read again');
  const second = await store.createEndpoint(
    endpointInput(project.id, { url: 'http://127.0.0.1:9/second' }),
    'whsec_2',
    T0 + 2,
  );
  await store.updateEndpoint(project.id, endpoints[0]!.id, { active: false }, T0 + 2);
  await store.acceptEvents(project.id, [eventInput('a')], T0 + 2);
  seen = claim();
  assert.ok(seen.from.has(second.id), "the project's second endpoint's turn came");
  assert.deepEqual(listed(seen.list.list), all());
  assert.equal(seen.list.readAt, readAt);
  await store.deleteProject(project.id);
  seen = claim();
  assert.deepEqual(listed(seen.list.list), all(), "the project's delete");
  assert.equal(seen.list.readAt, readAt);
  // More changes than endpoint_change_projects keeps since the list was read: all of them again.
  const writer = new DatabaseSync(file);
  writer.exec('BEGIN IMMEDIATE');
  const flip = writer.prepare('UPDATE endpoints SET status = ? WHERE id = ?');
  for (let i = 0; i < ENDPOINT_CHANGES_KEPT + 2; i++) flip.run(i % 2 === 0 ? 'disabled' : 'active', busy.id);
  writer.exec('COMMIT');
  writer.close();
  seen = claim();
  assert.deepEqual(listed(seen.list.list), all());
  assert.equal(seen.list.readAt, now, 'read again, all of them');
  db.close();
  await store.close();
});
