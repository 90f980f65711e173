/**
 * Projects' retry schedules for the dispatcher, read from the store at most every
 * PROJECT_SCHEDULE_TTL_MS per project: a changed schedule applies to attempts recorded after that.
 */
import type { Store } from '../store/store.ts';

export const PROJECT_SCHEDULE_TTL_MS = 5_000;
/** Projects held before those past their time are dropped. */
const PRUNE_AT = 1_000;

/** The project's retry schedule (null: none of its own, or the project is gone). */
export type ProjectSchedules = (projectId: string) => Promise<number[] | null>;

export function createProjectSchedules(
  store: Pick<Store, 'getProject'>,
  clock: () => number,
): ProjectSchedules {
  const cache = new Map<string, { schedule: number[] | null; at: number }>();
  return async (projectId) => {
    const hit = cache.get(projectId);
    if (hit && clock() - hit.at < PROJECT_SCHEDULE_TTL_MS) return hit.schedule;
    const project = await store.getProject(projectId);
    const schedule = project?.retrySchedule ?? null;
    const at = clock();
    // Entries past their time are read again anyway: dropped once there are many, so projects
    // deleted or no longer sending do not stay here for the process's life.
    if (cache.size >= PRUNE_AT) {
      for (const [id, entry] of cache) if (at - entry.at >= PROJECT_SCHEDULE_TTL_MS) cache.delete(id);
    }
    cache.set(projectId, { schedule, at });
    return schedule;
  };
}
