/**
 * What each step of Store.deleteProject's history (sqlite/project-delete.ts,
 * postgres/project-delete.ts) did, once it is committed: its table and the rows it deleted (or
 * `callbacks` and the pending callback deliveries it closed, the steps before the history). Null
 * but in tests, which look at the steps (or stop the delete between two, as a stop would). An
 * object, so a test can set it.
 */
export const projectDeleteSteps: { committed: ((table: string, rows: number) => void) | null } = {
  committed: null,
};
