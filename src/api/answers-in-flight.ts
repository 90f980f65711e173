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
 */
import type { FastifyInstance } from 'fastify';
import { whenAnswerGone } from './answer-gone.ts';
import { callerKey } from './bodies-in-flight.ts';
import { serverErrorBody } from './request-id.ts';

/** Unread answer bytes one caller may hold before its large answers are refused. */
export const ANSWER_BYTES_PER_CALLER = 32 * 1024 * 1024;
/** Answers up to this size are always sent (errors, one resource): they cannot add up to much. */
export const SMALL_ANSWER_BYTES = 64 * 1024;

const sizeOf = (payload: unknown): number | null =>
  typeof payload === 'string' ? Buffer.byteLength(payload) : Buffer.isBuffer(payload) ? payload.length : null; // a stream (the dashboard's files) is read as the client takes it: nothing held

export function limitAnswersInFlight(app: FastifyInstance, limitBytes = ANSWER_BYTES_PER_CALLER): void {
  /** Unread bytes by caller (callers holding nothing are not kept). */
  const held = new Map<string, number>();

  // A callback hook, not an async one: it runs for every answer, and has nothing to wait for.
  app.addHook('onSend', (request, reply, payload, done) => {
    let bytes = sizeOf(payload);
    if (bytes === null || bytes === 0) return done(null, payload);
    const key = callerKey(request);
    const before = held.get(key) ?? 0;
    let answer = payload;
    if (bytes > SMALL_ANSWER_BYTES && before > 0 && before + bytes > limitBytes) {
      const refusal = JSON.stringify(
        serverErrorBody(request, {
          code: 'HERALD_ERR_BUSY',
          message: `this credential has ${before} bytes of answers its clients have not read yet (at most ${limitBytes}): read them, then retry`,
        }),
      );
      reply.code(503).header('retry-after', '1').header('content-type', 'application/json; charset=utf-8');
      answer = refusal;
      bytes = Buffer.byteLength(refusal);
    }
    held.set(key, before + bytes);
    const counted = bytes;
    // Once the answer is handed to the operating system ('finish') or the client has left,
    // whichever is first: once either way (answer-gone.ts, pipelined answers included).
    whenAnswerGone(reply, () => {
      const left = (held.get(key) ?? 0) - counted;
      if (left > 0) held.set(key, left);
      else held.delete(key);
    });
    done(null, answer);
  });
}
