/**
 * How many bytes of answers one caller may have that its clients have not taken yet. An answer
 * is held in the server's memory until the client reads it, and a page may be 4 MiB of payloads
 * (page-budget.ts): a project key that asked for 200 such pages on connections it never read took
 * a server from 190 MB to 2.1 GB resident in 20 s (and the heap stayed at 1.3 GB after), with
 * nothing in the rate limit or the other limits to stop it, since each request is cheap to make.
 *
 * Each answer counts against its caller (a credential, or an address without one: callerKey) from
 * when it is sent until the client has taken it all in ('finish': handed to the operating system)
 * or has left ('close'). An answer over SMALL_ANSWER_BYTES that would take its caller past
 * ANSWER_BYTES_PER_CALLER while others are still unread is replaced by 503 `HERALD_ERR_BUSY` with
 * Retry-After: 1, so what a caller holds stays within the limit plus its small answers (errors,
 * single resources); one answer is always sent, whatever its size. A client that reads its answers
 * never meets it: theirs are taken as fast as the network carries them.
 *
 * The process bounds what all callers hold together too (answerBytesInFlight: a quarter of the V8
 * heap, 32-256 MiB): per caller alone, 16 project keys each holding their 32 MiB took 512 MiB of
 * the heap that also holds the bodies being read (64 MiB) and every request's work, and a process
 * under `--max-old-space-size=160` would die of it. Past it, large answers are 503 as above, to
 * every caller, until the unread ones are taken or their clients leave.
 *
 * Scrapes (/metrics) are counted apart, against a bound of their own (SCRAPE_BYTES_IN_FLIGHT), and
 * other answers against the process's without them: a busy server's scrape is over 64 KiB (~140 KB
 * once each route has its series), and Prometheus cannot ask for less, so while unread pages held
 * the process's bound every scrape was 503 and the server had no metrics for as long as it lasted.
 * Unread pages never refuse a scrape now, and unread scrapes never refuse a page.
 */
import type { FastifyInstance } from 'fastify';
import { callerKey } from './bodies-in-flight.ts';
import { whenAnswerGone } from './connection-requests.ts';
import { serverErrorBody } from './request-id.ts';

/** Unread answer bytes one caller may hold before its large answers are refused. */
export const ANSWER_BYTES_PER_CALLER = 32 * 1024 * 1024;
/** Answers up to this size are always sent (errors, one resource): they cannot add up to much. */
export const SMALL_ANSWER_BYTES = 64 * 1024;
/** Unread answer bytes all callers together may hold, at most (a heap of 1 GiB or more)… */
const MAX_ANSWER_BYTES_IN_FLIGHT = 256 * 1024 * 1024;
/** …a quarter of the heap below that, and at least one caller's share. */
const HEAP_SHARE_DIVISOR = 4;
/** Unread scrapes (/metrics) all callers may hold together: ~60 of a busy server's. */
export const SCRAPE_BYTES_IN_FLIGHT = 8 * 1024 * 1024;
const SCRAPE_ROUTE = '/metrics';

/** What all callers' unread answers may hold together, for a V8 heap limited to `heapLimitBytes`. */
export function answerBytesInFlight(heapLimitBytes: number): number {
  const share = Math.floor(heapLimitBytes / HEAP_SHARE_DIVISOR);
  return Math.max(ANSWER_BYTES_PER_CALLER, Math.min(MAX_ANSWER_BYTES_IN_FLIGHT, share));
}

export interface AnswerLimits {
  /** Unread bytes one caller may hold (ANSWER_BYTES_PER_CALLER). */
  perCaller: number;
  /** Unread bytes all callers may hold together (answerBytesInFlight), scrapes not counted. */
  total: number;
  /** Unread bytes of scrapes (/metrics) all callers may hold together (SCRAPE_BYTES_IN_FLIGHT). */
  scrapes: number;
}

const sizeOf = (payload: unknown): number | null =>
  typeof payload === 'string' ? Buffer.byteLength(payload) : Buffer.isBuffer(payload) ? payload.length : null; // a stream (the dashboard's files) is read as the client takes it: nothing held

export function limitAnswersInFlight(app: FastifyInstance, limits: AnswerLimits): void {
  const { perCaller } = limits;
  /** Unread bytes by caller (callers holding nothing are not kept). */
  const held = new Map<string, number>();
  /** And all of them together: scrapes, and the other answers. */
  const scrapes = { held: 0, limit: limits.scrapes, what: 'scrapes (/metrics)' };
  const answers = { held: 0, limit: limits.total, what: 'answers' };

  // A callback hook, not an async one: it runs for every answer, and has nothing to wait for.
  app.addHook('onSend', (request, reply, payload, done) => {
    let bytes = sizeOf(payload);
    if (bytes === null || bytes === 0) return done(null, payload);
    const key = callerKey(request);
    const before = held.get(key) ?? 0;
    const all = request.routeOptions.url === SCRAPE_ROUTE ? scrapes : answers;
    let answer = payload;
    const overCaller = before > 0 && before + bytes > perCaller;
    const overAll = all.held > 0 && all.held + bytes > all.limit;
    if (bytes > SMALL_ANSWER_BYTES && (overCaller || overAll)) {
      const refusal = JSON.stringify(
        serverErrorBody(request, {
          code: 'HERALD_ERR_BUSY',
          message: overCaller
            ? `this credential has ${before} bytes of answers its clients have not read yet (at most ${perCaller}): read them, then retry`
            : `the server holds ${all.held} bytes of ${all.what} their clients have not read yet (at most ${all.limit} in all): retry`,
        }),
      );
      reply.code(503).header('retry-after', '1').header('content-type', 'application/json; charset=utf-8');
      answer = refusal;
      bytes = Buffer.byteLength(refusal);
    }
    held.set(key, before + bytes);
    all.held += bytes;
    const counted = bytes;
    // Once the answer is handed to the operating system ('finish') or the client has left,
    // whichever is first: once either way (connection-requests.ts, pipelined answers included).
    whenAnswerGone(reply, () => {
      all.held -= counted;
      const left = (held.get(key) ?? 0) - counted;
      if (left > 0) held.set(key, left);
      else held.delete(key);
    });
    done(null, answer);
  });
}
