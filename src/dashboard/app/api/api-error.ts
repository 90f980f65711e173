/** The dashboard's API errors: what an error answer becomes, and whether trying again may help. */

/** An error answer of the API (`{"error": {code, message, details?, requestId?}}`), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** The server's id of the request, in a 5xx answer: its operator finds the log line with it. */
  readonly requestId: string | null;
  constructor(status: number, code: string, message: string, details?: unknown, requestId?: string | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId ?? null;
  }
}

/** The ApiError of an answer that is not 2xx (`parsed`: its body as JSON, else its text). */
export function toApiError(status: number, parsed: unknown, text: string): ApiError {
  const error = (
    parsed as { error?: { code?: unknown; message?: unknown; details?: unknown; requestId?: unknown } } | null
  )?.error;
  if (error && typeof error.message === 'string') {
    const requestId = typeof error.requestId === 'string' ? error.requestId : null;
    return new ApiError(status, String(error.code ?? 'ERROR'), error.message, error.details, requestId);
  }
  const fallback =
    status === 401 ? 'Not signed in, or the token is not valid.' : `Request failed (HTTP ${status}).`;
  return new ApiError(status, 'HTTP_' + status, text && text.length < 200 ? text : fallback);
}

/**
 * Whether sending the same request again may work: after a network failure, a timeout, a rate limit
 * or a server error. Not when the server refused the request itself (a 4xx: invalid input, not
 * found, not allowed): only changing it helps, so there is no "Try again" for those.
 */
export function canRetry(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  return error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500;
}
