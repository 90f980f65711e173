/**
 * `value` as one word of a POSIX shell command line, for a command the CLI tells the user to run:
 * as it is when it holds only characters no shell treats specially, else in single quotes (a quote
 * inside as '\''). Control characters are the caller's to make visible (terminal-text.ts).
 */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}
