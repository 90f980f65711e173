/**
 * JSON text, read once outside its strings: how deeply it nests, and whether it holds a number
 * that JSON.parse would change (a 64-bit id, a decimal with more digits than a double keeps, -0,
 * a magnitude a double cannot hold). Such numbers are kept as their source text with
 * `JSON.rawJSON`, so `JSON.stringify` writes them back exactly as they came.
 */

/** `scanJsonText` found objects and arrays nested deeper than its `maxDepth`. */
export const JSON_TOO_DEEP = 1;
/** `scanJsonText` found a number that JSON.parse would change. */
export const JSON_LOSSY_NUMBER = 2;

/** Node 24's JSON source-text access; not in the TypeScript lib this project compiles against. */
const { rawJSON, isRawJSON } = JSON as unknown as {
  rawJSON(text: string): object;
  isRawJSON(value: unknown): value is { readonly rawJSON: string };
};

export { isRawJSON };

/** What a JSON.parse reviver gets as its third argument: the source text of a primitive value. */
interface ReviverContext {
  source?: string;
}

/** 2^52: a decimal whose digits, read as an integer, stay below it has a double that keeps them. */
const EXACT_DIGITS = 2 ** 52;

/**
 * Bit flags (JSON_TOO_DEEP, JSON_LOSSY_NUMBER) for `text`, read outside strings without a parse
 * and without recursion. The depth check stops at the first level past `maxDepth`; numbers are
 * checked only with `numbers` (until one is found that would change). Malformed text may be
 * misjudged; JSON.parse refuses it anyway.
 */
export function scanJsonText(text: string, maxDepth: number, numbers: boolean): number {
  let found = 0;
  let depth = 0;
  // Where the next backslash and the next quote are (a backslash past the end: none left); each
  // found again only once passed, so a string of many escapes is read once, not once per escape.
  let backslash = -1;
  let quote = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Inside a string only a quote or a backslash matters: jump to the next of either (most of
      // a batch of events is string content; indexOf scans it much faster than this loop).
      for (;;) {
        if (quote <= i) quote = text.indexOf('"', i + 1);
        if (quote === -1) return found; // unterminated: JSON.parse refuses it
        if (backslash <= i) backslash = text.indexOf('\\', i + 1) >>> 0;
        if (backslash > quote) {
          i = quote;
          break;
        }
        i = backslash + 1; // the escaped character, whatever it is, does not end the string
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return found | JSON_TOO_DEEP;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (numbers && ((c >= 0x30 && c <= 0x39) || c === 0x2d)) {
      // Most numbers are short: up to 15 characters of digits, a dot and a sign (but no -0) hold
      // at most 15 digits, which a double keeps.
      let j = i + 1;
      let d = text.charCodeAt(j);
      while ((d >= 0x30 && d <= 0x39) || d === 0x2e) d = text.charCodeAt(++j);
      if (j - i <= 15 && d !== 0x65 && d !== 0x45 && !(c === 0x2d && text.charCodeAt(i + 1) === 0x30)) {
        i = j - 1;
        continue;
      }
      const end = readNumber(text, i);
      if (end < 0) {
        found |= JSON_LOSSY_NUMBER;
        numbers = false; // one is enough
        i = ~end - 1;
      } else i = end - 1;
    }
  }
  return found;
}

/**
 * Whether JSON.parse changes the number `source` (JSON number syntax): its double is -0 (which
 * JSON.stringify writes as 0), not finite (written as null), or has a shortest decimal form of
 * another value (9007199254740993 → 9007199254740992, 0.1000000000000000055 → 0.1). Another
 * spelling of the same value (1.0, 1e3, 0.50) is not a change.
 */
export function numberLosesInformation(source: string): boolean {
  return readNumber(source, 0) < 0;
}

/**
 * Reads the number that starts at `start` (a `-` or a digit) and returns the index after it, or
 * that index inverted (`~end`, negative) when JSON.parse would change the number. Most numbers are
 * decided while they are read, without Number().
 */
function readNumber(text: string, start: number): number {
  let i = start;
  const negative = text.charCodeAt(i) === 0x2d;
  if (negative) i++;
  // The digits, read as an integer (exact while below 2^53, and only compared with 2^52).
  let digits = 0;
  let count = 0;
  let fraction = false;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d >= 0 && d <= 9) {
      digits = digits * 10 + d;
      count++;
    } else if (d === -2)
      fraction = true; // '.'
    else break;
  }
  const c = text.charCodeAt(i);
  if (c === 0x65 || c === 0x45) {
    // An exponent (rare in payloads): the exact check decides.
    for (i++; i < text.length; i++) {
      const d = text.charCodeAt(i);
      if (!((d >= 0x30 && d <= 0x39) || d === 0x2b || d === 0x2d)) break;
    }
    return changedByDouble(text.slice(start, i)) ? ~i : i;
  }
  if (digits === 0) return negative ? ~i : i; // 0 and 0.0 stay; -0 and -0.00 become 0
  // Up to 15 digits always come back from a double (DBL_DIG). Digits that read as an integer
  // below 2^52 do too: the spacing of doubles near the value is finer than the last digit's place
  // (up to 300 digits, far from the smallest doubles, whose spacing is fixed). So does an integer
  // up to 2^53 - 1.
  if (
    count <= 15 ||
    (count <= 300 && digits < EXACT_DIGITS) ||
    (!fraction && digits <= Number.MAX_SAFE_INTEGER)
  ) {
    return i;
  }
  return changedByDouble(text.slice(start, i)) ? ~i : i;
}

/** The exact check: parse, print the shortest form, compare the decimal values. */
function changedByDouble(source: string): boolean {
  const value = Number(source);
  if (!Number.isFinite(value) || Object.is(value, -0)) return true;
  const shortest = String(value);
  return shortest !== source && decimalValue(shortest) !== decimalValue(source);
}

const NUMBER = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A canonical spelling of a decimal's value: sign, digits without leading or trailing zeros, exponent. */
function decimalValue(text: string): string {
  const m = NUMBER.exec(text);
  if (!m) return `?${text}`;
  const all = `${m[2]}${m[3] ?? ''}`;
  const first = all.search(/[1-9]/);
  if (first === -1) return '0';
  const significant = all.slice(first).replace(/0+$/, '');
  // Value = 0.<all> scaled: the exponent of the first significant digit's place.
  const exponent = Number(m[4] ?? 0) + m[2]!.length - first;
  return `${m[1]}${significant}e${exponent}`;
}

/** A JSON.parse reviver that keeps each number JSON.parse would change as its source text. */
export function keepChangedNumbers(_key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value === 'number' && context?.source !== undefined && numberLosesInformation(context.source)) {
    return rawJSON(context.source);
  }
  return value;
}

/** Whether the JSON `text` holds a number that JSON.parse would change. */
export function holdsChangedNumber(text: string): boolean {
  return (scanJsonText(text, Number.POSITIVE_INFINITY, true) & JSON_LOSSY_NUMBER) !== 0;
}

/**
 * JSON.parse that keeps every number it would change as its source text (`JSON.rawJSON`): plain
 * JSON.parse unless the text holds such a number. For stored text (no depth or key checks).
 */
export function parseJsonExact(text: string): unknown {
  return holdsChangedNumber(text)
    ? JSON.parse(text, keepChangedNumbers as (key: string, value: unknown) => unknown)
    : JSON.parse(text);
}
