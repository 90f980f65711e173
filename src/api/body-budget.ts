/**
 * How many bytes of request bodies the API takes in at once (HERALD_MAX_BODY_BYTES_IN_FLIGHT).
 * A body is held several times over while it is parsed and stored (a 1 MiB batch of 1,000 events:
 * ~3-5 MiB), and nothing else bounds how many arrive together: 256 clients each sending a 1 MiB
 * batch at once took a server to 859 MiB resident, 1,024 to 1.38 GB, and the heap stayed that
 * large afterwards.
 *
 * A request with a body reserves its size (Content-Length, or the body limit when it is chunked)
 * before the body is read, and gives it back once answered. One that does not fit waits, in
 * arrival order, without reading its body (the socket is not read meanwhile: TCP holds the client
 * back), for at most BODY_WAIT_MS; then it is answered 503 `HERALD_ERR_BUSY` with Retry-After. The
 * first request is always taken, whatever its size (up to the body limit, which Fastify enforces),
 * so a budget below the body limit never refuses a request outright. Accepting is sequential in the
 * store anyway (one group commit at a time): waiting here costs no throughput.
 *
 * One caller (a credential: a project key, a portal link's project, the admin token; an address
 * without one) may hold at most a quarter of the budget, which holds at least four of the largest
 * bodies (load-config.ts): bodies announced and then sent slowly, or not at all, hold their room
 * until the request timeout, and one customer doing so must not stop every other tenant's events.
 * A request held back by its own caller's share lets the ones behind it go; the others wait in
 * order. It takes four callers stalling at once to fill the budget.
 */

/** Longest a request waits for room before its 503. */
export const BODY_WAIT_MS = 10_000;

/** The share of the budget one caller may hold. */
export const CALLER_SHARE = 1 / 4;

export interface BodyBudget {
  /**
   * Reserves `bytes` for `caller`: resolves with the function that gives them back (call it once
   * answered), or with null when no room came within the wait (answer 503). `signal` aborts the
   * wait (the client went away); a wait aborted resolves null.
   */
  reserve(bytes: number, caller: string, signal?: AbortSignal): Promise<(() => void) | null>;
  /** Bytes reserved now, and requests waiting (for tests and metrics). */
  usage(): { bytes: number; waiting: number };
}

interface Waiter {
  bytes: number;
  caller: string;
  grant: (release: (() => void) | null) => void;
  timer: NodeJS.Timeout;
}

export function createBodyBudget(limitBytes: number, waitMs = BODY_WAIT_MS): BodyBudget {
  const callerLimit = limitBytes * CALLER_SHARE;
  let used = 0;
  let holders = 0;
  /** Bytes each caller holds now (callers holding nothing are not kept). */
  const byCaller = new Map<string, number>();
  const queue: Waiter[] = [];

  const fitsOverall = (bytes: number) => holders === 0 || used + bytes <= limitBytes;
  const fitsCaller = (bytes: number, caller: string) => (byCaller.get(caller) ?? 0) + bytes <= callerLimit;

  const take = (bytes: number, caller: string): (() => void) => {
    used += bytes;
    holders++;
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + bytes);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      used -= bytes;
      holders--;
      const left = (byCaller.get(caller) ?? bytes) - bytes;
      if (left <= 0) byCaller.delete(caller);
      else byCaller.set(caller, left);
      grantWaiting();
    };
  };

  /**
   * Grants the waiting requests that fit now, first come first served: one that does not fit the
   * budget stops the others behind it; one held back only by its caller's share is passed over.
   */
  const grantWaiting = () => {
    for (let i = 0; i < queue.length; ) {
      const next = queue[i]!;
      if (!fitsOverall(next.bytes)) return;
      if (!fitsCaller(next.bytes, next.caller)) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      clearTimeout(next.timer);
      next.grant(take(next.bytes, next.caller));
    }
  };

  return {
    reserve(bytes, caller, signal) {
      const ahead = queue.some((w) => fitsCaller(w.bytes, w.caller));
      if (!ahead && fitsOverall(bytes) && fitsCaller(bytes, caller))
        return Promise.resolve(take(bytes, caller));
      return new Promise((resolve) => {
        const leave = () => {
          const at = queue.indexOf(waiter);
          if (at < 0) return;
          queue.splice(at, 1);
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', leave);
          resolve(null);
          grantWaiting(); // a large request leaving the head may let smaller ones behind it in
        };
        const waiter: Waiter = {
          bytes,
          caller,
          grant: (release) => {
            signal?.removeEventListener('abort', leave);
            resolve(release);
          },
          timer: setTimeout(leave, waitMs),
        };
        queue.push(waiter);
        signal?.addEventListener('abort', leave, { once: true });
      });
    },
    usage: () => ({ bytes: used, waiting: queue.length }),
  };
}
