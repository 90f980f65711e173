/**
 * What an event-type name may be, beyond the characters every name may hold (NAME_PATTERN): no `*`.
 * Endpoint filters match names exactly, without wildcards (docs/api.md "Endpoints"), so a `*` in
 * a filter is a wildcard someone meant, and a catalog entry or an enforced event type holding one
 * (`order.*`) could never be named by a filter. One rule for the three (pure).
 */

/** Why `name` is not an event-type name, for a message after `"<name>" is not an event-type name: `; null when it is one. */
export function eventTypeNameProblem(name: string): string | null {
  return name.includes('*') ? 'names hold no "*" (filters match them exactly, without wildcards)' : null;
}
