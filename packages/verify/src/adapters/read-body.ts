/**
 * Reading a request body up to a limit, on Node and on Fetch-API runtimes: the bytes are counted as
 * they arrive, so a body over the limit is refused as soon as it passes it, whether or not it
 * declared a length, instead of being held whole first.
 */
import { WebhookVerificationError } from '../errors.ts';
import { DEFAULT_MAX_BODY_BYTES } from './options.ts';

/**
 * Refuses a body whose declared length (Content-Length) is over `maxBytes` before any of it is
 * read: nothing it could send would be accepted.
 */
export function checkDeclaredLength(
  contentLength: string | null | undefined,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): void {
  checkBodyLimit(maxBytes);
  if (contentLength !== null && contentLength !== undefined && Number(contentLength) > maxBytes) {
    throw bodyTooLarge(maxBytes);
  }
}

/** Reads the whole body as bytes, refusing more than `maxBytes`. */
export async function readRawBody(
  req: AsyncIterable<Uint8Array | string>,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): Promise<Uint8Array> {
  checkBodyLimit(maxBytes);
  // Not a stream (readRawBody(undefined)): iterating it threw a TypeError, which was reported as
  // BODY_INCOMPLETE (a 400 blaming the sender) for a mistake in the receiver's code. Any iterable
  // object (for await takes an array of chunks too) is read as before.
  if (!isIterableObject(req)) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      'readRawBody(req, maxBytes) takes the request (or any async iterable of its chunks) first',
    );
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of req) {
      const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
      total += bytes.length;
      if (total > maxBytes) throw bodyTooLarge(maxBytes);
      chunks.push(bytes);
    }
  } catch (error) {
    if (error instanceof WebhookVerificationError) throw error;
    // The stream failed: the sender closed the connection before the end of the body it declared
    // (Herald's attempt deadline, a restart mid-send, or anyone who reaches the URL). A refusal
    // like any other: as the stream's own error it escaped the node adapter's recipe
    // (sendVerificationError rethrows it) and, thrown from an async request handler, ended the
    // receiver's process.
    throw new WebhookVerificationError(
      'HERALD_VERIFY_BODY_INCOMPLETE',
      `The body ended after ${total} bytes, before it was complete (the connection closed or failed)`,
      { cause: error },
    );
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/**
 * The chunks of a Fetch body stream. Stopping early (over the limit) stops reading without
 * cancelling the stream: on Node's fetch-style servers a cancel destroys the socket, and the 413
 * would never reach Herald.
 */
export async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Refuses a limit that is not a number of bytes (Infinity: none). NaN (`Number(process.env.UNSET)`)
 * or a string (`'10mb'`, as express.raw's `limit` is written) compared false with every size: the
 * limit was silently off, and a body was read whole however large.
 */
export function checkBodyLimit(maxBytes: number): void {
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      'maxBodyBytes must be a number of bytes, 0 or more (Infinity: no limit)',
    );
  }
}

function isIterableObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return (
    typeof Reflect.get(value, Symbol.asyncIterator) === 'function' ||
    typeof Reflect.get(value, Symbol.iterator) === 'function'
  );
}

function bodyTooLarge(limit: number): WebhookVerificationError {
  return new WebhookVerificationError('HERALD_VERIFY_BODY_TOO_LARGE', `Body exceeds ${limit} bytes`);
}
