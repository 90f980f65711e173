/**
 * What the dispatcher reads from the store before it starts a claimed batch: the endpoints (with
 * their opened secrets, dispatch-cache.ts), each project's retry schedule, and the batch's rate
 * tokens. All of it comes first, so the launch/release pass that follows is synchronous and nothing
 * is ever left claimed but not started. That pass must follow in the same turn of the event loop
 * (nothing but promise hops in between): the batch's rate tokens are added to those of batches
 * prepared alongside it, and what is left when the turn ends is dropped (rate-gate.ts). A read that
 * fails puts the whole batch back and rethrows: due at once when this process's key cannot open the
 * secrets (a process that can takes them), in a second otherwise.
 */
import { isSecretKeyMismatch } from '../store/secret-cipher.ts';
import type { ClaimedDelivery, DispatchEndpoint, Store } from '../store/store.ts';
import type { ProjectSchedules } from './project-schedules.ts';
import type { RateGate } from './rate-gate.ts';
import { releaseItems } from './release-items.ts';

export interface BatchReads {
  /** The batch's endpoints by id; one deleted since its event was accepted is missing. */
  endpoints: Map<string, DispatchEndpoint>;
  /** Each project's retry schedule (null: the installation's). */
  schedules: Map<string, number[] | null>;
  /** When the endpoints were read (held deliveries check their view's age against it). */
  readAt: number;
}

/** How long a batch put back after a failed read waits (a key mismatch: none). */
const READ_FAILURE_RETRY_MS = 1_000;

export async function readBatch(
  store: Pick<Store, 'getDispatchEndpoints' | 'releaseDeliveries'>,
  claimed: ClaimedDelivery[],
  projectSchedule: ProjectSchedules,
  rateGate: Pick<RateGate, 'prepare'>,
  clock: () => number,
): Promise<BatchReads> {
  const schedules = new Map<string, number[] | null>();
  const readAt = clock();
  try {
    const refs = claimed
      .filter((c) => c.delivery.endpointId !== null)
      .map((c) => ({ projectId: c.delivery.projectId, endpointId: c.delivery.endpointId! }));
    const endpoints = refs.length ? await store.getDispatchEndpoints(refs, readAt) : new Map();
    for (const c of claimed) {
      const id = c.delivery.projectId;
      if (!schedules.has(id)) schedules.set(id, await projectSchedule(id));
    }
    // One store call per batch, rate-limited endpoints only; last, so nothing is awaited between it and the pass.
    await rateGate.prepare(claimed, endpoints, clock);
    return { endpoints, schedules, readAt };
  } catch (error) {
    const at = clock() + (isSecretKeyMismatch(error) ? 0 : READ_FAILURE_RETRY_MS);
    await store.releaseDeliveries(releaseItems(claimed, at)).catch(() => {}); // if even this fails, the lease brings them back
    throw error;
  }
}
