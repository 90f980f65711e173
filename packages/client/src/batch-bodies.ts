/**
 * Splits events into the bodies of `POST …/events/batch` requests: at most `maxEvents` events and
 * at most `maxBytes` bytes (UTF-8) each, in order. Herald refuses a body over its limit
 * (HERALD_MAX_BODY_BYTES, 1 MiB by default) with a 413, and 1,000 events of 1 KiB are already over
 * it, so a count alone does not make a batch that fits. Each event is serialised once. An event
 * that does not fit alone throws HeraldEventTooLargeError before any body is made.
 */
import { HeraldEventTooLargeError } from './errors.ts';

const OPEN = '{"events":[';
const CLOSE = ']}';

export interface BatchBody {
  /** Index of the first event of this batch in the input. */
  first: number;
  /** How many events it holds. */
  count: number;
  /** The request body: `{"events":[…]}`. */
  json: string;
}

export function batchBodies(events: readonly unknown[], maxEvents: number, maxBytes: number): BatchBody[] {
  const out: BatchBody[] = [];
  let parts: string[] = [];
  let bytes = OPEN.length + CLOSE.length;
  let first = 0;
  let index = 0;
  const flush = () => {
    out.push({ first, count: parts.length, json: `${OPEN}${parts.join(',')}${CLOSE}` });
    first += parts.length;
    parts = [];
    bytes = OPEN.length + CLOSE.length;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = Buffer.byteLength(json);
    // An event too large on its own is refused here: Herald would answer 413, or cut the
    // connection while the body is still being sent (EPIPE), and the batches before it are sent.
    if (OPEN.length + CLOSE.length + size > maxBytes) {
      throw new HeraldEventTooLargeError(index, OPEN.length + CLOSE.length + size, maxBytes);
    }
    index++;
    // `+ 1`: the comma before it.
    if (parts.length && (parts.length >= maxEvents || bytes + 1 + size > maxBytes)) flush();
    bytes += size + (parts.length ? 1 : 0);
    parts.push(json);
  }
  if (parts.length) flush();
  return out;
}
