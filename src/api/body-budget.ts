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
 */

/** Longest a request waits for room before its 503. */
export const BODY_WAIT_MS = 10_000;

export interface BodyBudget {
  /**
   * Reserves `bytes`: resolves with the function that gives them back (call it once answered), or
   * with null when no room came within the wait (answer 503). `signal` aborts the wait (the client
   * went away); a wait aborted resolves null.
   */
  reserve(bytes: number, signal?: AbortSignal): Promise<(() => void) | null>;
  /** Bytes reserved now, and requests waiting (for tests and metrics). */
  usage(): { bytes: number; waiting: number };
}

interface Waiter {
  bytes: number;
  grant: (release: (() => void) | null) => void;
  timer: NodeJS.Timeout;
}

export function createBodyBudget(limitBytes: number, waitMs = BODY_WAIT_MS): BodyBudget {
  let used = 0;
  let holders = 0;
  const queue: Waiter[] = [];

  const fits = (bytes: number) => holders === 0 || used + bytes <= limitBytes;

  const take = (bytes: number): (() => void) => {
    used += bytes;
    holders++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      used -= bytes;
      holders--;
      grantWaiting();
    };
  };

  /** Grants the waiting requests that fit now, first come first served (none overtakes the first). */
  const grantWaiting = () => {
    while (queue.length > 0 && fits(queue[0]!.bytes)) {
      const next = queue.shift()!;
      clearTimeout(next.timer);
      next.grant(take(next.bytes));
    }
  };

  return {
    reserve(bytes, signal) {
      if (queue.length === 0 && fits(bytes)) return Promise.resolve(take(bytes));
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
