/**
 * Small helpers for SQLite code that lives outside sqlite-store.ts (rate limits, retention, the
 * operational-event outbox): a prepared-statement cache per database and a short transaction.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
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
 * Runs `fn` in one write transaction. Everything here is synchronous, so it never interleaves with
 * the store's group commits; bookkeeping only, hence no fsync of its own (synchronous = NORMAL).
 */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
