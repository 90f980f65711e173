import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
const RANDOM_CHARS = 16;

let lastTime = -1;
/** The last id's time as text, and its random part as digits and as text. */
let lastTimeText = '';
const lastDigits = new Uint8Array(RANDOM_CHARS);
let lastRandomText = '';
let pool = Buffer.alloc(0);
let poolAt = 0;

/** New random digits into lastDigits (from a pooled buffer: one randomBytes call per ~256 ids). */
function drawRandom(): void {
  if (poolAt + RANDOM_CHARS > pool.length) {
    pool = randomBytes(RANDOM_CHARS * 256);
    poolAt = 0;
  }
  let text = '';
  for (let i = 0; i < RANDOM_CHARS; i++) {
    const d = pool[poolAt++]! & 31;
    lastDigits[i] = d;
    text += ALPHABET[d];
  }
  lastRandomText = text;
}

/** lastDigits + 1; false when all 80 bits were used up (every digit was 31). */
function increment(): boolean {
  let i = RANDOM_CHARS - 1;
  while (i >= 0 && lastDigits[i] === 31) lastDigits[i--] = 0;
  if (i < 0) return false;
  lastDigits[i]! += 1;
  lastRandomText = lastRandomText.slice(0, i) + ALPHABET[lastDigits[i]!] + '0'.repeat(RANDOM_CHARS - 1 - i);
  return true;
}

function timeText(time: number): string {
  let t = time;
  let text = '';
  for (let i = 0; i < 10; i++) {
    text = ALPHABET[t % 32] + text;
    t = Math.floor(t / 32);
  }
  return text;
}

/**
 * How far an id's time may run ahead of the time it was made for (ID_TIME_SLACK_MS + 1 after the
 * practically impossible borrow below). Within this, ids stay monotonic across a clock that stepped
 * back, or across attempts recorded out of the order they started in (an attempt's id is made for
 * its start when it is recorded); past it, an id takes the time it was made for. So an id's time is
 * always in [time, time + ID_TIME_SLACK_MS + 1], and a store can bound the id on both sides of a
 * time range (idLowerBound, idUpperBound) instead of reading every newer row to filter on `until`.
 */
export const ID_TIME_SLACK_MS = 1_000;

/**
 * A new time-sortable id: `<prefix>_` + 10 characters of millisecond time + 16 random characters
 * (ULID layout). Monotonic within a process: ids made in the same millisecond (or up to
 * ID_TIME_SLACK_MS after a clock that stepped back) continue from the last one, so sorting ids
 * sorts by creation order, which cursors and "newest first" rely on. After a larger step back
 * the ids follow the clock.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  if (now <= lastTime && now >= lastTime - ID_TIME_SLACK_MS) {
    if (!increment()) {
      // 80 bits used up within one millisecond: borrow the next one
      lastTime += 1;
      lastTimeText = timeText(lastTime);
      drawRandom();
    }
  } else {
    if (now !== lastTime) lastTimeText = timeText(now);
    lastTime = now;
    drawRandom();
  }
  return `${prefix}_${lastTimeText}${lastRandomText}`;
}

/** Whether `text` is shaped as newId makes ids of `prefix`: the prefix, `_`, 26 characters of ALPHABET. */
export function isIdOf(prefix: string, text: string): boolean {
  if (text.length !== prefix.length + 27 || !text.startsWith(`${prefix}_`)) return false;
  for (let i = prefix.length + 1; i < text.length; i++) if (!ALPHABET.includes(text[i]!)) return false;
  return true;
}

/** The last millisecond an id's 10 characters of time can hold. */
const MAX_ID_TIME = 32 ** 10 - 1;

/**
 * The smallest id of `prefix` made at `time` or later: an id's time is never earlier than the time
 * it was made for (newId is monotonic), so `id >= idLowerBound(prefix, t)` keeps every row with
 * `created_at >= t` (or `started_at`, for attempts) and lets a store walk its (…, id) index from
 * there instead of reading every row of the project or endpoint to filter on the time.
 */
export function idLowerBound(prefix: string, time: number): string {
  // Clamped to the times an id holds (10 base-32 characters, to the year 37648): the API takes
  // epoch ms up to a Date's limit, and a time past 32^10 ms would otherwise wrap round to one near
  // 1970 (an `until` that far ahead answered nothing).
  return `${prefix}_${timeText(Math.min(MAX_ID_TIME, Math.max(0, Math.floor(time))))}`;
}

/**
 * An id of `prefix` above every id made at `time` or earlier (an id runs at most
 * ID_TIME_SLACK_MS + 1 ahead of its time): `id < idUpperBound(prefix, t)` keeps every row with
 * `created_at <= t` (or `started_at`), so an `until` filter walks an index from there down instead
 * of reading every newer row.
 */
export function idUpperBound(prefix: string, time: number): string {
  return idLowerBound(prefix, Math.floor(time) + ID_TIME_SLACK_MS + 2);
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
