/**
 * How many terminal columns text takes: East Asian wide and fullwidth characters and emoji two,
 * combining marks and other zero-width characters none, the rest one. Counted per grapheme
 * (Intl.Segmenter), so a base letter with its marks, an emoji with its modifiers or a ZWJ
 * sequence, and a flag are one cell each. Ambiguous-width characters count one, as most terminals
 * outside East Asian locales show them. Pure.
 */

/**
 * The East Asian Width W and F ranges (UAX #11), as [first, last] pairs: Unicode 14's
 * EastAsianWidth.txt (generated with Python's unicodedata), unassigned code points between two
 * wide ranges taken as wide, and the CJK planes 2 and 3 wide as the file's defaults make them.
 * Emoji of later versions are wide by \p{Emoji_Presentation} below, which Node's own data knows.
 */
const WIDE: readonly number[] = [
  0x1100, 0x115f, 0x231a, 0x231b, 0x2329, 0x232a, 0x23e9, 0x23ec, 0x23f0, 0x23f0, 0x23f3, 0x23f3, 0x25fd,
  0x25fe, 0x2614, 0x2615, 0x2648, 0x2653, 0x267f, 0x267f, 0x2693, 0x2693, 0x26a1, 0x26a1, 0x26aa, 0x26ab,
  0x26bd, 0x26be, 0x26c4, 0x26c5, 0x26ce, 0x26ce, 0x26d4, 0x26d4, 0x26ea, 0x26ea, 0x26f2, 0x26f3, 0x26f5,
  0x26f5, 0x26fa, 0x26fa, 0x26fd, 0x26fd, 0x2705, 0x2705, 0x270a, 0x270b, 0x2728, 0x2728, 0x274c, 0x274c,
  0x274e, 0x274e, 0x2753, 0x2755, 0x2757, 0x2757, 0x2795, 0x2797, 0x27b0, 0x27b0, 0x27bf, 0x27bf, 0x2b1b,
  0x2b1c, 0x2b50, 0x2b50, 0x2b55, 0x2b55, 0x2e80, 0x303e, 0x3041, 0x3247, 0x3250, 0x4dbf, 0x4e00, 0xa4c6,
  0xa960, 0xa97c, 0xac00, 0xd7a3, 0xf900, 0xfaff, 0xfe10, 0xfe19, 0xfe30, 0xfe6b, 0xff01, 0xff60, 0xffe0,
  0xffe6, 0x16fe0, 0x1b2fb, 0x1f004, 0x1f004, 0x1f0cf, 0x1f0cf, 0x1f18e, 0x1f18e, 0x1f191, 0x1f19a, 0x1f200,
  0x1f320, 0x1f32d, 0x1f335, 0x1f337, 0x1f37c, 0x1f37e, 0x1f393, 0x1f3a0, 0x1f3ca, 0x1f3cf, 0x1f3d3, 0x1f3e0,
  0x1f3f0, 0x1f3f4, 0x1f3f4, 0x1f3f8, 0x1f43e, 0x1f440, 0x1f440, 0x1f442, 0x1f4fc, 0x1f4ff, 0x1f53d, 0x1f54b,
  0x1f54e, 0x1f550, 0x1f567, 0x1f57a, 0x1f57a, 0x1f595, 0x1f596, 0x1f5a4, 0x1f5a4, 0x1f5fb, 0x1f64f, 0x1f680,
  0x1f6c5, 0x1f6cc, 0x1f6cc, 0x1f6d0, 0x1f6d2, 0x1f6d5, 0x1f6df, 0x1f6eb, 0x1f6ec, 0x1f6f4, 0x1f6fc, 0x1f7e0,
  0x1f7f0, 0x1f90c, 0x1f93a, 0x1f93c, 0x1f945, 0x1f947, 0x1f9ff, 0x1fa70, 0x1faf6, 0x20000, 0x3fffd,
];

/**
 * Made at the first text that needs it: building one loads ICU's grapheme rules, 15-20 ms of CPU
 * (a tenth of `herald --version`'s) in every command, though only text with marks, emoji or jamo
 * is segmented.
 */
let segmenter: Intl.Segmenter | undefined;
const EMOJI =
  /^\p{Emoji_Presentation}|^[#*0-9]\ufe0f?\u20e3|^\p{Extended_Pictographic}.*\ufe0f|^\p{Regional_Indicator}{2}/u;
/** A grapheme with nothing to show: a lone combining mark, a format or control character. */
const ZERO = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]/u;

/** True when the code point is East Asian Wide or Fullwidth (WIDE, by binary search). */
function isWide(code: number): boolean {
  let low = 0;
  let high = WIDE.length / 2 - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (code < WIDE[middle * 2]!) high = middle - 1;
    else if (code > WIDE[middle * 2 + 1]!) low = middle + 1;
    else return true;
  }
  return false;
}

/** The columns one grapheme takes: 0, 1 or 2. */
function graphemeWidth(grapheme: string): number {
  if (EMOJI.test(grapheme)) return 2;
  if (isWide(grapheme.codePointAt(0)!)) return 2;
  return ZERO.test(grapheme) ? 0 : 1;
}

/**
 * What makes two or more code points one grapheme: marks, format characters (ZWJ, prepended
 * ones), emoji (modifiers, tags, sequences), regional indicators, conjoining Hangul jamo. Text
 * without them is one grapheme a code point, measured without the segmenter (a tenth of the time).
 */
const JOINS =
  /[\p{M}\p{Cf}\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\r]/u;

/** The columns `text` takes in a terminal (one line of it: no control characters expected). */
export function displayWidth(text: string): number {
  // Printable ASCII is one column a character: most cells are ids, dates and counts.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  if (!JOINS.test(text)) {
    for (const character of text) width += graphemeWidth(character);
    return width;
  }
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  for (const { segment } of segmenter.segment(text)) width += graphemeWidth(segment);
  return width;
}

/** `text` with spaces after it up to `width` columns (as String.padEnd, by columns). */
export function padEndColumns(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}
