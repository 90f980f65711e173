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
 * project's share is passed over; the first one held back by the whole budget stops the ones
 * behind it (a large body is not overtaken forever by small ones). An attempt larger than its
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
 * (up to 3 characters), `sha256-body` base64-encodes the envelope (4/3); the others send it as it
 * is. Counted at 1, a 1 MiB payload of non-ASCII text to `hmac-sha1-url` endpoints held 3 MiB of
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
 * times what the endpoint's body makes of them (an estimate made before building it).
 */
export function attemptBytes(
  claimed: ClaimedDelivery,
  endpoint: Pick<Endpoint, 'method' | 'signature'> | null,
): number {
  const payload = claimed.payloadJson ?? JSON.stringify(claimed.event.payload) ?? '';
  const envelope = Buffer.byteLength(payload, 'utf8') + claimed.event.type.length + ENVELOPE_BYTES;
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
  /** Takes `bytes` when they fit (`fits`, with its wait when not): true when taken. */
  take(key: string | null, projectId: string, bytes: number): boolean;
  /** Gives back what an attempt took. */
  give(projectId: string, bytes: number): void;
  /** `key` waits no more (its queue started otherwise, was handed back or is gone). */
  forget(key: string): void;
  /** Every key waits no more (the dispatcher stopped: their queues were handed back). */
  forgetAll(): void;
  /** The first waiting key whose attempt would be let in now; null when none would. */
  next(): string | null;
}

interface Waiter {
  projectId: string;
  bytes: number;
}

export function createByteBudget(options: ByteBudgetOptions): ByteBudget {
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
  /** A waiter before `key` (all of them when `key` does not wait) that its project's share lets in. */
  const waiterAhead = (key: string | null): boolean => {
    for (const [k, w] of waiters) {
      if (k === key) return false;
      if (fitsProject(w.projectId, w.bytes)) return true;
    }
    return false;
  };

  const fits = (key: string | null, projectId: string, bytes: number): boolean => {
    if ((waiters.size === 0 || !waiterAhead(key)) && fitsOverall(bytes) && fitsProject(projectId, bytes))
      return true;
    if (key !== null) {
      const w = waiters.get(key);
      if (w) {
        w.projectId = projectId;
        w.bytes = bytes;
      } else waiters.set(key, { projectId, bytes });
    }
    return false;
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
      for (const w of waiters.values()) if (fitsProject(w.projectId, w.bytes)) return true;
      return false;
    },
    fits,
    take(key, projectId, bytes) {
      if (!fits(key, projectId, bytes)) return false;
      used += bytes;
      holders++;
      byProject.set(projectId, (byProject.get(projectId) ?? 0) + bytes);
      if (key !== null) waiters.delete(key);
      return true;
    },
    give(projectId, bytes) {
      used -= bytes;
      holders--;
      const left = (byProject.get(projectId) ?? bytes) - bytes;
      if (left <= 0) byProject.delete(projectId);
      else byProject.set(projectId, left);
    },
    forget(key) {
      waiters.delete(key);
    },
    forgetAll() {
      waiters.clear();
    },
    next() {
      for (const [key, w] of waiters) {
        if (!fitsProject(w.projectId, w.bytes)) continue; // its own project's share: passed over
        return fitsOverall(w.bytes) ? key : null; // the first held back by the budget stops the rest
      }
      return null;
    },
  };
}
