/** How the screens word an ApiError (api-error.ts): one-line messages, and the field it is about. */
import { ApiError } from './api-error.ts';

/**
 * A readable one-line message for any thrown value. The API's messages about a field start with
 * it (`body.name: must NOT have…`); one that does not gets the field after it. A server error's
 * request id follows (`internal error (request 2zucpr0e-2)`): quoted to the operator, it finds
 * the log line.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const field = errorField(error);
    const message = field && !error.message.startsWith(field) ? `${error.message} (${field})` : error.message;
    return error.requestId === null ? message : `${message} (request ${error.requestId})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The request field an API error is about (`body.name`, `body.headers.X-A`, `querystring.since`), or null. */
export function errorField(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  const field = (error.details as { field?: unknown } | null | undefined)?.field;
  return typeof field === 'string' && field !== '' ? field : null;
}

/**
 * The message of an API error as its field shows it: without the field's name in front
 * (`body.name: must NOT have…` → `must NOT have…`), since the field's label already says which.
 */
export function fieldMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const field = errorField(error);
  return field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
}

/** "must NOT…" → "Must NOT…". */
export const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
