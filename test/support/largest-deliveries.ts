/**
 * Event requests of exactly a given size that grow the most on their way to a receiver: what sizes
 * the receiver SDK's default body limit (packages/verify/src/adapters/options.ts derives it).
 *
 * Herald takes a request only as valid UTF-8 (since session 25; before, an invalid byte became
 * U+FFFD, 3 bytes, and %EF%BF%BD, 9, in a form) and stores the payload's `JSON.stringify` (numbers
 * written out in full); `sha256-body` then base64-encodes the envelope and `hmac-sha1-url`
 * percent-encodes its fields.
 */

/** The event requests: `POST …/events` bodies of exactly `size` bytes, by what fills them. */
export function largestEventRequests(size: number): Record<string, Buffer> {
  return {
    // U+FFFD, 3 bytes: as many in JSON, %EF%BF%BD (9) in a form.
    'U+FFFD in a string': eventRequest(size, (room) =>
      Buffer.from(`"${String.fromCodePoint(0xfffd).repeat(Math.floor((room - 2) / 3))}"`),
    ),
    // 2 bytes each, %C3%A9 (6) in a form: the exploratory test's repro.
    'é in a string': eventRequest(size, (room) => Buffer.from(`"${'é'.repeat((room - 2) >> 1)}"`)),
    // `1e20,` (5 bytes) is stored as 21 digits and a comma (22): 4.4x in JSON, 5.87x in base64.
    'an array of 1e20': eventRequest(size, (room) => {
      const count = Math.floor((room - 1) / 5);
      return Buffer.from(`[${Array(count).fill('1e20').join(',')}]`);
    }),
    // `\"` (2 bytes) is `%5C%22` (6) in a standard envelope's JSON-encoded form field.
    'escaped quotes in a string': eventRequest(size, (room) =>
      Buffer.from(`"${'\\"'.repeat((room - 2) >> 1)}"`),
    ),
  };
}

/** `{"type":"a","payload":<payload>}`, with the payload given the rest of `size` bytes. */
function eventRequest(size: number, payload: (room: number) => Buffer): Buffer {
  const head = Buffer.from('{"type":"a","payload":');
  const tail = Buffer.from('}');
  const body = Buffer.concat([head, payload(size - head.length - tail.length), tail]);
  if (body.length > size) throw new Error(`built ${body.length} bytes, more than ${size}`);
  return body;
}

/** The event as Herald accepts it: the request decoded as UTF-8 (as Fastify does) and parsed. */
export function acceptedEvent(request: Buffer): { type: string; payload: unknown; payloadJson: string } {
  const { type, payload } = JSON.parse(request.toString('utf8')) as { type: string; payload: unknown };
  // What the stores keep, and build bodies from.
  return { type, payload, payloadJson: JSON.stringify(payload) };
}
