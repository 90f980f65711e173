import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
const RANDOM_CHARS = 16;

let lastTime = -1;
let lastRandom: number[] = [];
let pool = Buffer.alloc(0);
let poolAt = 0;

/** Random base32 digits from a pooled buffer: one randomBytes call per ~256 ids, not per id. */
function randomDigits(): number[] {
  if (poolAt + RANDOM_CHARS > pool.length) {
    pool = randomBytes(RANDOM_CHARS * 256);
    poolAt = 0;
  }
  const out: number[] = [];
  for (let i = 0; i < RANDOM_CHARS; i++) out.push(pool[poolAt++]! & 31);
  return out;
}

/**
 * A new time-sortable id: `<prefix>_` + 10 characters of millisecond time + 16 random characters
 * (ULID layout). Monotonic within a process: ids made in the same millisecond (or with a clock that
 * stepped back) continue from the last one, so sorting ids sorts by creation order, which cursors
 * and "newest first" rely on.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = now;
  let digits: number[];
  if (time <= lastTime) {
    time = lastTime;
    digits = [...lastRandom];
    let i = RANDOM_CHARS - 1;
    while (i >= 0 && digits[i] === 31) digits[i--] = 0;
    if (i >= 0) digits[i]! += 1;
    else {
      time += 1; // 80 bits used up within one millisecond: borrow the next one
      digits = randomDigits();
    }
  } else {
    digits = randomDigits();
  }
  lastTime = time;
  lastRandom = digits;
  let t = time;
  let timeText = '';
  for (let i = 0; i < 10; i++) {
    timeText = ALPHABET[t % 32] + timeText;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${timeText}${digits.map((d) => ALPHABET[d]).join('')}`;
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
