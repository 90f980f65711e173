/**
 * Accepting events from a route: refused with 429 while the project's backlog is full (its own
 * backlogLimit, else HERALD_PROJECT_BACKLOG_LIMIT: backlog-gate.ts), unless every event repeats
 * one already accepted (its idempotency key is held: the answer is the original events and
 * nothing is created); else stored and fanned out by the store; at light load the new deliveries
 * are leased to the dispatcher of this process and handed to it in memory
 * (src/delivery/handoff.ts), otherwise the dispatcher is woken to claim them. What was created
 * is counted for /metrics.
 */
import type { Config } from '../config/config-types.ts';
import type { Project } from '../domain/types.ts';
import {
  type AcceptedEvent,
  type NewEventInput,
  type Store,
  StoreTooManyDeliveriesError,
} from '../store/store.ts';
import { BacklogFullError, countBacklogRefusal } from './backlog-gate.ts';
import { tooManyDeliveries } from './errors.ts';
import type { RouteContext } from './routes/context.ts';

/** Where accepted events are counted: `Metrics.recordAccepted` (src/metrics.ts). */
export interface AcceptRecorder {
  /** `events` newly stored (repeats of an idempotency key left out), `deliveries` their fan-out created. */
  recordAccepted(events: number, deliveries: number): void;
}

/**
 * `field`: what a 413 HERALD_ERR_TOO_MANY_DELIVERIES names (`body` for one event, `body.events`
 * for a batch): the events would create more than HERALD_MAX_DELIVERIES_PER_REQUEST deliveries,
 * counted by the store on the fan-out it would write, and nothing was stored.
 */
export async function acceptEvents(
  ctx: Pick<RouteContext, 'store' | 'wake' | 'handoff' | 'backlog'> & {
    accepted?: AcceptRecorder | null;
    config: Pick<Config, 'maxDeliveriesPerRequest'>;
  },
  project: Pick<Project, 'id' | 'backlogLimit'>,
  inputs: NewEventInput[],
  field: 'body' | 'body.events',
): Promise<AcceptedEvent[]> {
  const projectId = project.id;
  try {
    // The project as the route read it for this request: a PATCHed backlogLimit applies at once.
    await ctx.backlog?.admit(projectId, project.backlogLimit);
  } catch (err) {
    if (!(err instanceof BacklogFullError)) throw err;
    if (!(await onlyRepeats(ctx.store, projectId, inputs))) {
      countBacklogRefusal();
      throw err;
    }
  }
  const handoff = ctx.store.capabilities.leaseOnAccept ? ctx.handoff() : null;
  const lease = handoff?.lease() ?? null;
  const maxDeliveries = ctx.config.maxDeliveriesPerRequest;
  let accepted: AcceptedEvent[];
  try {
    accepted = await ctx.store.acceptEvents(projectId, inputs, Date.now(), {
      ...(lease ? { lease } : {}),
      maxDeliveries,
    });
  } catch (error) {
    if (error instanceof StoreTooManyDeliveriesError) throw tooManyDeliveries(field, error);
    throw error;
  }
  const handedOff = handoff && lease ? handoff.send(accepted) : 0;
  let created = 0;
  let stored = 0;
  for (const a of accepted) {
    if (a.duplicate) continue; // the original event, answered again: counted when it was stored
    stored++;
    created += a.deliveries.length;
  }
  ctx.accepted?.recordAccepted(stored, created);
  ctx.backlog?.added(projectId, created);
  if (created > handedOff) ctx.wake();
  return accepted;
}

/**
 * The backlog gate for the levers that create deliveries without a new event from the platform (a
 * test send, a replay): as for events, a full project's are refused (429, counted as refusals), or
 * a client looping on them would pile up pending deliveries past its limit without end. The route
 * tells the gate what it created (`BacklogGate.added`).
 */
export async function admitLever(
  backlog: RouteContext['backlog'],
  project: Pick<Project, 'id' | 'backlogLimit'>,
): Promise<void> {
  try {
    await backlog?.admit(project.id, project.backlogLimit);
  } catch (err) {
    if (err instanceof BacklogFullError) countBacklogRefusal();
    throw err;
  }
}

/** Every event has an idempotency key that already holds an accepted event (a client's retry). */
async function onlyRepeats(store: Store, projectId: string, inputs: NewEventInput[]): Promise<boolean> {
  const keys = new Set<string>();
  for (const input of inputs) {
    if (!input.idempotencyKey) return false;
    keys.add(input.idempotencyKey);
  }
  const held = await store.heldIdempotencyKeys(projectId, [...keys], Date.now());
  return held.size === keys.size;
}
