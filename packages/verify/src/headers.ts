import type { HeaderSource } from './types.ts';

/**
 * The value of header `name` (case-insensitive), or null when absent or empty. A repeated header
 * given as an array (Node's `req.headersDistinct`) is read joined with `, `, as Node's `req.headers`
 * and fetch's `Headers` give it, so each scheme treats a repeat the same whichever it is given.
 */
export function readHeader(source: HeaderSource, name: string): string | null {
  if (typeof (source as { get?: unknown }).get === 'function') {
    const value = (source as { get(name: string): string | null }).get(name);
    return value ? value : null;
  }
  const record = source as Readonly<Record<string, string | readonly string[] | undefined>>;
  const lower = name.toLowerCase();
  let value = record[lower] ?? record[name];
  if (value === undefined) {
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === lower) {
        value = record[key];
        break;
      }
    }
  }
  if (Array.isArray(value)) value = value.join(', ');
  return typeof value === 'string' && value !== '' ? value : null;
}
