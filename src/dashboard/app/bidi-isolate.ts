/**
 * User text (a name, an event type, a URL) put into text that is no element of its own: a `<select>`
 * option, a `title` or an `aria-label`. In body text a `<bdi>` keeps right-to-left text, or a bidi
 * control with no end (U+202E RIGHT-TO-LEFT OVERRIDE), from reordering the words around it; here the
 * Unicode isolates do, FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE around it ("Revoke ⁨…⁩…").
 */

const FSI = '\u2068';
const PDI = '\u2069';
const ISOLATE_INITIATORS = new Set(['\u2066', '\u2067', '\u2068']);

/**
 * Characters that can move anything: right-to-left letters and Arabic digits, and the bidi controls
 * (marks, embeddings, overrides, isolates). Text without any of them reads the same isolated or not.
 */
const REORDERING =
  /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u{10800}-\u{10fff}\u{1e800}-\u{1efff}\u061c\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * `text` in an isolate of its own when it holds a character that could reorder the words around it;
 * as it is otherwise, so an accessible name of ASCII reads (and is found) as before. An isolate the
 * text opens without closing is closed before the end, and a POP DIRECTIONAL ISOLATE of its own that
 * would close this isolate early is left out.
 */
export function isolate(text: string): string {
  if (!REORDERING.test(text)) return text;
  let open = 0;
  let inner = '';
  for (const char of text) {
    if (ISOLATE_INITIATORS.has(char)) open++;
    else if (char === PDI) {
      if (open === 0) continue;
      open--;
    }
    inner += char;
  }
  return `${FSI}${inner}${PDI.repeat(open)}${PDI}`;
}
