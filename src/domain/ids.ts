import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/**
 * A new time-sortable id: `<prefix>_` + 10 characters of millisecond time + 16 random characters
 * (ULID layout). Sorting ids sorts by creation time, which is what cursors rely on.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b & 31];
  return `${prefix}_${time}${rand}`;
}

/** Id prefixes, one per kind of object. */
export const ID_PREFIX = {
  project: 'prj',
  apiKey: 'key',
  endpoint: 'ep',
  secret: 'sec',
  event: 'evt',
  delivery: 'dlv',
  attempt: 'att',
  operationalEvent: 'op',
} as const;
