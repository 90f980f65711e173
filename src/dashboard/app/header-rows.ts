/** Custom request headers as the form's name/value rows (components/headers-editor.tsx edits them). */
import { contentTypeRefusal } from '../../domain/custom-content-type.ts';
import { isHeaderName, isSendableHeaderValue } from '../../domain/header-syntax.ts';
import { isReservedHeader, RESERVED_HEADER_WORDS } from '../../domain/reserved-headers.ts';
import type { HttpMethod, SignatureConfig } from './api/types.ts';
import { LIMITS, lengthError } from './limits.ts';

export interface HeaderRow {
  name: string;
  value: string;
}

/** Why a set of rows cannot be saved: the message, and the row and input it is about. */
export interface HeaderRowsProblem {
  message: string;
  row: number;
  input: 'name' | 'value';
}

/**
 * The first reason the rows cannot be saved, or null. `signature`: the endpoint's signature settings
 * as the form holds them (its own signature and timestamp header names are reserved too); `method`:
 * its method, which with the scheme decides what a Content-Type may say (without it, the API does).
 */
export function headerRowsProblem(
  rows: HeaderRow[],
  signature: SignatureConfig,
  method?: HttpMethod,
): HeaderRowsProblem | null {
  const seen = new Set<string>();
  for (const [row, { name: raw, value }] of rows.entries()) {
    const name = raw.trim();
    if (name === '' && value === '') continue;
    const at = (input: 'name' | 'value', message: string) => ({ message, row, input });
    const longName = lengthError(name, LIMITS.headerName);
    if (longName) return at('name', `Header name: ${longName.charAt(0).toLowerCase()}${longName.slice(1)}`);
    const longValue = lengthError(value, LIMITS.headerValue);
    if (longValue) {
      return at('value', `The value of ${name}: ${longValue.charAt(0).toLowerCase()}${longValue.slice(1)}`);
    }
    // The API's rules (header-syntax.ts): a name is an HTTP token, a value what HTTP can carry.
    if (!isHeaderName(name)) return at('name', `“${name || '(empty)'}” is not a valid header name.`);
    // A Content-Type is taken when it describes the body of the method and scheme
    // (custom-content-type.ts), as sent: without the spaces around it. Every other header Herald
    // sets is refused. Both in the API's words (before 2026-12-06 a Content-Type was left to it).
    if (name.toLowerCase() === 'content-type') {
      const refusal =
        method && contentTypeRefusal(value.replace(/^[ \t]+|[ \t]+$/g, ''), method, signature.scheme);
      if (refusal) return at(method === 'GET' ? 'name' : 'value', `${name}: ${refusal}`);
    } else if (isReservedHeader(name, signature)) {
      return at('name', `${name}: ${RESERVED_HEADER_WORDS}`);
    }
    if (/[\r\n]/.test(value)) return at('value', `The value of ${name} must be on one line.`);
    if (!isSendableHeaderValue(value)) {
      return at(
        'value',
        `The value of ${name} holds ${unsendable(value)}, which HTTP cannot carry: tab, printable ASCII and U+0080–U+00FF only.`,
      );
    }
    if (seen.has(name.toLowerCase())) return at('name', `${name} appears twice.`);
    seen.add(name.toLowerCase());
  }
  return null;
}

/** The first character of `value` a header cannot carry, as `U+20AC “€”` (a control character bare). */
function unsendable(value: string): string {
  for (const character of value) {
    if (isSendableHeaderValue(character)) continue;
    const code = `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    return /\p{Cc}/u.test(character) ? `the control character ${code}` : `${code} “${character}”`;
  }
  return 'a character';
}

/** Why a set of rows cannot be saved, or null. */
export function headerRowsError(
  rows: HeaderRow[],
  signature: SignatureConfig,
  method?: HttpMethod,
): string | null {
  return headerRowsProblem(rows, signature, method)?.message ?? null;
}

/**
 * The rows as the API's `headers`. Spaces and tabs around a value are left out: HTTP leaves them out
 * (the receiver would read ` v ` as `v`), and the API refuses a value holding them.
 */
export function rowsToHeaders(rows: HeaderRow[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const row of rows)
    if (row.name.trim()) headers[row.name.trim()] = row.value.replace(/^[ \t]+|[ \t]+$/g, '');
  return headers;
}

export function headersToRows(headers: Record<string, string> | null | undefined): HeaderRow[] {
  return Object.entries(headers ?? {}).map(([name, value]) => ({ name, value }));
}
