/** An answer of Herald's API other than 2xx: its status and the `{error: {code, message, details}}` body. */
export class HeraldApiError extends Error {
  readonly status: number;
  /** Herald's error code, e.g. `HERALD_ERR_VALIDATION`, `HERALD_ERR_NOT_FOUND` (`http_<status>` when the body had none). */
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(`${status} ${code}: ${message}`);
    this.name = 'HeraldApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Builds the error for a non-2xx answer from its status and body text (JSON or not). */
export function apiError(status: number, text: string): HeraldApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = body?.error;
    if (e && typeof e.message === 'string') {
      return new HeraldApiError(
        status,
        typeof e.code === 'string' ? e.code : `http_${status}`,
        e.message,
        e.details,
      );
    }
  } catch {
    // not JSON: fall through
  }
  return new HeraldApiError(status, `http_${status}`, text.slice(0, 200) || 'no body');
}
