/**
 * Small helpers for SQLite code that lives outside sqlite-store.ts (rate limits, retention, the
 * operational-event outbox): a prepared-statement cache per database. Their writes run inside the
 * store's group commit (group-commit.ts), which owns every write transaction.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { takeWithinBudget } from '../page-budget.ts';
import type { Row } from './rows.ts';

const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

export function prepared(db: DatabaseSync, sql: string): StatementSync {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let s = cache.get(sql);
  if (!s) {
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}

export const all = (db: DatabaseSync, sql: string, ...params: SQLInputValue[]): Row[] =>
  prepared(db, sql).all(...params) as Row[];
export const get = (db: DatabaseSync, sql: string, ...params: SQLInputValue[]): Row | undefined =>
  prepared(db, sql).get(...params) as Row | undefined;
export const run = (db: DatabaseSync, sql: string, ...params: SQLInputValue[]): number =>
  Number(prepared(db, sql).run(...params).changes);

/**
 * Rows of a listing that selects a `bytes` column, read one at a time until the page's byte
 * budget is spent (page-budget.ts): a row past it is never read.
 */
export function budgetedRows(db: DatabaseSync, sql: string, params: SQLInputValue[], max: number) {
  const rows = prepared(db, sql).iterate(...params) as Iterable<Row>;
  return takeWithinBudget(rows, max, (r) => Number(r.bytes));
}
