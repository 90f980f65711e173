/**
 * Intake backpressure per project (HERALD_PROJECT_BACKLOG_LIMIT, or the project's own
 * `backlogLimit` when the admin set one): once a project has that many pending deliveries, its new
 * events are refused with 429 `HERALD_ERR_BACKLOG_FULL` and a Retry-After, until Herald has
 * delivered some. Without it, a platform posting faster than its
 * receivers take (the API accepts ~40,000 deliveries/s, a process delivers a few thousand) grows
 * the backlog until the disk is full, and every tenant's deliveries wait behind it.
 *
 * Counting a project's pending deliveries walks an index (`Store.countPendingDeliveries`), so it is
 * counted rarely and the count is kept, per project, with what this process accepted since:
 * - `pending + accepted since` is an upper bound of the backlog (deliveries leave it as they are
 *   delivered), so while it is under the limit the request goes through without a count;
 * - the project is counted again when that bound reaches the limit, and in the background once
 *   the count is older than REFRESH_MS (other processes' accepts, an enable resuming parked work);
 * - a project a count found full is counted again at most once per FULL_RECOUNT_MS; and no
 *   project more often than twenty times the last count took, so counting a project at its limit
 *   costs at most ~5 % of a thread.
 * A soft bound: a request admitted under the limit may take the project past it by its own
 * deliveries, and other API processes' accepts are seen at the next count.
 *
 * The limit is the caller's at each request (the project row the route read for it), so a changed
 * `backlogLimit` applies from the next request. A count is capped at the limit it was taken for:
 * one that reached a lower cap than the limit now is only "at least", and is taken again before
 * the request is refused or admitted on it.
 */
import { counted } from '../domain/counted.ts';
import { HeraldError } from './errors.ts';

/** A count older than this is taken again in the background (requests are not held for it). */
export const REFRESH_MS = 10_000;
/** A full project is counted again at most this often. */
export const FULL_RECOUNT_MS = 1_000;
/** Projects whose counts are kept (least recently used ones are forgotten first). */
const PROJECTS_KEPT = 10_000;

let refusedInProcess = 0;
/** Requests this process refused for a full backlog, every gate together (herald_backlog_full_refusals_total). */
export const backlogRefusals = (): number => refusedInProcess;
/**
 * A request refused for a full backlog (accept-events.ts, once it is not answered anyway as a
 * repeat of accepted events: those are not refusals).
 */
export const countBacklogRefusal = (): void => {
  refusedInProcess++;
};

/** Where a project's limit comes from: the installation's setting, or the project's own field. */
export type LimitSource = 'installation' | 'project';

/** 429: the project's pending deliveries reached its backlogLimit, else HERALD_PROJECT_BACKLOG_LIMIT. */
export class BacklogFullError extends HeraldError {
  constructor(
    limit: number,
    pending: number,
    retryAfterSeconds: number,
    source: LimitSource = 'installation',
  ) {
    const named = source === 'project' ? "the project's backlogLimit" : 'HERALD_PROJECT_BACKLOG_LIMIT';
    super(
      429,
      'HERALD_ERR_BACKLOG_FULL',
      `this project has reached its limit of ${counted(limit, 'pending deliveries')} (${named}; counted: ${pending}, a bound, not an exact count): ` +
        `nothing of this request was stored; retry in ${retryAfterSeconds} s, once some are delivered`,
      { details: { limit, pending, retryAfterSeconds }, retryAfterSeconds },
    );
    this.name = 'BacklogFullError';
  }
}

export interface BacklogGateOptions {
  /** HERALD_PROJECT_BACKLOG_LIMIT: the limit of a project without its own; null or 0: none. */
  limit: number | null;
  /** The project's pending deliveries, counted up to `atMost`. */
  count: (projectId: string, atMost: number) => Promise<number>;
  /** A count found the project full, or found room again after it was (for one log line each). */
  onChange?: (projectId: string, full: boolean, pending: number, limit: number) => void;
  clock?: () => number;
}

interface ProjectCount {
  /** The last count, capped at `cap`. */
  pending: number;
  /** The limit the last count was capped at (`atMost`): a count that reached it is "at least". */
  cap: number;
  /** The limit the last request met (0: none); undefined before the first. */
  seenLimit?: number;
  /** When the count was started (accepts after that are in `accepted`). */
  countedAt: number;
  /** How long the last count took, ms. */
  costMs: number;
  /** Deliveries this process created for the project since the count started. */
  accepted: number;
  counting: Promise<void> | null;
}

export class BacklogGate {
  readonly #limit: number;
  readonly #count: BacklogGateOptions['count'];
  readonly #clock: () => number;
  readonly #onChange: BacklogGateOptions['onChange'];
  readonly #projects = new Map<string, ProjectCount>();

  constructor(options: BacklogGateOptions) {
    this.#limit = options.limit ?? 0;
    this.#count = options.count;
    this.#clock = options.clock ?? Date.now;
    this.#onChange = options.onChange;
  }

  /**
   * Resolves when the project may take more events; throws BacklogFullError when it is full.
   * `projectLimit` is the project's own backlogLimit (0: none for it); null or absent: the
   * installation's.
   */
  async admit(projectId: string, projectLimit: number | null = null): Promise<void> {
    const limit = projectLimit ?? this.#limit;
    const state = this.#state(projectId);
    // A project whose requests met no limit (0) was not counted meanwhile: once it has one, it is
    // counted before it is admitted, not on a bound from before (the retester's 1,000 over).
    const lowered = state.seenLimit !== undefined && state.seenLimit <= 0;
    state.seenLimit = limit;
    if (limit <= 0) return;
    const now = this.#clock();
    const age = now - state.countedAt;
    // A count capped below this limit that reached its cap says only "at least": not a bound.
    const capped = (state.pending >= state.cap && state.cap < limit) || lowered;
    if (!capped && state.pending + state.accepted < limit) {
      if (age >= this.#spacing(state, REFRESH_MS)) void this.#recount(projectId, state, limit);
      return;
    }
    // Full by the bound: count again, unless the last count found the project full moments ago.
    const floor = state.pending >= limit && !capped ? FULL_RECOUNT_MS : 0;
    if (age >= this.#spacing(state, floor) || state.counting || capped) {
      await this.#recount(projectId, state, limit);
    }
    if (state.pending + state.accepted < limit) return;
    const retryAfter = Math.max(1, Math.ceil(this.#spacing(state, FULL_RECOUNT_MS) / 1000));
    const source = projectLimit === null ? 'installation' : 'project';
    throw new BacklogFullError(limit, state.pending + state.accepted, retryAfter, source);
  }

  /** The deliveries an admitted request created. */
  added(projectId: string, deliveries: number): void {
    const state = this.#projects.get(projectId);
    if (state) state.accepted += deliveries;
  }

  /** At least `floor` between two counts of a project, and twenty times what the last one took. */
  #spacing(state: ProjectCount, floor: number): number {
    return Math.max(floor, state.costMs * 20);
  }

  #state(projectId: string): ProjectCount {
    let state = this.#projects.get(projectId);
    if (state) {
      this.#projects.delete(projectId); // most recently used last
    } else {
      state = { pending: 0, cap: Infinity, countedAt: -Infinity, costMs: 0, accepted: 0, counting: null };
      if (this.#projects.size >= PROJECTS_KEPT) {
        const oldest = this.#projects.keys().next().value;
        if (oldest !== undefined) this.#projects.delete(oldest);
      }
    }
    this.#projects.set(projectId, state);
    return state;
  }

  /**
   * One count at a time per project; concurrent callers share it. A count that fails (the
   * database unreachable, a query timeout) keeps the last one: the accept then meets the same
   * failure and says so.
   */
  #recount(projectId: string, state: ProjectCount, limit: number): Promise<void> {
    state.counting ??= (async () => {
      const started = this.#clock();
      const acceptedBefore = state.accepted;
      try {
        const pending = await this.#count(projectId, limit);
        const wasFull = state.pending >= limit;
        state.pending = pending;
        state.cap = limit;
        if (wasFull !== pending >= limit) this.#onChange?.(projectId, !wasFull, pending, limit);
        // Accepts during the count may or may not be in it: kept, so the bound stays an upper one.
        state.accepted -= acceptedBefore;
      } catch {
        // Kept as it was; a count that timed out spaces the next one out as a slow one does.
      } finally {
        state.countedAt = started;
        state.costMs = this.#clock() - started;
        state.counting = null;
      }
    })();
    return state.counting;
  }
}
