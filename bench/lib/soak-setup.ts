/** The soak's catalog, its project and one endpoint per entry of the plan (lib/soak-plan.ts). */
import type { SoakApi } from './soak-api.ts';
import { EVENT_MIX, PROJECT_RETRY_SCHEDULE, type SoakEndpoint } from './soak-plan.ts';

export interface SoakProject {
  /** `/api/v1/projects/<id>`, the prefix of every project route. */
  path: string;
  /** Endpoint id by the plan's key. */
  endpointIds: Map<string, string>;
  /** The plan's key by endpoint id. */
  keyOf: Map<string, string>;
  /** `<path>/endpoints/<id>` of the endpoint with this key. */
  endpointPath(key: string): string;
}

/** `origins[e.origin]` is the receiver origin each endpoint's URL starts with. */
export async function setUpSoakProject(
  api: SoakApi,
  endpoints: readonly SoakEndpoint[],
  origins: readonly string[],
  retryScale: number,
): Promise<SoakProject> {
  // Test sends deliver the catalog's examples.
  for (const { type } of EVENT_MIX) {
    await api.json('PUT', `/api/v1/event-types/${type}`, { example: { orderId: 1, test: true } });
  }
  // The project's schedule is the callbacks' (they have no endpoint).
  const project = (
    await api.json<{ id: string }>('POST', '/api/v1/projects', {
      name: 'soak',
      retrySchedule: PROJECT_RETRY_SCHEDULE.map((d) => Math.round(d * retryScale * 1000) / 1000),
    })
  ).id;
  const path = `/api/v1/projects/${project}`;
  const endpointIds = new Map<string, string>();
  const keyOf = new Map<string, string>();
  for (const e of endpoints) {
    const created = await api.json<{ id: string }>('POST', `${path}/endpoints`, {
      url: `${origins[e.origin]}${e.path}`,
      name: e.key,
      eventTypes: e.eventTypes,
      ...(e.timeoutMs ? { timeoutMs: e.timeoutMs } : {}),
      ...(e.retrySchedule ? { retrySchedule: e.retrySchedule } : {}),
    });
    endpointIds.set(e.key, created.id);
    keyOf.set(created.id, e.key);
  }
  return {
    path,
    endpointIds,
    keyOf,
    endpointPath: (key) => `${path}/endpoints/${endpointIds.get(key)}`,
  };
}
