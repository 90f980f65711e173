/**
 * Store.finishEndpointDeletes over one store's reads and its delete's close loop: each project's
 * deleted endpoints that still have pending or parked deliveries, their backlog closed one after
 * the other. A store closed under it (a stop) ends it quietly: the next start goes on.
 */
export interface EndpointDeleteSteps {
  /** Every project's id. */
  projects(): Promise<string[]>;
  /** The project's deleted endpoints with pending or parked deliveries left. */
  deletedWithBacklog(projectId: string): Promise<string[]>;
  /** Closes one of them, a batch per write (as the delete does). */
  closeBacklog(projectId: string, endpointId: string): Promise<void>;
  closed(): boolean;
}

/** Resolves with how many endpoints had some. */
export async function finishEndpointDeletes(steps: EndpointDeleteSteps): Promise<number> {
  let finished = 0;
  try {
    for (const projectId of await steps.projects()) {
      for (const endpointId of await steps.deletedWithBacklog(projectId)) {
        if (steps.closed()) return finished;
        await steps.closeBacklog(projectId, endpointId);
        finished++;
      }
    }
  } catch (error) {
    if (steps.closed()) return finished;
    throw error;
  }
  return finished;
}
