/**
 * `none` — no signature (GamerSafer). Nothing proves who sent the request: put a long random token
 * in the URL path and check it, and de-duplicate on `webhook-id`.
 */
import type { Scheme } from './scheme.ts';

export const noneScheme: Scheme = {
  name: 'none',
  bodyFormat: 'json',
  needsSecret: false,
  sign() {
    return { headers: [] };
  },
  verify(context) {
    return { timestamp: null, content: context.text };
  },
};
