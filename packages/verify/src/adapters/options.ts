import type { VerifyInput } from '../verify.ts';

/** Verification settings an adapter takes: everything but what it reads from the request. */
export type AdapterVerifyOptions = Omit<VerifyInput, 'payload' | 'headers' | 'url'>;

/** Default largest body an adapter reads (Herald's own event limit). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The JSON an adapter answers a refused webhook with. */
export function errorBody(error: { code: string; message: string }): {
  error: { code: string; message: string };
} {
  return { error: { code: error.code, message: error.message } };
}
