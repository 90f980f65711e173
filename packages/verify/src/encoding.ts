/**
 * Byte and text helpers that work on Node and on Fetch-API runtimes (Buffer when present, because
 * it is much faster for large bodies; portable code otherwise).
 */

interface BufferLike {
  from(data: Uint8Array | string, encoding?: string): { toString(encoding: string): string } & Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * With the length a multiple of 4: whole groups of 4, the last ending in at most two `=`. A plain
 * character-class loop: a repeated group (`(?:[…]{4})*`) backtracks on a stack, and V8 throws
 * RangeError (Maximum call stack size exceeded) on text of some 6 MB, a body Herald can send.
 */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when `text` is canonical, padded, standard-alphabet base64. */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text);
}

/** Standard base64 of the UTF-8 bytes of `text`. */
export function utf8ToBase64(text: string): string {
  if (NodeBuffer) return NodeBuffer.from(text, 'utf8').toString('base64');
  return bytesToBase64(encoder.encode(text));
}

/** DEL and every non-ASCII UTF-16 unit (a surrogate pair's two halves each on their own). */
const NOT_PLAIN_ASCII = /[\u007f-\uffff]/g;

/**
 * JSON text with DEL and every non-ASCII character written as a `\uXXXX` escape (lower-case hex,
 * as Python's `json.dumps` writes them): the same JSON value, in ASCII only. GamePush's page decodes
 * its base64 with `atob`, which reads each byte as one character: UTF-8 would arrive garbled.
 * Characters outside strings are ASCII in any JSON text, so only strings change.
 */
export function asciiJson(text: string): string {
  NOT_PLAIN_ASCII.lastIndex = 0;
  if (!NOT_PLAIN_ASCII.test(text)) return text;
  return text.replace(NOT_PLAIN_ASCII, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Standard base64 of `bytes`. */
export function bytesToBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] ?? 0);
  return btoa(binary);
}

/** Bytes of strict base64 text, or null when it is not valid base64. */
export function base64ToBytes(text: string): Uint8Array | null {
  if (!isBase64(text)) return null;
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(text, 'base64'));
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * `value` as a Uint8Array over the same bytes (never a copy) when it is one, a Buffer or any other
 * ArrayBufferView (a DataView, a typed array: its bytes), or an ArrayBuffer (what
 * `await request.arrayBuffer()` gives) or SharedArrayBuffer, made in this realm or in another (a vm
 * context, such as Jest's test environment, where `instanceof Uint8Array` is false); else null.
 */
export function asBytes(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (isBuffer(value, arrayBufferLength) || isBuffer(value, sharedBufferLength)) {
    return new Uint8Array(value as ArrayBufferLike);
  }
  return null;
}

/**
 * The `byteLength` getters check their receiver's internal slot, so they throw on anything but a
 * buffer of their kind, of any realm: `instanceof` is false across realms, and a `toString` tag can
 * be claimed by any object.
 */
const arrayBufferLength = byteLengthGetter(ArrayBuffer.prototype);
const sharedBufferLength =
  typeof SharedArrayBuffer === 'function' ? byteLengthGetter(SharedArrayBuffer.prototype) : undefined;

function byteLengthGetter(prototype: object): ((this: unknown) => number) | undefined {
  return Object.getOwnPropertyDescriptor(prototype, 'byteLength')?.get;
}

function isBuffer(value: unknown, byteLength: ((this: unknown) => number) | undefined): boolean {
  if (typeof value !== 'object' || value === null || byteLength === undefined) return false;
  try {
    byteLength.call(value);
    return true;
  } catch {
    return false;
  }
}

/** UTF-8 text of `bytes` (invalid sequences become U+FFFD, so a later JSON.parse fails cleanly). */
export function bytesToText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Compares two strings in time that depends only on their lengths, never on where they differ.
 * Lengths are not secret (every signature of a scheme has the same length).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
