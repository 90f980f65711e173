import type { Config } from './config-types.ts';

/**
 * What a split role means on the embedded SQLite store, where exactly one process may serve the
 * file (store/sqlite/serving-lock.ts): no other process can take the missing half. A start with
 * `api` stores every event and never sends one; with `worker`, nothing new can come in. Both have
 * uses (holding deliveries back for a while, draining a backlog without taking events), so the
 * start goes on, but says so, once, as a warning; null for `all`.
 */
export function roleOnSqliteWarning(role: Config['role']): string | null {
  if (role === 'api') {
    return 'HERALD_ROLE (--role) is api on the embedded SQLite store: events are accepted and stored, but no deliveries are sent, and no other process can send them (one process per SQLite file); start with --role all to deliver, or use PostgreSQL to run API and workers apart';
  }
  if (role === 'worker') {
    return 'HERALD_ROLE (--role) is worker on the embedded SQLite store: this process delivers what is stored, but has no API, and no other process can serve one on the same file (one process per SQLite file); start with --role all to take events as well, or use PostgreSQL to run API and workers apart';
  }
  return null;
}
