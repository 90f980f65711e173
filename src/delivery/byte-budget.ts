/**
 * The dispatcher's byte budget (HERALD_DELIVERY_BYTES_IN_FLIGHT): the bytes of request bodies its
 * attempts in flight hold. Slots bound how many attempts run, not how large they are: each attempt
 * builds and signs its own body, and the HTTP client sends from a copy of it, so 1,000 attempts of
 * a 1 MiB event to slow receivers took a process to 1.7-1.9 GiB resident.
 *
 * Pure bookkeeping, synchronous: an attempt takes its bytes before it is started and gives them
 * back when it ends. One that does not fit is not started: it stays in its endpoint's queue
 * (endpoint-queues.ts) and its endpoint waits here, in order, by key; as attempts end the
 * dispatcher starts the endpoint `next()` names. So an attempt's timeout does not run while it
 * waits, its lease is the queue's (half of it waited: handed back), and a stop hands it back.
 *
 * Between projects the bytes are shared as the slots are (fair-share.ts): a project holds at most
 * its share (the project cap's part of the process cap: three quarters by default), and the last
 * quarter goes only to projects holding less than one endpoint's part (a sixteenth): one tenant's
 * large events to slow receivers do not hold up another tenant's. A waiter held back by its own
 * project's share is passed over by other projects, and by its own while the attempts that were
 * out when it began to wait still hold it back; once only those that passed it do, its project's
 * attempts behind it (callbacks too) wait for it, and it gets the room they leave. Passed over by
 * them for good, a large body waited as long as its project's smaller ones kept coming, past its
 * lease. The first one held back by the whole budget stops every one behind it (a large body is not
 * overtaken forever by small ones). An attempt larger than its
 * share, or than the whole budget, is never refused for good: its project holding nothing, it fits
 * any share, and with nothing held at all it fits the budget: the attempts ahead of it end, none
 * start behind it meanwhile, and it goes out alone.
 */
import type { Endpoint } from '../domain/types.ts';
import type { ClaimedDelivery } from '../store/store.ts';
import { projectRoomNow } from './fair-share.ts';

/**
 * Counted for an envelope around the payload (standard: type and timestamp; event-data: also the
 * id), its signature headers and the URL: an estimate, the body is not built before it fits.
 */
const ENVELOPE_BYTES = 256;

/**
 * How many times its envelope's size the body sent to `endpoint` may be (signatures.md, "How large
 * a body to accept"): a form body (`hmac-sha1-url`) or a GET query percent-encodes each UTF-8 byte
 * (up to 3 characters), `sha256-body` base64-encodes the envelope (4/3, after writing each
 * non-ASCII character as a `\uXXXX` escape: see attemptBytes); the others send it as it is. Counted at 1, a 1 MiB payload of non-ASCII text to `hmac-sha1-url` endpoints held 3 MiB of
 * body and more of the texts it is built from per MiB counted, and its attempts ran a 160 MiB
 * dispatcher thread out of heap within the budget. A callback (no endpoint) is JSON.
 */
export function bodyFactor(endpoint: Pick<Endpoint, 'method' | 'signature'> | null): number {
  if (endpoint === null) return 1;
  if (endpoint.method === 'GET' || endpoint.signature.scheme === 'hmac-sha1-url') return 3;
  return endpoint.signature.scheme === 'sha256-body' ? 4 / 3 : 1;
}

/**
 * The bytes an attempt of `claimed` to `endpoint` holds: its payload's UTF-8 and its envelope's,
 * times what the endpoint's body makes of them (an estimate made before building it). For
 * `sha256-body` each non-ASCII character becomes a 6- or 12-byte escape first: at most 4 more
 * bytes for each UTF-8 byte over its UTF-16 units (é: 2 bytes, 1 unit, 6 sent; 🎮: 4, 2, 12).
 */
export function attemptBytes(
  claimed: ClaimedDelivery,
  endpoint: Pick<Endpoint, 'method' | 'signature'> | null,
): number {
  const payload = claimed.payloadJson ?? JSON.stringify(claimed.event.payload) ?? '';
  const bytes = Buffer.byteLength(payload, 'utf8');
  const escapes = endpoint?.signature.scheme === 'sha256-body' ? 4 * (bytes - payload.length) : 0;
  const envelope = bytes + escapes + claimed.event.type.length + ENVELOPE_BYTES;
  return Math.ceil(envelope * bodyFactor(endpoint));
}

export interface ByteBudgetOptions {
  /** The bytes the attempts in flight may hold together. */
  limitBytes: number;
  /** The share of it one project may hold (perProjectConcurrency / concurrency). */
  projectShare: number;
  /** Below this share held a project may use the reserve (perEndpointConcurrency / concurrency). */
  smallShare: number;
}

export interface ByteBudget {
  /** Bytes held by attempts in flight. */
  readonly used: number;
  /** Keys (endpoints) waiting for room. */
  readonly waiting: number;
  /** Whether `key` waits for room. */
  waits(key: string): boolean;
  /**
   * A waiter that only the bytes of attempts ending can let in (not just its own project's share):
   * claiming more would only hold more bodies in memory, waiting.
   */
  readonly full: boolean;
  /**
   * Whether `bytes` for an attempt of `projectId` for `key` (its endpoint) would be taken now. No:
   * they do not fit, or waiters are ahead of them; `key` then waits (in order, once; a key that
   * waits already keeps its place, with these bytes). A null key (a callback) does not wait.
   */
  fits(key: string | null, projectId: string, bytes: number): boolean;
  /**
   * Takes `bytes` when they fit (`fits`, with its wait when not): false when not taken; `Passed`
   * when taken past waiters of the project (given back to `give` with the bytes).
   */
  take(key: string | null, projectId: string, bytes: number): boolean | Passed;
  /** Gives back what an attempt took (`passed`: what `take` answered when it passed waiters). */
  give(projectId: string, bytes: number, passed?: Passed): void;
  /** `key` waits no more (its queue started otherwise, was handed back or is gone). */
  forget(key: string): void;
  /** Every key waits no more (the dispatcher stopped: their queues were handed back). */
  forgetAll(): void;
  /** The first waiting key whose attempt would be let in now; null when none would. */
  next(): string | null;
}

interface Waiter {
  key: string;
  /** Its place in the line: the order keys began to wait in (a key that waits again comes last). */
  seq: number;
  projectId: string;
  bytes: number;
  /** Bytes of its project's attempts in flight that were taken past it (owedRoom). */
  passedBy: number;
}

/**
 * The waiters of its project an attempt was taken past (take), each owed the room it holds until it
 * is given back. Counted for the project as a whole, the bytes that passed one waiter counted for
 * the next one too: one that began to wait after them was owed the room at once, and its project's
 * other endpoints waited for attempts that had never passed it (to a hung receiver: its timeout).
 */
export interface Passed {
  readonly waiters: readonly Waiter[];
}

/**
 * One project's waiters, in line order, and what tells at once that none of them can go: the
 * smallest bytes any asks for (with how many ask for them; recounted when the last of them leaves)
 * and how many were passed by attempts still out (only those can be owed the room).
 */
interface ProjectLine {
  waiters: Map<string, Waiter>;
  /** The latest place in line of any that joined it. */
  lastSeq: number;
  minBytes: number;
  minCount: number;
  passedCount: number;
}

/** A project's first waiter that goes (fits its share) or holds its later ones back (is owed the room). */
interface Head {
  waiter: Waiter;
  owed: boolean;
}

/** No waiter passed. */
const NONE: readonly Waiter[] = [];

export function createByteBudget(options: ByteBudgetOptions): ByteBudget {
  const { limitBytes } = options;
  const projectCap = limitBytes * options.projectShare;
  const smallProject = limitBytes * options.smallShare;
  let used = 0;
  let holders = 0;
  const byProject = new Map<string, number>();
  /** One entry per waiting key, in line order (a Map keeps insertion order). */
  const waiters = new Map<string, Waiter>();
  /**
   * The same waiters by project, each project's in line order. Until 2026-12-06 every decision
   * below looked at every waiter in line order: with 5,000 endpoints of one project waiting, each
   * of its attempts' ends took ~160 µs of CPU to start the next, each attempt of another project
   * ~130 µs, each claim's `full` ~115 µs (bench/byte-budget.ts). Now each looks at each project's
   * line and stops at once in one none of whose waiters fits or was passed (1,000-20,000 such
   * waiters: under 0.3 µs, and 3-10 µs for an attempt's end). A line where the smallest waiter
   * fits, or with waiters passed, is still read up to the first that goes or is owed the room.
   */
  const lines = new Map<string, ProjectLine>();
  let arrivals = 0;

  const fitsOverall = (bytes: number) => holders === 0 || used + bytes <= limitBytes;
  /** The room the project's share leaves it now (fair-share.ts), when it holds something. */
  const roomOf = (own: number) =>
    projectRoomNow({ own, free: limitBytes - used, projectCap, processCap: limitBytes, smallProject });
  /** Within the project's share (fair-share.ts); a project holding nothing fits whatever it takes. */
  const fitsProject = (projectId: string, bytes: number) => {
    const own = byProject.get(projectId) ?? 0;
    return own === 0 || bytes <= roomOf(own);
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

  const joinLine = (w: Waiter) => {
    let line = lines.get(w.projectId);
    if (!line) {
      line = { waiters: new Map(), lastSeq: w.seq, minBytes: w.bytes, minCount: 0, passedCount: 0 };
      lines.set(w.projectId, line);
    }
    line.waiters.set(w.key, w);
    // A key that asks for another project keeps its place: put back in order (never for an endpoint).
    if (w.seq < line.lastSeq) line.waiters = new Map([...line.waiters].sort((a, b) => a[1].seq - b[1].seq));
    else line.lastSeq = w.seq;
    countBytes(line, w.bytes);
    if (w.passedBy > 0) line.passedCount++;
  };
  /** Counts bytes asked for in the line's smallest (left to the recount while it is due). */
  const countBytes = (line: ProjectLine, bytes: number) => {
    if (line.minCount > 0 && bytes > line.minBytes) return;
    if (line.minCount > 0 && bytes === line.minBytes) line.minCount++;
    else if (line.minCount > 0 || line.waiters.size === 1) {
      line.minBytes = bytes;
      line.minCount = 1;
    }
  };
  const uncountBytes = (line: ProjectLine, bytes: number) => {
    if (bytes === line.minBytes && line.minCount > 0) line.minCount--;
  };
  const leaveLine = (w: Waiter) => {
    const line = lines.get(w.projectId);
    if (!line) return;
    line.waiters.delete(w.key);
    if (line.waiters.size === 0) {
      lines.delete(w.projectId);
      return;
    }
    uncountBytes(line, w.bytes);
    if (w.passedBy > 0) line.passedCount--;
  };
  /** The smallest bytes a waiter of the line asks for (recounted once the last of them left). */
  const minBytesOf = (line: ProjectLine): number => {
    if (line.minCount === 0) {
      line.minBytes = Number.POSITIVE_INFINITY;
      for (const w of line.waiters.values()) {
        if (w.bytes < line.minBytes) {
          line.minBytes = w.bytes;
          line.minCount = 1;
        } else if (w.bytes === line.minBytes) line.minCount++;
      }
    }
    return line.minBytes;
  };
  /** Adds to what passed the waiter, counted in its line while it waits. */
  const addPassed = (w: Waiter, bytes: number) => {
    const was = w.passedBy > 0;
    w.passedBy += bytes;
    const is = w.passedBy > 0;
    if (was === is || waiters.get(w.key) !== w) return;
    const line = lines.get(w.projectId);
    if (line) line.passedCount += is ? 1 : -1;
  };

  /**
   * The project's first waiter that its share lets in (it goes first of its line) or that is owed
   * the room (its line's waiters behind it wait for it); null when neither: the line is passed
   * over. A line none of whose waiters fits and none of whose waiters was passed is over at once.
   */
  const headOf = (projectId: string, line: ProjectLine): Head | null => {
    const own = byProject.get(projectId) ?? 0;
    if (own === 0) {
      const first = line.waiters.values().next().value;
      return first ? { waiter: first, owed: false } : null;
    }
    const room = roomOf(own);
    const mayFit = minBytesOf(line) <= room;
    let passedLeft = line.passedCount;
    if (!mayFit && passedLeft === 0) return null;
    for (const w of line.waiters.values()) {
      if (w.bytes <= room) return { waiter: w, owed: false };
      if (w.passedBy > 0) {
        if (owedRoom(w)) return { waiter: w, owed: true };
        passedLeft--;
        if (!mayFit && passedLeft === 0) return null;
      }
    }
    return null;
  };

  /**
   * Whether an attempt of `projectId` for `key` goes behind the waiters before `key` (all of them
   * when `key` does not wait): `'behind'`, or `'passes'`: it passes the waiters of its own project
   * before `key`, which its project's share holds back (`passedWaiters`; none: it goes first). A
   * waiter that its project's share lets in goes first (`headOf`); one it holds back is passed
   * over, but not by its own project's once it is owed the room (`owedRoom`), and then neither are
   * its project's waiters behind it.
   */
  const waiterAhead = (key: string | null, projectId: string): 'behind' | 'passes' => {
    const place = (key === null ? undefined : waiters.get(key)?.seq) ?? Number.POSITIVE_INFINITY;
    for (const [p, line] of lines) {
      const head = headOf(p, line);
      if (head !== null && head.waiter.seq < place && (!head.owed || p === projectId)) return 'behind';
    }
    return 'passes';
  };
  /** The waiters of the project before `key` (all when `key` does not wait), in line order. */
  const passedWaiters = (key: string | null, projectId: string): readonly Waiter[] => {
    const line = lines.get(projectId);
    if (!line) return NONE;
    const place = (key === null ? undefined : waiters.get(key)?.seq) ?? Number.POSITIVE_INFINITY;
    const passes: Waiter[] = [];
    for (const w of line.waiters.values()) {
      if (w.seq >= place) break;
      passes.push(w);
    }
    return passes.length === 0 ? NONE : passes;
  };
  /**
   * The first waiter not passed over (null when none): one held back by its project's share is,
   * and when it is owed the room (`owedRoom`) so are its project's waiters behind it.
   */
  const first = (): Waiter | null => {
    let best: Waiter | null = null;
    for (const [p, line] of lines) {
      const head = headOf(p, line);
      if (head !== null && !head.owed && (best === null || head.waiter.seq < best.seq)) best = head.waiter;
    }
    return best;
  };

  /** Whether the bytes fit now (`waiterAhead`); `key` waits when not. */
  const admit = (key: string | null, projectId: string, bytes: number): boolean => {
    const ahead = waiters.size === 0 ? 'passes' : waiterAhead(key, projectId);
    if (ahead !== 'behind' && fitsOverall(bytes) && fitsProject(projectId, bytes)) return true;
    if (key !== null) {
      const w = waiters.get(key);
      const line = w && lines.get(w.projectId);
      if (w && line && w.projectId === projectId) {
        // It keeps its place, with these bytes.
        uncountBytes(line, w.bytes);
        w.bytes = bytes;
        countBytes(line, bytes);
      } else if (w) {
        leaveLine(w);
        w.projectId = projectId;
        w.bytes = bytes;
        joinLine(w);
      } else {
        const added = { key, seq: arrivals++, projectId, bytes, passedBy: 0 };
        waiters.set(key, added);
        joinLine(added);
      }
    }
    return false;
  };
  const forget = (key: string) => {
    const w = waiters.get(key);
    if (!w) return;
    leaveLine(w);
    waiters.delete(key);
  };

  return {
    get used() {
      return used;
    },
    get waiting() {
      return waiters.size;
    },
    waits: (key) => waiters.has(key),
    get full() {
      return waiters.size > 0 && first() !== null;
    },
    fits: admit,
    take(key, projectId, bytes) {
      if (!admit(key, projectId, bytes)) return false;
      const how = passedWaiters(key, projectId);
      used += bytes;
      holders++;
      byProject.set(projectId, (byProject.get(projectId) ?? 0) + bytes);
      if (key !== null) forget(key);
      if (how.length === 0) return true;
      for (const w of how) addPassed(w, bytes);
      return { waiters: how };
    },
    give(projectId, bytes, passed) {
      used -= bytes;
      holders--;
      const left = (byProject.get(projectId) ?? bytes) - bytes;
      if (left <= 0) byProject.delete(projectId);
      else byProject.set(projectId, left);
      // The waiters it passed (those still waiting, and those gone, which nothing reads again).
      if (passed) for (const w of passed.waiters) addPassed(w, -bytes);
    },
    forget,
    forgetAll() {
      waiters.clear();
      lines.clear();
    },
    next() {
      if (waiters.size === 0) return null;
      const w = first();
      // The first held back by the budget stops the rest.
      return w !== null && fitsOverall(w.bytes) ? w.key : null;
    },
  };
}
