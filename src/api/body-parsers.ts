/**
 * Request bodies before the routes see them: UTF-8 only, identity encoding only, JSON nesting at
 * most MAX_JSON_DEPTH deep, an empty body as none, and payload numbers a double cannot hold kept
 * exactly where a route stores them.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyRequest } from 'fastify';
import { JSON_LOSSY_NUMBER, JSON_TOO_DEEP, keepChangedNumbers, scanJsonText } from '../domain/json-text.ts';
import { HeraldError, ValidationError } from './errors.ts';
import { LIMITS } from './schemas/common.ts';

/** How deeply a JSON body may nest objects and arrays (docs/api.md "Limits"). */
export const MAX_JSON_DEPTH = LIMITS.jsonDepth;

/**
 * Whether `text` nests objects and arrays deeper than `max`, by a scan of its brackets outside
 * strings (no parse, no recursion): deep enough nesting would overflow the stack of JSON.stringify
 * when the value is stored or sent. Malformed text may be misjudged; JSON.parse refuses it anyway.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  // Nesting deeper than `max` needs at least max + 1 openers and as many closers.
  if (text.length < 2 * (max + 1)) return false;
  return (scanJsonText(text, max, false) & JSON_TOO_DEEP) !== 0;
}

type JsonParser = (
  request: FastifyRequest,
  body: string,
  done: (error: Error | null, value?: unknown) => void,
) => void;

/**
 * Routes whose free-form JSON keeps numbers exactly as sent (docs/api.md "Events"): event payloads,
 * delivered as given, and an event type's example (sent as a test event's payload) and schema.
 * Only those: elsewhere in a body numbers are typed (a kept number, an object to the schema, would
 * pass for an object: endpoint `headers`, say).
 */
const EXACT_NUMBER_ROUTES = new Set([
  '/api/v1/projects/:project/events',
  '/api/v1/projects/:project/events/batch',
  '/api/v1/event-types/:name',
]);

/**
 * Wraps Fastify's JSON parser (which refuses `__proto__` and `constructor.prototype` keys) with the
 * nesting limit: 400 naming `body` above MAX_JSON_DEPTH levels. On the event routes, a body that
 * holds a number JSON.parse would change (found by the same scan) is parsed again once the default
 * parser has accepted it, and its payloads are taken from that parse, which keeps such numbers as
 * their source text (`JSON.rawJSON`); other numbers stay numbers. Other bodies are parsed once.
 */
export function depthLimitedJsonParser(parse: JsonParser): JsonParser {
  return (request, body, done) => {
    const found = scanJsonText(body, MAX_JSON_DEPTH, true);
    if (found & JSON_TOO_DEEP) {
      done(new ValidationError('body', `must not nest objects and arrays more than ${MAX_JSON_DEPTH} deep`));
      return;
    }
    // (routeOptions is built anew at each read: only read for the rare body it matters to.)
    if (!(found & JSON_LOSSY_NUMBER) || !EXACT_NUMBER_ROUTES.has(request.routeOptions.url ?? '')) {
      parse(request, body, (error, value) => done(error && whyRefused(error, body), value));
      return;
    }
    parse(request, body, (error, value) => {
      if (error) done(whyRefused(error, body));
      else done(null, withExactPayloads(value, JSON.parse(body, keepChangedNumbers as JsonReviver)));
    });
  };
}

/**
 * Fastify's parser refuses text that is not JSON, and a `__proto__` key or a `constructor` key
 * holding `prototype`, with one error that says neither where nor which ("Body is not valid JSON
 * but content-type is set to 'application/json'"). Only refused bodies are parsed again, to say
 * which, as 400 HERALD_ERR_MALFORMED_JSON naming `body`: for text that is not JSON, why and where
 * parsing failed (`body: is not valid JSON: expected ':' after property name, at line 1, column 8`,
 * `details.line`, `column`, `position`); for valid JSON, that such a key was refused.
 */
function whyRefused(error: Error, body: string): Error {
  if ((error as { code?: unknown }).code !== 'FST_ERR_CTP_INVALID_JSON_BODY') return error;
  const problem = jsonSyntaxProblem(body);
  if (problem) {
    return new HeraldError(400, 'HERALD_ERR_MALFORMED_JSON', `body: is not valid JSON: ${problem.reason}`, {
      details: { field: 'body', ...problem.where },
      cause: error,
    });
  }
  return new HeraldError(
    400,
    'HERALD_ERR_MALFORMED_JSON',
    'body: must not hold a "__proto__" key, or a "constructor" key holding "prototype", anywhere (they could change the prototypes of objects made from it)',
    { details: { field: 'body' }, cause: error },
  );
}

/**
 * Why JSON.parse refuses `text`, in Herald's words, and where when V8 says (its `position`, a
 * 0-based offset in characters, with the 1-based `line` and `column` it falls on); null when it
 * parses. V8's own message may quote the text around the mistake: that part is left out.
 */
export function jsonSyntaxProblem(
  text: string,
): { reason: string; where?: { position: number; line: number; column: number } } | null {
  let message: string;
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }
  const at = /^(.+?) (?:in|after) JSON at position (\d+)/.exec(message);
  const token = /^Unexpected token '(.+?)', /s.exec(message);
  let reason: string;
  let position: number | undefined;
  if (at) {
    reason = at[1]!;
    position = Number(at[2]);
  } else if (/^Unexpected end of JSON input/.test(message)) {
    reason = 'the text ends before the JSON value is complete';
    position = text.length;
  } else if (token) {
    reason = `unexpected character ${JSON.stringify(token[1])}`;
    position = unexpectedTokenAt(text);
  } else {
    reason = 'cannot be parsed';
  }
  reason = reason.charAt(0).toLowerCase() + reason.slice(1);
  if (position === undefined || position > text.length) return { reason };
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return { reason: `${reason}, at line ${line}, column ${column}`, where: { position, line, column } };
}

/** Longest text whose unexpected character unexpectedTokenAt looks for (it parses ~log2(length) prefixes). */
const LOCATE_TOKEN_MAX_CHARS = 8 * 1024;

/**
 * Where the character is that V8 calls unexpected without saying where ("Unexpected token 'x', …
 * is not valid JSON"): the shortest prefix of `text` that already fails before its own end ends
 * with it, found by bisection (a prefix fails so exactly when it holds the first mistake).
 * Undefined past LOCATE_TOKEN_MAX_CHARS.
 */
function unexpectedTokenAt(text: string): number | undefined {
  if (text.length > LOCATE_TOKEN_MAX_CHARS) return undefined;
  const failsBeforeEnd = (k: number): boolean => {
    try {
      JSON.parse(text.slice(0, k));
      return false;
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (/^Unexpected token /.test(message)) return true;
      const at = / (?:in|after) JSON at position (\d+)/.exec(message);
      return at !== null && Number(at[1]) < k;
    }
  };
  let low = 1;
  let high = text.length;
  if (!failsBeforeEnd(high)) return undefined;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (failsBeforeEnd(mid)) high = mid;
    else low = mid + 1;
  }
  return low - 1;
}

/**
 * Wraps a JSON parser so that an empty body (`Content-Type: application/json` and nothing, as many
 * HTTP clients send on a POST without data) is no body at all, as it would be without the header:
 * routes whose body is optional (enable, retry, rotate, test send…) take it, and routes that need
 * one answer 400 naming `body` (missingBody in errors.ts). Any other body goes to `parse`.
 */
export function emptyBodyAsNone(parse: JsonParser): JsonParser {
  return (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else parse(request, body, done);
  };
}

type BufferParser = (
  request: FastifyRequest,
  body: Buffer,
  done: (error: Error | null, value?: unknown) => void,
) => void;

/** The charset a JSON body may be labelled with (RFC 8259: JSON exchanged between systems is UTF-8). */
const UTF8_LABELS = new Set(['utf-8', 'utf8']);

/**
 * The `charset` parameter of a Content-Type (`application/json; charset="UTF-8"`), lower-cased and
 * unquoted; undefined when there is none.
 */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    let value = param.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value.toLowerCase();
  }
  return undefined;
}

/**
 * Takes the body as bytes: a charset other than UTF-8 in its Content-Type is 415 naming
 * `headers.content-type`, and bytes that are not valid UTF-8 are 400 HERALD_ERR_MALFORMED_JSON
 * naming `body` (decoding them as a string would turn each bad sequence into U+FFFD, stored
 * silently). `isUtf8` is native: for a 1 MiB body ~0.04 ms (ASCII) to ~0.2 ms (multi-byte text),
 * against ~3 ms to decode it. Valid bodies go to `parse` as text.
 */
export function utf8Body(parse: JsonParser): BufferParser {
  return (request, body, done) => {
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== undefined && !UTF8_LABELS.has(charset)) {
      done(
        new HeraldError(
          415,
          'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE',
          `headers.content-type: the charset must be utf-8 (was ${JSON.stringify(charset.slice(0, 40))}): a JSON body is UTF-8`,
          { details: { field: 'headers.content-type', accepted: ['application/json; charset=utf-8'] } },
        ),
      );
      return;
    }
    if (!isUtf8(body)) {
      done(
        new HeraldError(
          400,
          'HERALD_ERR_MALFORMED_JSON',
          'body: is not valid UTF-8 (a JSON body must be UTF-8)',
          {
            details: { field: 'body' },
          },
        ),
      );
      return;
    }
    parse(request, body.toString('utf8'), done);
  };
}

/**
 * Refuses a body sent with a Content-Encoding other than `identity` (gzip, br, deflate…), 415 naming
 * `headers.content-encoding`, before `parse` sees it: Herald does not decompress request bodies (a
 * small compressed body can expand to gigabytes: a zip bomb), and taking the bytes as they are
 * would parse compressed data as JSON, or store a body labelled compressed that was not.
 */
export function identityEncodingOnly(parse: BufferParser): BufferParser {
  return (request, body, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && !encoding.split(',').every((e) => /^\s*(identity)?\s*$/i.test(e))) {
      done(
        new HeraldError(
          415,
          'HERALD_ERR_UNSUPPORTED_MEDIA_TYPE',
          `headers.content-encoding: must be absent or identity (was ${JSON.stringify(encoding.slice(0, 40))}): Herald does not decompress request bodies; send the JSON uncompressed`,
          { details: { field: 'headers.content-encoding', accepted: ['identity'] } },
        ),
      );
      return;
    }
    parse(request, body, done);
  };
}

type JsonReviver = (key: string, value: unknown) => unknown;
type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `body` (an event, a batch in `events`, or an event type) with each event's payload, and an event
 * type's example and schema, taken from `exact`, the same text parsed keeping numbers.
 */
function withExactPayloads(body: unknown, exact: unknown): unknown {
  if (!isFields(body) || !isFields(exact)) return body;
  if (Object.hasOwn(body, 'payload')) body.payload = exact.payload;
  if (Object.hasOwn(body, 'example')) body.example = exact.example;
  // A schema must be an object: a bare number stays a number, for the route's schema to refuse.
  if (isFields(body.schema)) body.schema = exact.schema;
  const events = body.events;
  const exactEvents = exact.events;
  if (Array.isArray(events) && Array.isArray(exactEvents)) {
    events.forEach((event, i) => {
      const same = exactEvents[i];
      if (isFields(event) && isFields(same) && Object.hasOwn(event, 'payload')) event.payload = same.payload;
    });
  }
  return body;
}
