/**
 * copy-plan.ts: how `herald copy-to-postgres` maps the two schemas. The real migrations are planned
 * by test/e2e/copy-to-postgres.test.ts; here, the refusals of a difference it does not know, and the
 * per-column conversions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COPY_ORDER,
  deliveryRow,
  planCopy,
  type TargetColumn,
  targetValues,
} from '../../src/store/sqlite-to-postgres/copy-plan.ts';

const text = (name: string): TargetColumn => ({ name, type: 'text' });

/** Both schemas with the same text columns, plus what each test changes. */
function schemas() {
  const sqlite = new Map<string, string[]>(COPY_ORDER.map((t) => [t, ['id']]));
  const postgres = new Map<string, TargetColumn[]>(COPY_ORDER.map((t) => [t, [text('id')]]));
  sqlite.set('schema_migrations', ['name']);
  postgres.set('schema_migrations', [text('name')]);
  sqlite.set('projects', ['id', 'fan_out_version', 'dispatch_version']);
  sqlite.set('endpoint_changes', ['id', 'changes']);
  sqlite.set('endpoint_change_projects', ['change', 'project_id']);
  postgres.set('deliveries', [text('id'), { name: 'lease_until', type: 'bigint' }]);
  return { sqlite, postgres };
}

test('the known differences plan: SQLite-only counters (columns and a table) left out, lease_until null', () => {
  const { sqlite, postgres } = schemas();
  const plans = planCopy(sqlite, postgres);
  assert.deepEqual(
    plans.map((p) => p.table),
    [...COPY_ORDER],
  );
  assert.deepEqual(plans.find((p) => p.table === 'projects')!.source, ['id']);
  const deliveries = plans.find((p) => p.table === 'deliveries')!;
  assert.deepEqual(deliveries.source, ['id']);
  assert.deepEqual(targetValues(deliveries, { id: 'dlv_1' }, 5), ['dlv_1', null]);
  // SQLite keeps its last lease's end too (its migration 0026): no claim is carried over, null still.
  sqlite.set('deliveries', ['id', 'lease_until']);
  const fromLeased = planCopy(sqlite, postgres).find((p) => p.table === 'deliveries')!;
  assert.deepEqual(fromLeased.source, ['id']);
  assert.deepEqual(targetValues(fromLeased, { id: 'dlv_1', lease_until: 9_000 }, 5), ['dlv_1', null]);
});

test('a column or table on one side only, that the copy does not know, is refused by name', () => {
  const { sqlite, postgres } = schemas();
  sqlite.set('events', ['id', 'new_sqlite_column']);
  postgres.set('attempts', [text('id'), text('new_postgres_column')]);
  postgres.set('audit_log', [text('id')]);
  sqlite.delete('idempotency_keys');
  assert.throws(() => planCopy(sqlite, postgres), /table audit_log \(PostgreSQL only\)/);
  assert.throws(() => planCopy(sqlite, postgres), /table idempotency_keys missing on SQLite/);
  assert.throws(() => planCopy(sqlite, postgres), /events\.new_sqlite_column \(SQLite only\)/);
  assert.throws(() => planCopy(sqlite, postgres), /attempts\.new_postgres_column \(PostgreSQL only\)/);
});

test('values: 0/1 become booleans, JSON text stays the same text, anything else is refused', () => {
  const plan = {
    table: 'events' as const,
    source: ['test', 'payload', 'created_at'],
    target: [
      { name: 'test', type: 'boolean' },
      { name: 'payload', type: 'json' },
      { name: 'created_at', type: 'bigint' },
    ],
  };
  const payload = '{"z":1,"a":9007199254740993}';
  assert.deepEqual(targetValues(plan, { test: 1, payload, created_at: 1_700_000_000_000 }, 0), [
    true,
    payload,
    1_700_000_000_000,
  ]);
  assert.deepEqual(targetValues(plan, { test: 0, payload, created_at: 1 }, 0)[0], false);
  assert.throws(() => targetValues(plan, { test: 2, payload, created_at: 1 }, 0), /events\.test: .*boolean/);
  assert.throws(() => targetValues(plan, { test: 0, payload, created_at: 1.5 }, 0), /events\.created_at/);
});

test('a claimed delivery is due at the copy in its place, unclaimed and not held; others keep their time', () => {
  // SQLite keeps a lease's end in next_attempt_at and held_until; due_since is when it became due.
  const claimed = { id: 'd1', status: 'pending', leased_by: 'w1', next_attempt_at: 9_000, held_until: 9_000 };
  assert.deepEqual(deliveryRow({ ...claimed, due_since: 500 }, 1_000), {
    ...claimed,
    due_since: 500,
    leased_by: null,
    held_until: null,
    next_attempt_at: 500,
  });
  assert.deepEqual(deliveryRow({ ...claimed, due_since: null }, 1_000), {
    ...claimed,
    due_since: null,
    leased_by: null,
    held_until: null,
    next_attempt_at: 1_000,
  });
  const waiting = { id: 'd2', status: 'pending', leased_by: null, next_attempt_at: 9_000 };
  assert.equal(deliveryRow(waiting, 1_000), waiting);
  const done = { id: 'd3', status: 'succeeded', leased_by: 'w1', next_attempt_at: null };
  assert.deepEqual(deliveryRow(done, 1_000), { ...done, leased_by: null, held_until: null });
});
