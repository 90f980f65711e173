/**
 * The API's limits on what the dashboard's inputs send (docs/api.md "Limits", src/api/schemas/common.ts).
 * They are not set as maxlength: a browser cuts pasted text at maxlength without a word. An input
 * takes the whole text instead and says, next to it, how much too long it is; the form is not sent
 * until it fits.
 */
export const LIMITS = {
  /** Names (endpoints, projects, API keys), event types, project uids. */
  name: 200,
  description: 2000,
  url: 2048,
  /** Custom header names, and the signature and timestamp header names. */
  headerName: 100,
  headerValue: 4096,
  secret: 1024,
  signatureKey: 512,
} as const;

/** Characters as the API counts them (code points, not UTF-16 units). */
const length = (text: string): number => [...text].length;

/** Why `value` is too long for `limit` ("…; this has 230."), or null when it fits. */
export function lengthError(value: string, limit: number | undefined): string | null {
  if (limit === undefined || value.length <= limit) return null;
  const count = length(value);
  return count > limit ? `Must be at most ${limit} characters long; this has ${count}.` : null;
}

/**
 * Focuses the first control in `form` whose text is over its limit (marked data-over-limit by the
 * fields) and says whether there was one: a form does not send until none is.
 */
export function focusOverLimit(form: EventTarget | null): boolean {
  const control = (form as Element | null)?.querySelector<HTMLElement>('[data-over-limit]') ?? null;
  control?.focus();
  return control !== null;
}
