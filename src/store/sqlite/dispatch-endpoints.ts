/**
 * What the dispatcher reads before sending, for the SQLite store: the projects' `dispatch_version`
 * (migration 0006) first, then only the endpoints whose cached view is missing or out of date
 * (src/store/dispatch-cache.ts).
 */
import type { DatabaseSync } from 'node:sqlite';
import type { DispatchCache } from '../dispatch-cache.ts';
import type { DispatchEndpoint } from '../store.ts';
import { all } from './db-helpers.ts';

/** Reads one endpoint's view as the management reads do (settings, valid secrets decrypted). */
export type LoadDispatchEndpoint = (
  projectId: string,
  endpointId: string,
  now: number,
) => DispatchEndpoint | null;

export function dispatchEndpointsSqlite(
  db: DatabaseSync,
  cache: DispatchCache,
  load: LoadDispatchEndpoint,
  refs: { projectId: string; endpointId: string }[],
  now: number,
): Map<string, DispatchEndpoint> {
  const out = new Map<string, DispatchEndpoint>();
  if (refs.length === 0) return out;
  const projectIds = [...new Set(refs.map((r) => r.projectId))];
  const versions = new Map<string, number>();
  for (const row of all(
    db,
    'SELECT id, dispatch_version FROM projects WHERE id IN (SELECT value FROM json_each(?))',
    JSON.stringify(projectIds),
  )) {
    versions.set(String(row.id), Number(row.dispatch_version));
  }
  for (const { projectId, endpointId } of refs) {
    if (out.has(endpointId)) continue;
    const version = versions.get(projectId);
    if (version === undefined) continue; // the project is gone, and its endpoints with it
    const cached = cache.get(projectId, endpointId, version, now);
    if (cached) {
      out.set(endpointId, cached);
      continue;
    }
    // Read after the version: a change committed in between is newer than the version it is kept
    // under, and the next read (seeing the newer version) loads it again.
    const loaded = load(projectId, endpointId, now);
    if (!loaded) continue;
    if (!loaded.unopened) cache.set(projectId, endpointId, version, loaded);
    out.set(endpointId, loaded);
  }
  return out;
}
