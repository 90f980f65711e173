import type { Config } from './config-types.ts';

/**
 * What a split role means on the embedded SQLite store, where exactly one process may serve the
 * file at a time (store/sqlite/serving-lock.ts): while this process runs, no other can take the
 * missing half. A start with `api` stores every event and sends none until a process that delivers
 * serves the file after it; with `worker`, nothing new comes in meanwhile. Both are used, one after
 * the other on one file (holding deliveries back while a backlog builds, then draining it: the
 * bench's backlog scenario, test/e2e/ssrf.test.ts), so the start goes on, but says so, once, as a
 * warning; null for `all`.
 */
export function roleOnSqliteWarning(role: Config['role']): string | null {
  if (role === 'api') {
    return 'HERALD_ROLE (--role) is api on the embedded SQLite store: events are accepted and stored, but none is delivered while this process runs, and no other process may serve the same file meanwhile (one process per SQLite file); they are sent once a --role all or worker process serves it after this one stops. To deliver as events come, use --role all, or PostgreSQL to run API and workers side by side';
  }
  if (role === 'worker') {
    return 'HERALD_ROLE (--role) is worker on the embedded SQLite store: this process delivers what is stored but serves no API, and no other process may serve one on the same file meanwhile (one process per SQLite file); no new events come in until a --role all or api process serves it after this one stops. To take events as well, use --role all, or PostgreSQL to run API and workers side by side';
  }
  return null;
}
