/**
 * How a process's delivery slots are shared between projects (tenants). Pure: the dispatcher
 * passes its counts in.
 *
 * A project may hold up to its cap (HERALD_PROJECT_CONCURRENCY, 768 of 1024 by default). The
 * process's last free slots, as many as the process cap minus the project cap (the reserve, 256),
 * go only to projects with fewer than one endpoint's cap (HERALD_ENDPOINT_CONCURRENCY, 64) in
 * flight. Without the reserve, two tenants with many slow endpoints took 768 and 256 slots and a
 * third tenant's event waited for one of their attempts to end; with it the second stops at 64 and
 * the reserve's other 192 slots stay for projects that use few.
 */

export interface SlotCounts {
  /** The project's attempts in flight. */
  own: number;
  /** The process's free slots. */
  free: number;
  /** The most one project may hold. */
  projectCap: number;
  /** The most the process holds. */
  processCap: number;
  /** Below this many in flight a project may use the reserve (one endpoint's cap). */
  smallProject: number;
}

/** How many more attempts the project may start now: 0 when it must wait. */
export function projectRoomNow(c: SlotCounts): number {
  const free = Math.max(0, c.free);
  const reserve = Math.max(0, c.processCap - c.projectCap);
  const underCap = Math.max(0, c.projectCap - c.own);
  // Slots any project may use, up to one endpoint's cap in flight, the reserve included.
  const small = Math.min(Math.max(0, c.smallProject - c.own), free, underCap);
  // Beyond that, only slots above the reserve.
  const large = Math.max(0, Math.min(underCap - small, free - small - reserve));
  return small + large;
}
