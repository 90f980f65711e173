/**
 * The endpoints the events screens name (a delivery's or an attempt's endpoint id → the endpoint),
 * kept for the session per API client and project: each endpoint is read once, by its id, when a
 * screen first needs it, instead of every screen reading the project's whole endpoint list. A
 * screen that needs many unknown ones at once (an event fanned out to hundreds of endpoints) reads
 * the list once instead (up to ENDPOINTS_CAP), then the ones still unknown by id, up to BY_ID.
 * The dashboard's own edits update it (rememberEndpoint, forgetEndpoint); an endpoint changed
 * elsewhere shows its old name until the page is loaded again.
 */
import { ApiError } from './api/api-error.ts';
import type { HeraldClient } from './api/client.ts';
import type { Endpoint } from './api/types.ts';
import { useAsync } from './use-async.ts';

/** Unknown ids a screen reads one by one; with more than this, it reads the list first. */
export const ONE_BY_ONE = 20;
/** Unknown ids read one by one per call at most; the others show their delivery's URL. */
export const BY_ID = 100;

interface Directory {
  /**
   * id → the endpoint, null when it no longer exists; a read under way is there as its promise
   * (undefined if it then fails otherwise than by a 404: it is dropped, and read again next time).
   */
  known: Map<string, Promise<Endpoint | null | undefined>>;
  /** The list read (once), when a screen needed more than ONE_BY_ONE unknown ids. */
  listed: Promise<void> | null;
}

const directories = new WeakMap<HeraldClient, Map<string, Directory>>();

function directory(client: HeraldClient, project: string): Directory {
  let projects = directories.get(client);
  if (!projects) {
    projects = new Map();
    directories.set(client, projects);
  }
  let found = projects.get(project);
  if (!found) {
    found = { known: new Map(), listed: null };
    projects.set(project, found);
  }
  return found;
}

/** Records an endpoint as the dashboard just read or saved it. */
export function rememberEndpoint(client: HeraldClient, project: string, endpoint: Endpoint): void {
  directory(client, project).known.set(endpoint.id, Promise.resolve(endpoint));
}

/** Forgets an endpoint (deleted, or changed in a way not read back): the next screen reads it again. */
export function forgetEndpoint(client: HeraldClient, project: string, id: string): void {
  directory(client, project).known.delete(id);
}

/**
 * The endpoints of `ids` (known, or read now): null for those the API says do not exist (deleted,
 * so a delivery to one cannot be retried); ids it could not read are left out.
 */
export async function endpointsById(
  client: HeraldClient,
  project: string,
  ids: readonly string[],
): Promise<Map<string, Endpoint | null>> {
  const dir = directory(client, project);
  const wanted = [...new Set(ids)];
  const unknown = () => wanted.filter((id) => !dir.known.has(id));
  if (unknown().length > ONE_BY_ONE && !dir.listed) {
    const listed = client.listEndpoints(project).then(({ data }) => {
      for (const endpoint of data)
        if (!dir.known.has(endpoint.id)) dir.known.set(endpoint.id, Promise.resolve(endpoint));
    });
    dir.listed = listed;
    // A failed read is not kept: the next screen tries again (the ids are read one by one meanwhile).
    await listed.catch(() => {
      if (dir.listed === listed) dir.listed = null;
    });
  }
  for (const id of unknown().slice(0, BY_ID)) {
    const read = client.getEndpoint(project, id).then(
      (endpoint) => endpoint,
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return null;
        if (dir.known.get(id) === read) dir.known.delete(id);
        return undefined;
      },
    );
    dir.known.set(id, read);
  }
  const found = new Map<string, Endpoint | null>();
  for (const id of wanted) {
    const endpoint = await dir.known.get(id);
    if (endpoint !== undefined) found.set(id, endpoint);
  }
  return found;
}

/** endpointsById for a screen: reads again only when the set of ids changes. */
export function useEndpointsById(client: HeraldClient, project: string, ids: readonly string[]) {
  const key = [...new Set(ids)].sort().join(',');
  return useAsync(() => endpointsById(client, project, key ? key.split(',') : []), [client, project, key]);
}
