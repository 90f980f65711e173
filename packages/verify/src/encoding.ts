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

/** DEL or any character above it. */
const NOT_PLAIN_ASCII = /[\u007f-\uffff]/;
/** Character codes of the lower-case hex digits. */
const HEX_CODES = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));

/**
 * The UTF-8 bytes of JSON text with DEL and every non-ASCII character written as a `\uXXXX` escape
 * (lower-case hex, a character above U+FFFF as its two surrogates, as Python's `json.dumps` writes
 * them): the same JSON value, in ASCII only. GamePush's page decodes its base64 with `atob`, which
 * reads each byte as one character: UTF-8 would arrive garbled. Characters outside strings are
 * ASCII in any JSON text, so only strings change. Works on the bytes, in two passes (the size,
 * then the bytes): 17-25 ms per MiB of é, € or 🎮, where a callback per character took 0.1-0.9 s.
 */
export function asciiJsonBytes(text: string): Uint8Array {
  const utf8 = textToBytes(text);
  if (!NOT_PLAIN_ASCII.test(text)) return utf8;
  let size = 0;
  for (const byte of utf8) {
    if (byte < 0x7f) size += 1;
    else if (byte === 0x7f || (byte >= 0xc0 && byte < 0xf0)) size += 6;
    else if (byte >= 0xf0) size += 12; // continuation bytes (0x80-0xbf) count with their lead
  }
  const out = new Uint8Array(size);
  let at = 0;
  const writeEscape = (unit: number) => {
    out[at] = 0x5c; // \
    out[at + 1] = 0x75; // u
    out[at + 2] = HEX_CODES[unit >> 12] ?? 0;
    out[at + 3] = HEX_CODES[(unit >> 8) & 15] ?? 0;
    out[at + 4] = HEX_CODES[(unit >> 4) & 15] ?? 0;
    out[at + 5] = HEX_CODES[unit & 15] ?? 0;
    at += 6;
  };
  for (let i = 0; i < utf8.length; i++) {
    const byte = utf8[i] ?? 0;
    if (byte < 0x7f) {
      out[at++] = byte;
    } else if (byte === 0x7f) {
      writeEscape(byte);
    } else if (byte < 0xe0) {
      writeEscape(((byte & 0x1f) << 6) | ((utf8[++i] ?? 0) & 0x3f));
    } else if (byte < 0xf0) {
      writeEscape(((byte & 0x0f) << 12) | (((utf8[++i] ?? 0) & 0x3f) << 6) | ((utf8[++i] ?? 0) & 0x3f));
    } else {
      const point =
        (((byte & 0x07) << 18) |
          (((utf8[++i] ?? 0) & 0x3f) << 12) |
          (((utf8[++i] ?? 0) & 0x3f) << 6) |
          ((utf8[++i] ?? 0) & 0x3f)) -
        0x10000;
      writeEscape(0xd800 | (point >> 10));
      writeEscape(0xdc00 | (point & 0x3ff));
    }
  }
  return out;
}

/** The UTF-8 bytes of `text` (a lone surrogate as U+FFFD). */
function textToBytes(text: string): Uint8Array {
  return NodeBuffer ? NodeBuffer.from(text, 'utf8') : encoder.encode(text);
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
