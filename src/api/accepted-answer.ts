/**
 * The 202 answer of an accept, as text in pieces when it is large. A batch of 1,000 events fanned
 * out to 100 endpoints each answers 100,000 deliveries, ~32 MB of JSON: built whole, that is
 * 100,000 short-lived objects and a 32 MB string (copied once more, flat, with the HTTP head in
 * front of it), and strings that large are allocated straight into V8's old generation, where only
 * a full collection frees them. Session 25 measured 144 MiB allocated on the API thread per such
 * batch, most of the 324 MiB of old-generation garbage seen under a burst (docs/performance-log.md).
 *
 * From ANSWER_STREAM_DELIVERIES deliveries on, the same text (byte for byte what JSON.stringify of
 * the whole answer gives: eventJson's `deliveries` is its last key) goes out in pieces of about
 * 32 KB, each made when the socket has taken the one before, with chunked transfer encoding instead of
 * a Content-Length. Smaller answers are sent whole, as before.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { AcceptedEvent } from '../store/store.ts';
import { deliveryJson, eventJson } from './serialize.ts';

/** Answers with at least this many deliveries (~320 bytes of JSON each) are sent in pieces. */
export const ANSWER_STREAM_DELIVERIES = 1_000;
/** Deliveries per piece: ~32 KB of text, well under the 128 KiB from which V8 allocates old. */
const PIECE_DELIVERIES = 100;

/** What a repeat answered to a key that may not read its project leaves out (repeatJson). */
export const WITHHELD_FROM_REPEATS = ['payload', 'callbackUrl', 'callbackEnvelope', 'deliveries'] as const;

/**
 * A repeated idempotency key's event as a key that may send but not read (scope `send`) is
 * answered it: the original event's id, type and time, but not what it carried or where its
 * deliveries stand. The original may be another sender's (keys are often order numbers, easy to
 * guess), and a send key must not read events' payloads (docs/api.md "Key scopes"); a sender
 * retrying its own request has what it sent. `withheld` names what was left out.
 */
export function repeatJson(event: AcceptedEvent['event']) {
  const { payload: _p, callbackUrl: _c, callbackEnvelope: _e, ...rest } = eventJson(event);
  return { ...rest, deliveries: [], withheld: WITHHELD_FROM_REPEATS };
}

/**
 * One event of the answer: whole, or a repeat withheld from a key that may not read (repeatJson).
 * `leaseNow`: for its deliveries' inFlight (serialize.ts deliveryJson).
 */
const acceptedJson = (a: AcceptedEvent, withholdRepeats: boolean, leaseNow: number) =>
  withholdRepeats && a.duplicate
    ? repeatJson(a.event)
    : eventJson(a.event, { deliveries: a.deliveries, leaseNow });

/**
 * Sends `accepted` as the 202 answer: `{data: [event, …]}` for a batch, else its one event.
 * Each event is `eventJson(event, deliveries)`, or with `withholdRepeats` (a caller that may not
 * read the project) a repeated idempotency key's is `repeatJson(event)`. `leaseNow`: now in the
 * time leases are stored in (Store.leaseNow), read for each piece: a repeat answers the stored
 * event's deliveries, leased by any worker (on PostgreSQL in the database's time), and judged on
 * this clock an API process 60 s ahead said one being sent was not in flight (until 2026-12-07).
 */
export function sendAccepted(
  reply: FastifyReply,
  accepted: readonly AcceptedEvent[],
  batch: boolean,
  withholdRepeats: boolean,
  leaseNow: () => number,
) {
  let deliveries = 0;
  for (const a of accepted) if (!(withholdRepeats && a.duplicate)) deliveries += a.deliveries.length;
  reply.code(202);
  if (deliveries < ANSWER_STREAM_DELIVERIES) {
    const now = leaseNow();
    const events = accepted.map((a) => acceptedJson(a, withholdRepeats, now));
    return reply.send(batch ? { data: events } : events[0]);
  }
  reply.type('application/json; charset=utf-8');
  // Strings as they are (no Buffer copies), one piece ahead of the socket.
  return reply.send(
    Readable.from(answerPieces(accepted, batch, withholdRepeats, leaseNow), { highWaterMark: 1 }),
  );
}

/**
 * The answer's text in pieces, as JSON.stringify would write it whole: an event of up to
 * PIECE_DELIVERIES deliveries is one piece, a larger one its head and its deliveries in groups.
 * Separators are pieces of their own rather than joined to a large one (a copy).
 */
export function* answerPieces(
  accepted: readonly AcceptedEvent[],
  batch: boolean,
  withholdRepeats: boolean,
  leaseNow: () => number,
): Generator<string> {
  if (batch) yield '{"data":[';
  for (let i = 0; i < accepted.length; i++) {
    const { event, deliveries } = accepted[i]!;
    if (i > 0) yield ',';
    if (deliveries.length <= PIECE_DELIVERIES || (withholdRepeats && accepted[i]!.duplicate)) {
      yield JSON.stringify(acceptedJson(accepted[i]!, withholdRepeats, leaseNow()));
      continue;
    }
    // `{…,"createdAt":"…"}` without its closing brace, then the deliveries as its last key; their
    // count in its place, as eventJson(event, deliveries) gives it.
    const head = { ...eventJson(event), deliveryCount: deliveries.length };
    yield `${JSON.stringify(head).slice(0, -1)},"deliveries":[`;
    for (let j = 0; j < deliveries.length; j += PIECE_DELIVERIES) {
      if (j > 0) yield ',';
      const now = leaseNow();
      yield JSON.stringify(deliveries.slice(j, j + PIECE_DELIVERIES).map((d) => deliveryJson(d, now))).slice(
        1,
        -1,
      );
    }
    yield ']}';
  }
  if (batch) yield ']}';
}
