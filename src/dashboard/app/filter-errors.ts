/**
 * Errors of a filtered listing (Events, History) that belong to one of its filters: shown by that
 * filter's input instead of in a banner, since only changing the filter helps.
 */
import { ApiError } from './api/api-error.ts';
import { capitalize, errorField, fieldMessage } from './api/error-messages.ts';

export interface FilterErrors {
  since?: string;
  until?: string;
  type?: string;
  key?: string;
}

/** The filter an error of a listing is about, with what to say there; null when it is about none. */
export function filterErrors(error: unknown): FilterErrors | null {
  const field = errorField(error);
  if (field === 'querystring.since' && error instanceof ApiError && error.status === 422) {
    // docs/api.md: a listing whose since is after its until is 422 naming querystring.since.
    return { since: 'Must not be later than To.' };
  }
  const message = capitalize(fieldMessage(error));
  if (field === 'querystring.since') return { since: message };
  if (field === 'querystring.until') return { until: message };
  if (field === 'querystring.type' || field === 'querystring.eventType') return { type: message };
  if (field === 'querystring.idempotencyKey') return { key: message };
  return null;
}
