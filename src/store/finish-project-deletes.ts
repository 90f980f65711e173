/**
 * Store.finishProjectDeletes over one store's read of the projects whose delete began (`deleting`,
 * set in the delete's first write) and its delete: each finished in turn, in the delete's steps. A
 * store closed under it (a stop) ends it quietly: the next start goes on.
 */
export interface ProjectDeleteSteps {
  /** The projects whose delete began and did not end. */
  deleting(): Promise<string[]>;
  /** Store.deleteProject: goes on from wherever the last one stopped. */
  deleteProject(projectId: string): Promise<boolean>;
  closed(): boolean;
}

/** Resolves with how many it finished. */
export async function finishProjectDeletes(steps: ProjectDeleteSteps): Promise<number> {
  let finished = 0;
  try {
    for (const projectId of await steps.deleting()) {
      if (steps.closed()) return finished;
      if (await steps.deleteProject(projectId)) finished++;
    }
  } catch (error) {
    if (steps.closed()) return finished;
    throw error;
  }
  return finished;
}
