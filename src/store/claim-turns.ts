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
  /** Each place in `endpoint` as it was before the claim under way changed it (markTurnCursor). */
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
export interface TurnCursorMark {
  project: number;
  pruneAt: number;
  owed: number;
  undo: Map<string, number | undefined>;
}

/**
 * Marks where a claim starts: from now on the cursor keeps each place it changes as it was, so
 * that resetTurnCursor can put it back. A copy of the places at each claim cost a claim as many
 * as projects claimed from (100,000 at 100,000 projects with an endpoint).
 */
export function markTurnCursor(cursor: TurnCursor): TurnCursorMark {
  const undo = new Map<string, number | undefined>();
  cursor.undo = undo;
  return { project: cursor.project, pruneAt: cursor.pruneAt, owed: cursor.owed, undo };
}

/** Puts `cursor` back where `mark` (markTurnCursor) was: a claim that rolled back gave no turns. */
export function resetTurnCursor(cursor: TurnCursor, mark: TurnCursorMark): void {
  for (const [projectId, place] of mark.undo) {
    if (place === undefined) cursor.endpoint.delete(projectId);
    else cursor.endpoint.set(projectId, place);
  }
  mark.undo.clear();
  cursor.project = mark.project;
  cursor.pruneAt = mark.pruneAt;
  cursor.owed = mark.owed;
}

/** Sets (or, with undefined, drops) a project's place, kept as it was for resetTurnCursor. */
function setPlace(cursor: TurnCursor, projectId: string, place: number | undefined): void {
  if (cursor.undo && !cursor.undo.has(projectId)) cursor.undo.set(projectId, cursor.endpoint.get(projectId));
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
 * The endpoints that take turns, grouped by project, projects in the order their first endpoint
 * comes in the list they were made of (turnList): made once per read of the active endpoints, so
 * that a claim plans over the projects it visits, not over all of them. Planned from the bare list
 * at each claim, the turns cost 25-70 ms of JavaScript per claim at 100,000 projects. Ids only, no
 * object per endpoint: a claim makes those of the projects it visits (groupOf).
 */
export interface TurnList {
  /** Each project's id, projects in turn order. */
  projectIds: readonly string[];
  /** The endpoints' ids, each project's together: the g-th project's from starts[g] to starts[g + 1]. */
  ids: readonly string[];
  starts: readonly number[];
  /** Each project's place in `projectIds`: made the first time a claim needs it (projectsOf). */
  projects?: Map<string, number>;
  /** Each endpoint's project's place, by its id: made the first time a claim leaves one out. */
  byEndpoint?: Map<string, number>;
  /** Whether `projectIds` are in code unit order: looked at the first time its projects are read again (withProjectsRead). */
  ordered?: boolean;
}

/** `endpoints` (the active ones, in a stable order) grouped by project (TurnList). */
export const turnList = (endpoints: readonly TurnEndpoint[]): TurnList =>
  turnListOf(endpoints.map((ep) => [ep.projectId, ep.id]));

/**
 * turnList of `[project id, endpoint id]` pairs. `grouped`: each project's come together (the
 * stores read them ordered by project), so no project is looked up while the list is made;
 * otherwise each project's are gathered at its first.
 */
export function turnListOf(rows: readonly (readonly [string, string])[], grouped = false): TurnList {
  const projectIds: string[] = [];
  const ids: string[] = [];
  const starts: number[] = [];
  if (grouped) {
    for (const [projectId, id] of rows) {
      if (projectIds[projectIds.length - 1] !== projectId) {
        projectIds.push(projectId);
        starts.push(ids.length);
      }
      ids.push(id);
    }
    starts.push(ids.length);
    return { projectIds, ids, starts };
  }
  const gathered = new Map<string, string[]>();
  for (const [projectId, id] of rows) {
    const group = gathered.get(projectId);
    if (group) group.push(id);
    else {
      gathered.set(projectId, [id]);
      projectIds.push(projectId);
    }
  }
  for (const group of gathered.values()) {
    starts.push(ids.length);
    for (const id of group) ids.push(id);
  }
  starts.push(ids.length);
  return { projectIds, ids, starts };
}

/**
 * `list` with the endpoints of the projects `changed` read again: `rows`, their active endpoints as
 * `[project id, endpoint id]` in project then id order (none for a project that has none now). The
 * same list a read of them all would make (turnListOf, grouped), each project in its place in id
 * order, so that a change to one project's endpoints costs a read of that project's rather than
 * of every active endpoint (63-82 ms at 100,000 on PostgreSQL, 83 ms on SQLite), and the rest
 * is copied in slices (a push per id: 2-8 ms at 100,000). Undefined when `list` or `rows` is not
 * in that order (a database whose order is not the code units'): where a project goes is not
 * known, and the stores read them all.
 */
export function withProjectsRead(
  list: TurnList,
  changed: ReadonlySet<string>,
  rows: readonly (readonly [string, string])[],
): TurnList | undefined {
  const read = turnListOf(rows, true);
  for (let g = 0; g < read.projectIds.length; g++) {
    if (!changed.has(read.projectIds[g]!) || (g > 0 && read.projectIds[g - 1]! >= read.projectIds[g]!))
      return;
    for (let i = read.starts[g]! + 1; i < read.starts[g + 1]!; i++)
      if (read.ids[i - 1]! >= read.ids[i]!) return;
  }
  if (!inOrder(list)) return;
  const projectParts: (readonly string[])[] = [];
  const idParts: (readonly string[])[] = [];
  const starts: number[] = [];
  let taken = 0; // list's groups before this one are taken or dropped
  let count = 0; // ids in the parts so far
  const take = (to: number) => {
    if (to <= taken) return;
    const from = list.starts[taken]!;
    projectParts.push(list.projectIds.slice(taken, to));
    idParts.push(list.ids.slice(from, list.starts[to]));
    for (let g = taken; g < to; g++) starts.push(list.starts[g]! - from + count);
    count += list.starts[to]! - from;
    taken = to;
  };
  let r = 0;
  // Default sort: by code units, as `<`.
  for (const projectId of [...changed].sort()) {
    take(placeOf(list.projectIds, projectId));
    if (list.projectIds[taken] === projectId) taken++;
    if (read.projectIds[r] !== projectId) continue;
    projectParts.push([projectId]);
    idParts.push(read.ids.slice(read.starts[r], read.starts[r + 1]));
    starts.push(count);
    count += read.starts[r + 1]! - read.starts[r]!;
    r++;
  }
  take(list.projectIds.length);
  starts.push(count);
  const projectIds = ([] as string[]).concat(...projectParts);
  return { projectIds, ids: ([] as string[]).concat(...idParts), starts, ordered: true };
}

/** Whether `list`'s projects are in code unit order (looked at once per list). */
function inOrder(list: TurnList): boolean {
  if (list.ordered === undefined) {
    let ordered = true;
    for (let g = 1; g < list.projectIds.length && ordered; g++)
      ordered = list.projectIds[g - 1]! < list.projectIds[g]!;
    list.ordered = ordered;
  }
  return list.ordered;
}

/** The place of the first of `sorted` not before `id`. */
function placeOf(sorted: readonly string[], id: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Each project's place in `list`. */
function projectsOf(list: TurnList): Map<string, number> {
  if (!list.projects) {
    const projects = new Map<string, number>();
    for (const [g, projectId] of list.projectIds.entries()) projects.set(projectId, g);
    list.projects = projects;
  }
  return list.projects;
}

/** The g-th project's endpoints in `list` (CALLBACKS_ID: its callbacks). */
function groupOf(list: TurnList, g: number): TurnEndpoint[] {
  const projectId = list.projectIds[g]!;
  const out: TurnEndpoint[] = [];
  for (let i = list.starts[g]!; i < list.starts[g + 1]!; i++) out.push({ projectId, id: list.ids[i]! });
  return out;
}

/** The place in `list` of the project of the endpoint or callbacks a key (turnKey) names. */
function groupOfKey(list: TurnList, key: string): number | undefined {
  if (key.startsWith(CALLBACKS_KEY_PREFIX))
    return projectsOf(list).get(key.slice(CALLBACKS_KEY_PREFIX.length));
  if (!list.byEndpoint) {
    const byEndpoint = new Map<string, number>();
    for (let g = 0; g < list.projectIds.length; g++)
      for (let i = list.starts[g]!; i < list.starts[g + 1]!; i++) {
        const id = list.ids[i]!;
        if (id !== CALLBACKS_ID) byEndpoint.set(id, g);
      }
    list.byEndpoint = byEndpoint;
  }
  return list.byEndpoint.get(key);
}

/**
 * Drops the cursor's place in projects that have no active endpoint (deleted, or all their endpoints
 * deleted or disabled): it kept one per project ever claimed from, for the process's life, however
 * many were deleted since. Looked for once it holds twice as many as after the last look, so a claim
 * pays for it O(1) on average. A project that comes back starts again at its first endpoint.
 */
function pruneCursor(cursor: TurnCursor, list: TurnList): void {
  if (cursor.endpoint.size < cursor.pruneAt) return;
  for (const projectId of [...cursor.endpoint.keys()])
    if (!projectsOf(list).has(projectId)) setPlace(cursor, projectId, undefined);
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
 * Up to `max` of the endpoints of `turns` (a TurnList, or the active endpoints in a stable order),
 * `leftOut` left out, visited a round at a time: each project's next endpoint, projects starting
 * at the cursor's, then each project's one after that, and so on. A project with one endpoint is
 * visited in every claim that reaches it, however many endpoints another has. Looks only at the
 * projects it visits and those `leftOut` names: a claim's turns at 100,000 projects cost what they
 * cost at 300.
 */
export function planTurns(
  turns: TurnList | readonly TurnEndpoint[],
  leftOut: ReadonlySet<string>,
  cursor: TurnCursor,
  max: number,
): TurnPlan {
  const list = 'projectIds' in turns ? turns : turnList(turns);
  pruneCursor(cursor, list);
  // The projects with endpoints left out: their endpoints not left out, if any (none: no turn).
  const trimmed = new Map<number, readonly TurnEndpoint[]>();
  for (const key of leftOut) {
    const g = groupOfKey(list, key);
    if (g === undefined || trimmed.has(g)) continue;
    trimmed.set(
      g,
      groupOf(list, g).filter((ep) => !leftOut.has(turnKey(ep))),
    );
  }
  const gone: number[] = [];
  for (const [g, group] of trimmed) if (group.length === 0) gone.push(g);
  gone.sort((x, y) => x - y);
  const total = list.projectIds.length;
  const p = total - gone.length;
  const visited: TurnEndpoint[] = [];
  const projectOf: number[] = [];
  if (p === 0) return { visited, projectOf, firstRound: 0 };
  // The cursor's project (the `cursor.project % p`-th of those with a turn), as a place in `list`.
  let first = cursor.project % p;
  for (const g of gone) if (g <= first) first++;
  // The projects in turn order, as far as the plan needs them (every one only when fewer than `max`).
  const order: (readonly TurnEndpoint[])[] = [];
  for (let g = first, n = 0; n < p && order.length < max; g = (g + 1) % total) {
    if (gone.length && trimmed.get(g)?.length === 0) continue;
    order.push(trimmed.get(g) ?? groupOf(list, g));
    n++;
  }
  // Rounds until `max`, or until a round finds no project with an endpoint left.
  for (let round = 0, more = true; more && visited.length < max; round++) {
    more = false;
    for (let i = 0; i < order.length && visited.length < max; i++) {
      const group = order[i]!;
      if (round >= group.length) continue;
      more = true;
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
export const callbacksKey = (projectId: string): string => `${CALLBACKS_KEY_PREFIX}${projectId}`;

const CALLBACKS_KEY_PREFIX = 'callbacks/';

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
 * withCallbackTurns for a TurnList: the same turns as turnList(withCallbackTurns(endpoints, ...)),
 * made from the list already grouped. The stores keep it as long as both lists it is made of.
 */
export function withCallbackTurnList(list: TurnList, callbackProjects: readonly string[]): TurnList {
  if (callbackProjects.length === 0) return list;
  const withCallbacks = new Set<number>();
  const projectIds = list.projectIds.slice();
  const projects = projectsOf(list);
  const added = new Set<string>();
  for (const projectId of callbackProjects) {
    const g = projects.get(projectId);
    if (g !== undefined) withCallbacks.add(g);
    else if (!added.has(projectId)) {
      added.add(projectId);
      projectIds.push(projectId);
    }
  }
  const ids: string[] = [];
  const starts: number[] = [];
  for (let g = 0; g < projectIds.length; g++) {
    starts.push(ids.length);
    if (g < list.projectIds.length) {
      for (let i = list.starts[g]!; i < list.starts[g + 1]!; i++) ids.push(list.ids[i]!);
      if (withCallbacks.has(g)) ids.push(CALLBACKS_ID);
    } else ids.push(CALLBACKS_ID);
  }
  starts.push(ids.length);
  return { projectIds, ids, starts };
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
