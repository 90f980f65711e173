/**
 * Which endpoints a claim's part in turn visits (the per-endpoint probes, claims.ts of each store),
 * and how much each may take: projects in turn first, then each project's endpoints in turn, so a
 * tenant's share does not grow with its number of endpoints. Pure: the stores keep the cursor and
 * run the probes.
 *
 * Endpoints used to take turns in one list: a project with 1,000 endpoints held 1,000 of every
 * 1,001 turns, and another project's one endpoint got one delivery every ~16 claims (a turn of 64
 * rows, one each, over 1,001 endpoints). In a scratch run (SQLite, 200,000 deliveries of one tenant
 * to 1,000 fast endpoints, a second tenant sending 5 events a second to its one endpoint) that was
 * 0.6 of its 5 a second: its events waited for the first tenant's whole backlog (p50 49 s).
 */

import { FAIR_CLAIM_MIN, FAIR_SHARE } from './claim-limits.ts';

export interface TurnEndpoint {
  projectId: string;
  id: string;
}

/** Where the next claim's turns start: a project, and each project's next endpoint. */
export interface TurnCursor {
  project: number;
  endpoint: Map<string, number>;
  /** Projects in `endpoint` past which those with no active endpoint are dropped (planTurns). */
  pruneAt: number;
  /** Deliveries claimed by claims too small for a part in turn of their own, not yet given one (fairPart). */
  owed: number;
  /**
   * While a claim that may roll back runs (markTurnCursor): each project whose place it moved or
   * dropped, with the place it had before (undefined: none), so that only those are put back.
   */
  undo?: Map<string, number | undefined>;
}

/** Projects the cursor holds at least before it looks for gone ones. */
const CURSOR_PRUNE_FROM = 64;

export const newTurnCursor = (): TurnCursor => ({
  project: 0,
  endpoint: new Map(),
  pruneAt: CURSOR_PRUNE_FROM,
  owed: 0,
});

/** Where a claim whose transaction may roll back started (markTurnCursor, resetTurnCursor). */
export interface TurnMark {
  project: number;
  pruneAt: number;
  owed: number;
  undo: Map<string, number | undefined>;
}

/**
 * Marks where a claim whose transaction may roll back starts: from now on `cursor` notes the place
 * each project had before the claim moved or dropped it (until the next mark), so resetTurnCursor
 * puts back only those. A copy of the cursor, as at first, read every project's place at every
 * claim, turns or none: 3-4 ms at 10,000 projects, 40-55 ms at 100,000 (on SQLite inside the write
 * transaction), where the turns cost 1-15 ms at 10,000 only in the claims that plan them.
 */
export function markTurnCursor(cursor: TurnCursor): TurnMark {
  const undo = new Map<string, number | undefined>();
  cursor.undo = undo;
  return { project: cursor.project, pruneAt: cursor.pruneAt, owed: cursor.owed, undo };
}

/** Puts `cursor` back where it was at `mark` (markTurnCursor): a claim that rolled back gave no turns. */
export function resetTurnCursor(cursor: TurnCursor, mark: TurnMark): void {
  cursor.project = mark.project;
  cursor.pruneAt = mark.pruneAt;
  cursor.owed = mark.owed;
  for (const [projectId, place] of mark.undo) {
    if (place === undefined) cursor.endpoint.delete(projectId);
    else cursor.endpoint.set(projectId, place);
  }
  mark.undo.clear();
}

/** Sets (undefined: drops) a project's place, noting the one it had for a claim that may roll back. */
function setPlace(cursor: TurnCursor, projectId: string, place: number | undefined): void {
  const undo = cursor.undo;
  if (undo && !undo.has(projectId)) undo.set(projectId, cursor.endpoint.get(projectId));
  if (place === undefined) cursor.endpoint.delete(projectId);
  else cursor.endpoint.set(projectId, place);
}

/**
 * How many of a claim of `limit` go to endpoints in turn: a quarter (FAIR_SHARE) of a claim of
 * FAIR_CLAIM_MIN or more; of smaller ones, one for every FAIR_SHARE deliveries they claim, the
 * remainder carried to the next (a claim of 4 gives 1, one of 1 gives 1 every fourth claim).
 * Smaller claims took strictly the oldest due: with claims sized by 1 MiB payloads under 4 MiB of
 * bytes in flight (claims of 4), another project's retries waited behind a backlog of large events.
 */
export function fairPart(limit: number, cursor: TurnCursor): number {
  if (limit >= FAIR_CLAIM_MIN) return Math.floor(limit / FAIR_SHARE);
  const owed = cursor.owed + limit;
  const part = Math.min(limit, Math.floor(owed / FAIR_SHARE));
  cursor.owed = owed - part * FAIR_SHARE;
  return part;
}

/**
 * Drops the cursor's place in projects that have no active endpoint (deleted, or all their endpoints
 * deleted or disabled): it kept one per project ever claimed from, for the process's life, however
 * many were deleted since. Looked for once it holds twice as many as after the last look, so a claim
 * pays for it O(1) on average. A project that comes back starts again at its first endpoint.
 */
function pruneCursor(cursor: TurnCursor, endpoints: readonly TurnEndpoint[]): void {
  if (cursor.endpoint.size < cursor.pruneAt) return;
  const active = new Set<string>();
  for (const ep of endpoints) active.add(ep.projectId);
  for (const projectId of cursor.endpoint.keys())
    if (!active.has(projectId)) setPlace(cursor, projectId, undefined);
  cursor.pruneAt = Math.max(CURSOR_PRUNE_FROM, 2 * cursor.endpoint.size);
}

/** The endpoints a claim visits, in order, with the project each is of (its place among `projects`). */
export interface TurnPlan {
  visited: TurnEndpoint[];
  /** Per visited endpoint: the index of its project in the plan's project order. */
  projectOf: number[];
  /** How many projects the plan's first round holds (each project's first endpoint). */
  firstRound: number;
}

/**
 * Up to `max` of `endpoints` (the active ones, in a stable order), `leftOut` left out, visited a
 * round at a time: each project's next endpoint, projects starting at the cursor's, then each
 * project's one after that, and so on. A project with one endpoint is visited in every claim that
 * reaches it, however many endpoints another has.
 */
export function planTurns(
  endpoints: readonly TurnEndpoint[],
  leftOut: ReadonlySet<string>,
  cursor: TurnCursor,
  max: number,
): TurnPlan {
  pruneCursor(cursor, endpoints);
  const byProject = new Map<string, TurnEndpoint[]>();
  for (const ep of endpoints) {
    if (leftOut.has(turnKey(ep))) continue;
    const list = byProject.get(ep.projectId);
    if (list) list.push(ep);
    else byProject.set(ep.projectId, [ep]);
  }
  const groups = [...byProject.values()];
  const p = groups.length;
  const visited: TurnEndpoint[] = [];
  const projectOf: number[] = [];
  if (p === 0) return { visited, projectOf, firstRound: 0 };
  const start = cursor.project % p;
  const order = Array.from({ length: p }, (_, i) => groups[(start + i) % p]!);
  // A loop, not Math.max(...): an argument per project threw RangeError past ~125,000 projects.
  let longest = 0;
  for (const group of groups) if (group.length > longest) longest = group.length;
  for (let round = 0; round < longest && visited.length < max; round++) {
    for (let i = 0; i < p && visited.length < max; i++) {
      const group = order[i]!;
      if (round >= group.length) continue;
      const from = cursor.endpoint.get(group[0]!.projectId) ?? 0;
      visited.push(group[(from + round) % group.length]!);
      projectOf.push(i);
    }
  }
  return { visited, projectOf, firstRound: Math.min(p, max) };
}

/**
 * Each visited endpoint's limit: `want` split equally between the projects that have anything due
 * (`due`: positions in `plan.visited`; all of them when the store does not ask first), and each
 * project's part equally between its due endpoints, at least 1 each.
 */
export function turnLimits(plan: TurnPlan, want: number, due?: ReadonlySet<number>): number[] {
  const isDue = (i: number) => due === undefined || due.has(i);
  const perProject = new Map<number, number>();
  plan.visited.forEach((_, i) => {
    if (isDue(i)) perProject.set(plan.projectOf[i]!, (perProject.get(plan.projectOf[i]!) ?? 0) + 1);
  });
  const share = Math.ceil(want / Math.max(1, perProject.size));
  return plan.visited.map((_, i) =>
    isDue(i) ? Math.max(1, Math.ceil(share / perProject.get(plan.projectOf[i]!)!)) : 0,
  );
}

/**
 * The endpoint id under which a project's callback deliveries (callbackUrl, no endpoint) take their
 * turns: one more of its endpoints, after them (withCallbackTurns). No endpoint's id is empty.
 */
export const CALLBACKS_ID = '';

/**
 * The key under which a project's callbacks are left out of a claim, beside the endpoints' ids
 * (ClaimOptions.excludeCallbackProjectIds): no endpoint's id holds a '/'.
 */
export const callbacksKey = (projectId: string): string => `callbacks/${projectId}`;

/** A turn's key among those a claim leaves out: its endpoint's id, or its project's callbacks' key. */
export const turnKey = (ep: TurnEndpoint): string =>
  ep.id === CALLBACKS_ID ? callbacksKey(ep.projectId) : ep.id;

/**
 * What a claim leaves out, as keys (turnKey): its endpoints left out, and the callbacks of its
 * projects left out (those at their cap: their callbacks would only be handed back).
 */
export const leftOutKeys = (o: { excludeEndpointIds?: string[]; excludeCallbackProjectIds?: string[] }) =>
  o.excludeCallbackProjectIds?.length
    ? (o.excludeEndpointIds ?? []).concat(o.excludeCallbackProjectIds.map(callbacksKey))
    : (o.excludeEndpointIds ?? []);

/**
 * `endpoints` with one more per project of `callbackProjects` (those with callbacks due): its
 * callbacks, taking their turns as one more endpoint of that project. They took one project's part
 * beside the projects, oldest first whatever their project: one tenant's backlog of callbacks held
 * every other tenant's callbacks back until it drained (a scratch run, SQLite: another tenant's
 * callbacks waited 7.5 s behind 200,000, against 23 ms for its endpoint's deliveries).
 */
export function withCallbackTurns(
  endpoints: readonly TurnEndpoint[],
  callbackProjects: readonly string[],
): readonly TurnEndpoint[] {
  if (callbackProjects.length === 0) return endpoints;
  return endpoints.concat(callbackProjects.map((projectId) => ({ projectId, id: CALLBACKS_ID })));
}

/**
 * Moves the cursor past what a claim reached (`reached`: how many of `plan.visited`, in order): the
 * projects whose first-round turn came, and each project's endpoints visited.
 */
export function advanceTurns(cursor: TurnCursor, plan: TurnPlan, reached: number): void {
  const projects = new Set<number>();
  for (let i = 0; i < reached; i++) {
    const projectId = plan.visited[i]!.projectId;
    projects.add(plan.projectOf[i]!);
    setPlace(cursor, projectId, (cursor.endpoint.get(projectId) ?? 0) + 1);
  }
  cursor.project += Math.min(projects.size, plan.firstRound);
}
