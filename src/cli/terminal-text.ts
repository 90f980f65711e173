/**
 * Text for the terminal: what a tenant or a server wrote (event types, names, descriptions, URLs,
 * error messages) may hold control characters, which a terminal would act on (an ESC sequence
 * recolours, moves the cursor, retitles the window; a newline forges a line of output). The human
 * output of every command goes through `visible`; `--json` output is exact JSON and does not.
 */

/**
 * C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional overrides and
 * isolates (which reorder what is shown).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with each control character written out as an escape: `\n`, `\t`, `\u001b`. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
