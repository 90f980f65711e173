/**
 * Defined by sqlite.test.ts right after its conformance suite: every statement the SQLite store
 * runs while the whole suite runs is collected with its parameters, and its plan (EXPLAIN QUERY
 * PLAN on a freshly migrated database, as production plans without ANALYZE statistics) must not
 * scan a big table: a read of a production file of millions of events, deliveries and attempts
 * that walks all of them is seconds on the thread that accepts events. Nor may it walk a big table
 * by project_id and an id range when a column it compares leads an index of its own (the planner's
 * pick with a cursor and a time range both bounding the id). The listings are also run with every
 * combination of their filters. A new statement without an index fails here; a scan bounded by
 * design is listed in ALLOWED with the reason. The statements are those of sqlite.test.ts's own
 * run of the suite, not of a second run in a file of their own (about 5 s more).
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { migrateSqlite } from '../../src/store/sqlite/migrate.ts';
import { runEveryListingShape } from './listing-shapes.ts';

/** The tables that grow with traffic: a plan must reach their rows through an index. */
const BIG_TABLES = ['events', 'deliveries', 'attempts', 'operational_events', 'idempotency_keys'];

/**
 * Scans of a big table that are bounded by design, by a part of the statement's text, with why.
 */
const ALLOWED: { sql: RegExp; why: string }[] = [
  {
    sql: /^SELECT COUNT\(\*\) AS pending FROM deliveries WHERE status = 'pending'$/,
    why:
      'the backlog gauge (backlogSqlite): counts the partial index deliveries_due_since, which holds ' +
      'only pending deliveries, covering (2.3 ms at 200,000 pending; 12 ms at 1,000,000)',
  },
  {
    sql: /^UPDATE deliveries SET next_attempt_at = min\(coalesce\(due_since, \?1\), \?1\), held_until = NULL, leased_by = NULL WHERE status = 'pending' AND leased_by (= \?2|IS NOT NULL)$/,
    why:
      'releaseClaims, once as a single-process dispatcher starts: reads the pending deliveries ' +
      '(partial index deliveries_due_since) only; an index of leases would cost every claim and ' +
      'record a write (16 ms at 200,000 pending)',
  },
  {
    sql: /^SELECT \* FROM operational_events WHERE forwarded_at IS NULL ORDER BY created_at, id LIMIT \?$/,
    why:
      "the forwarder's outbox: walks the partial index of unforwarded events in created_at order and " +
      'stops at the limit (only the ties of one created_at are sorted)',
  },
];

const scan = new RegExp(`^SCAN (${BIG_TABLES.join('|')})\\b`);
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/**
 * For each big table, the columns besides project_id that lead one of its indexes (after
 * project_id where it comes first): a statement that compares one of them to a parameter has an
 * index of its own to walk.
 */
function leadingColumns(db: DatabaseSync): Map<string, Set<string>> {
  const leading = new Map<string, Set<string>>();
  for (const table of BIG_TABLES) {
    const columns = new Set<string>();
    for (const index of db.prepare(`PRAGMA index_list(${table})`).all()) {
      const names = db
        .prepare(`PRAGMA index_info(${String(index.name)})`)
        .all()
        .sort((a, b) => Number(a.seqno) - Number(b.seqno))
        .map((c) => String(c.name));
      const lead = names[0] === 'project_id' ? names[1] : names[0];
      if (lead && lead !== 'id') columns.add(lead);
    }
    leading.set(table, columns);
  }
  return leading;
}

/**
 * What is wrong with `plan` for `sql`, or null: a big table scanned, or searched by an index that
 * uses none of the columns the statement compares to a parameter though one of them leads an
 * index of that table (the planner took project_id and an id range over the filter's own index,
 * and walks every row of the project in the range).
 */
function planProblem(sql: string, plan: string[], leading: Map<string, Set<string>>): string | null {
  if (plan.some((d) => scan.test(d))) return 'scans';
  // Compared in a WHERE, not set; a search by the id (one row) is as narrow as it gets.
  const where = sql.slice(sql.search(/\bWHERE\b/) + 1 || sql.length);
  const compared = new Set([...where.matchAll(/\b(\w+) (?:= \?|IS \?|IN \()/g)].map((m) => m[1]!));
  for (const d of plan) {
    const search = /^SEARCH (\w+) USING (?:COVERING )?INDEX (\w+) \((.*)\)/.exec(d);
    if (!search || !leading.has(search[1]!) || /\bid=\?/.test(search[3]!)) continue;
    const own = [...leading.get(search[1]!)!].filter((c) => compared.has(c));
    if (own.length && !own.some((c) => search[3]!.includes(`${c}=?`)))
      return `walks ${search[2]} though ${own.join(', ')} lead an index`;
  }
  return null;
}

/** Fails on a collected statement whose plan scans a big table or walks it by the wrong index. */
function judgePlans(statements: Map<string, unknown[]>): void {
  const db = new DatabaseSync(':memory:');
  migrateSqlite(db);
  const leading = leadingColumns(db);
  const problems: string[] = [];
  let explained = 0;
  try {
    for (const [sql, params] of statements) {
      if (!/^\s*(WITH|SELECT|INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql)) continue;
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...(params as never[]))
        .map((r) => String(r.detail));
      explained++;
      const problem = planProblem(sql, plan, leading);
      if (!problem || ALLOWED.some((a) => a.sql.test(oneLine(sql)))) continue;
      problems.push(`${problem}: ${oneLine(sql)}\n    ${plan.join('; ')}`);
    }
  } finally {
    db.close();
  }
  // The suite ran: a filtered run (--test-name-pattern) collects too little to judge.
  assert.ok(explained >= 100, `only ${explained} statements were collected`);
  assert.deepEqual(problems, [], `${problems.length} statements:\n${problems.join('\n')}`);
}

/**
 * Collects every statement prepared from now until its test runs, then defines (after the tests
 * defined before it, so after the conformance suite) the listings run with every combination of
 * their filters (the suite reads what it checks; listing-shapes.ts combines the filters) on a
 * database in `dir`, and the guard itself.
 */
export function defineSqlitePlanGuard(dir: string): void {
  const statements = new Map<string, unknown[]>();
  const prepare = DatabaseSync.prototype.prepare;
  const stopCollecting = () => {
    DatabaseSync.prototype.prepare = prepare;
  };
  DatabaseSync.prototype.prepare = function (this: DatabaseSync, sql: string) {
    const statement: StatementSync = prepare.call(this, sql);
    if (sql.trimStart().startsWith('EXPLAIN')) return statement;
    for (const method of ['get', 'all', 'iterate', 'run'] as const) {
      const call = statement[method] as (...params: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...params: unknown[]) => {
        if (!statements.has(sql)) statements.set(sql, params);
        return call.apply(statement, params);
      };
    }
    return statement;
  } as typeof prepare;
  after(stopCollecting);

  test('the listings, run with every combination of their filters', async () => {
    const store = await openStore(`sqlite:${join(dir, 'listings', 'herald.db')}`);
    try {
      await runEveryListingShape(store);
    } finally {
      await store.close();
    }
  });

  test('no statement the store ran scans a big table, or walks it by the wrong index', () => {
    stopCollecting();
    judgePlans(statements);
  });
}
