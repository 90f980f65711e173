/**
 * The byte budget as it was before its waiters were indexed by project (src/delivery/byte-budget.ts
 * until 2026-12-06): every call looked at every waiter, in arrival order. Kept as the reference its
 * index is checked against (test/unit/byte-budget-index.test.ts) and measured against
 * (bench/byte-budget.ts). Not used by Herald.
 */
import type { ByteBudgetOptions } from '../../src/delivery/byte-budget.ts';
import { projectRoomNow } from '../../src/delivery/fair-share.ts';

interface Waiter {
  projectId: string;
  bytes: number;
  passedBy: number;
}

interface Passed {
  readonly waiters: readonly Waiter[];
}

const NONE: readonly Waiter[] = [];

export function createScanningByteBudget(options: ByteBudgetOptions) {
  const { limitBytes } = options;
  const projectCap = limitBytes * options.projectShare;
  const smallProject = limitBytes * options.smallShare;
  let used = 0;
  let holders = 0;
  const byProject = new Map<string, number>();
  /** In order of arrival (a Map keeps insertion order): one entry per waiting key. */
  const waiters = new Map<string, Waiter>();

  const fitsOverall = (bytes: number) => holders === 0 || used + bytes <= limitBytes;
  /** Within the project's share (fair-share.ts); a project holding nothing fits whatever it takes. */
  const fitsProject = (projectId: string, bytes: number) => {
    const own = byProject.get(projectId) ?? 0;
    if (own === 0) return true;
    return (
      bytes <=
      projectRoomNow({ own, free: limitBytes - used, projectCap, processCap: limitBytes, smallProject })
    );
  };
  /**
   * Whether the waiter, held back by its project's share, would fit it but for the project's
   * attempts that passed it: they then pass it no more (its project's waiters behind it wait).
   */
  const owedRoom = (w: Waiter): boolean => {
    const passed = w.passedBy;
    if (passed <= 0) return false;
    const own = (byProject.get(w.projectId) ?? 0) - passed;
    if (own <= 0) return true;
    const free = limitBytes - used + passed;
    return w.bytes <= projectRoomNow({ own, free, projectCap, processCap: limitBytes, smallProject });
  };
  /**
   * Whether an attempt of `projectId` for `key` goes behind the waiters before `key` (all of them
   * when `key` does not wait): `'behind'`, or the waiters of its own project that its project's
   * share holds back and it passes (none: it goes first). A waiter that its project's share lets
   * in goes first (`first`); one it holds back is passed over, but not by its own project's once it
   * is owed the room (`owedRoom`), and then neither are its project's waiters behind it.
   */
  const waiterAhead = (key: string | null, projectId: string): 'behind' | readonly Waiter[] => {
    let passes: Waiter[] | undefined;
    let passed: Set<string> | undefined;
    for (const [k, w] of waiters) {
      if (k === key) break;
      if (passed?.has(w.projectId)) continue;
      if (fitsProject(w.projectId, w.bytes)) return 'behind';
      if (owedRoom(w)) {
        if (w.projectId === projectId) return 'behind';
        passed ??= new Set();
        passed.add(w.projectId);
      } else if (w.projectId === projectId) {
        passes ??= [];
        passes.push(w);
      }
    }
    return passes ?? NONE;
  };
  /**
   * The first waiter not passed over (null when none): one held back by its project's share is,
   * and when it is owed the room (`owedRoom`) so are its project's waiters behind it.
   */
  const first = (): [string, Waiter] | null => {
    let passed: Set<string> | undefined;
    for (const entry of waiters) {
      const w = entry[1];
      if (passed?.has(w.projectId)) continue;
      if (fitsProject(w.projectId, w.bytes)) return entry;
      if (owedRoom(w)) {
        passed ??= new Set();
        passed.add(w.projectId);
      }
    }
    return null;
  };

  /** Whether the bytes fit now: false, or how (`waiterAhead`); `key` waits when not. */
  const admit = (key: string | null, projectId: string, bytes: number): false | readonly Waiter[] => {
    const ahead = waiters.size === 0 ? NONE : waiterAhead(key, projectId);
    if (ahead !== 'behind' && fitsOverall(bytes) && fitsProject(projectId, bytes)) return ahead;
    if (key !== null) {
      const w = waiters.get(key);
      if (w) {
        w.projectId = projectId;
        w.bytes = bytes;
      } else waiters.set(key, { projectId, bytes, passedBy: 0 });
    }
    return false;
  };
  const fits = (key: string | null, projectId: string, bytes: number): boolean =>
    admit(key, projectId, bytes) !== false;

  return {
    get used() {
      return used;
    },
    get waiting() {
      return waiters.size;
    },
    waits: (key: string) => waiters.has(key),
    get full() {
      return waiters.size > 0 && first() !== null;
    },
    fits,
    take(key: string | null, projectId: string, bytes: number): boolean | Passed {
      const how = admit(key, projectId, bytes);
      if (how === false) return false;
      used += bytes;
      holders++;
      byProject.set(projectId, (byProject.get(projectId) ?? 0) + bytes);
      if (key !== null) waiters.delete(key);
      if (how.length === 0) return true;
      for (const w of how) w.passedBy += bytes;
      return { waiters: how };
    },
    give(projectId: string, bytes: number, passed?: Passed): void {
      used -= bytes;
      holders--;
      const left = (byProject.get(projectId) ?? bytes) - bytes;
      if (left <= 0) byProject.delete(projectId);
      else byProject.set(projectId, left);
      // The waiters it passed (those still waiting, and those gone, which nothing reads again).
      if (passed) for (const w of passed.waiters) w.passedBy -= bytes;
    },
    forget(key: string) {
      waiters.delete(key);
    },
    forgetAll() {
      waiters.clear();
    },
    next(): string | null {
      if (waiters.size === 0) return null;
      const w = first();
      // The first held back by the budget stops the rest.
      return w !== null && fitsOverall(w[1].bytes) ? w[0] : null;
    },
  };
}
