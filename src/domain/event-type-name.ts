/**
 * What an event-type name may be, beyond the characters every name may hold (NAME_PATTERN): no `*`,
 * and not `.` or `..`. Endpoint filters match names exactly, without wildcards (docs/api.md
 * "Endpoints"), so a `*` in a filter is a wildcard someone meant, and a catalog entry or an enforced
 * event type holding one (`order.*`) could never be named by a filter. A catalog entry is named in
 * a URL path (`/api/v1/event-types/:name`), where a WHATWG URL resolves a segment `.` or `..` (`%2E%2E`
 * too) as a path step, so a client that parses one (a browser and the dashboard, fetch, curl) could
 * not read or write it; three dots and more are no path step. One rule for the three (pure).
 */

/** True for `.` and `..`: path steps to a URL, so a browser or fetch never sends them as a segment. */
export function isDotSegment(name: string): boolean {
  return name === '.' || name === '..';
}

/** Why `name` is not an event-type name, for a message after `"<name>" is not an event-type name: `; null when it is one. */
export function eventTypeNameProblem(name: string): string | null {
  if (name.includes('*')) return 'names hold no "*" (filters match them exactly, without wildcards)';
  if (isDotSegment(name)) {
    return 'a URL resolves "." and ".." as path steps, so browsers, fetch and curl could not name it in /api/v1/event-types/:name';
  }
  return null;
}
