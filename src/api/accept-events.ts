/**
 * Accepting events from a route: refused with 429 while the project's backlog is full
 * (backlog-gate.ts), else stored and fanned out by the store; at light load the new deliveries
 * are leased to the dispatcher of this process and handed to it in memory
 * (src/delivery/handoff.ts), otherwise the dispatcher is woken to claim them.
 */
import type { AcceptedEvent, NewEventInput } from '../store/store.ts';
import type { RouteContext } from './routes/context.ts';

export async function acceptEvents(
  ctx: Pick<RouteContext, 'store' | 'wake' | 'handoff' | 'backlog'>,
  projectId: string,
  inputs: NewEventInput[],
): Promise<AcceptedEvent[]> {
  await ctx.backlog?.admit(projectId);
  const handoff = ctx.store.capabilities.leaseOnAccept ? ctx.handoff() : null;
  const lease = handoff?.lease() ?? null;
  const accepted = await ctx.store.acceptEvents(projectId, inputs, Date.now(), lease ? { lease } : {});
  const handedOff = handoff && lease ? handoff.send(accepted) : 0;
  let created = 0;
  for (const a of accepted) if (!a.duplicate) created += a.deliveries.length;
  ctx.backlog?.added(projectId, created);
  if (created > handedOff) ctx.wake();
  return accepted;
}
