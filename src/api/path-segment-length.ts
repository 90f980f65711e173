/**
 * The path segment limit (an id, a uid or an event-type name: at most 200 characters, 414) counted
 * as the API's body fields count theirs, in characters (code points). The router counts UTF-16
 * units: an emoji is two, so a name of 101 to 200 emoji, taken as an event's type, a filter's name
 * and a catalog entry, could not be written, read or deleted by name. The router's own limit is
 * therefore twice this one (the most 200 characters take), and this hook, before any other but the
 * request id's and a closing server's, answers 414 past 200 characters as the router does past it.
 */
import type { FastifyInstance } from 'fastify';
import { LIMITS } from './schemas/common.ts';

/** The most characters a path segment may hold. */
export const MAX_SEGMENT_CHARACTERS = LIMITS.idLength;
/** The router's limit: UTF-16 units, up to two a character. */
export const MAX_SEGMENT_UNITS = 2 * MAX_SEGMENT_CHARACTERS;

/** The answer to a path segment over MAX_SEGMENT_CHARACTERS (the router's is the same). */
export const SEGMENT_TOO_LONG = {
  error: { code: 'HERALD_ERR_URI_TOO_LONG', message: 'a path segment is longer than 200 characters' },
} as const;

/** Whether `value` holds more than MAX_SEGMENT_CHARACTERS code points. */
export function segmentTooLong(value: string): boolean {
  if (value.length <= MAX_SEGMENT_CHARACTERS) return false;
  let characters = 0;
  for (const _ of value) if (++characters > MAX_SEGMENT_CHARACTERS) return true;
  return false;
}

export function refuseLongPathSegments(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const params = request.params as Record<string, unknown> | undefined;
    if (params) {
      for (const name in params) {
        // `*`: the dashboard's paths (/ui/*), one wildcard the router never limited, not a segment.
        if (name === '*') continue;
        const value = params[name];
        if (typeof value === 'string' && segmentTooLong(value)) {
          reply.code(414).send(SEGMENT_TOO_LONG);
          return;
        }
      }
    }
    done();
  });
}
