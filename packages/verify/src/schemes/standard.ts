/**
 * `standard` — Standard Webhooks (and Svix): `webhook-id`, `webhook-timestamp`, and
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "id.ts.body")>`, one space-separated entry per
 * valid secret during a rotation. The key is the base64-decoded `whsec_` secret.
 */

import { constantTimeEqual } from '../encoding.ts';
import { WebhookSigningError, WebhookVerificationError } from '../errors.ts';
import { standardSecretKey } from '../secret-key.ts';
import { badSignature, checkTimestamp, requireHeader, type Scheme } from './scheme.ts';

/**
 * Decoded keys of the secrets this process signs with, so a sender decodes each secret once rather
 * than on every request: those signed with in the last SIGNING_KEYS_TICK_MS, or the one before
 * (each tick the current ones become the previous ones, and the previous ones are dropped). A
 * secret not signed with for two ticks is no longer held, its text (the key of the map) included:
 * a sender's deleted endpoints' and retired secrets do not stay in its memory. Kept for the
 * process's life, until 4,096 others pushed them out, a dispatcher held every secret it had ever
 * signed with, whatever Herald's own caches of endpoints forgot (docs/security.md). Bounded in
 * number too: past SIGNING_KEYS_MAX the current ones start over. The tick's timer runs only while
 * keys are held and never keeps a process alive; where timers cannot be unref'd (not Node or
 * Bun), no key is kept and each is decoded when it signs.
 */
let signingKeys = new Map<string, Uint8Array | null>();
let previousKeys = new Map<string, Uint8Array | null>();
const SIGNING_KEYS_MAX = 4_096;
const SIGNING_KEYS_TICK_MS = 5_000;
let ticker: ReturnType<typeof setInterval> | null = null;
/** False where the tick's timer would keep the process alive: nothing is kept there. */
let keeping = true;
function tick(): void {
  previousKeys = signingKeys;
  signingKeys = new Map();
  if (previousKeys.size === 0 && ticker !== null) {
    clearInterval(ticker);
    ticker = null;
  }
}
function signingKey(secret: string): Uint8Array | null {
  let key = signingKeys.get(secret);
  if (key === undefined) {
    key = previousKeys.get(secret);
    if (key === undefined) key = standardSecretKey(secret);
    if (!keeping) return key;
    if (ticker === null) {
      const timer: unknown = setInterval(tick, SIGNING_KEYS_TICK_MS);
      const unref = (timer as { unref?: unknown } | null)?.unref;
      if (typeof unref !== 'function') {
        clearInterval(timer as ReturnType<typeof setInterval>);
        keeping = false;
        return key;
      }
      unref.call(timer);
      ticker = timer as ReturnType<typeof setInterval>;
    }
    if (signingKeys.size >= SIGNING_KEYS_MAX) signingKeys.clear();
    signingKeys.set(secret, key);
  }
  return key;
}

export const standardScheme: Scheme = {
  name: 'standard',
  bodyFormat: 'json',
  needsSecret: true,
  sign({ id, timestamp, body, secrets, hash }) {
    const ts = String(timestamp);
    const entries: string[] = [];
    for (const secret of secrets) {
      const key = signingKey(secret);
      if (key === null) {
        throw new WebhookSigningError(
          'HERALD_SIGN_INVALID_SECRET',
          'A standard secret must be whsec_<base64>',
        );
      }
      // One string, one update: cheaper than five small ones for a body of a few KB.
      entries.push(`v1,${hash.hmac('sha256', key, [`${id}.${ts}.${body}`], 'base64')}`);
    }
    return {
      headers: [
        ['webhook-timestamp', ts],
        ['webhook-signature', entries.join(' ')],
      ],
    };
  },
  verify(context) {
    const id = requireHeader(context.headers, 'webhook-id');
    const ts = requireHeader(context.headers, 'webhook-timestamp');
    const header = requireHeader(context.headers, 'webhook-signature');
    const timestamp = checkTimestamp(ts, context, 'webhook-timestamp');
    const received: string[] = [];
    for (const spaced of header.split(' ')) {
      // A header sent twice reaches a Node or fetch receiver joined with ", " ("v1,a, v1,b"): each
      // copy's entries are entries too, the one before the joint with its trailing comma.
      const entry = spaced.endsWith(',') ? spaced.slice(0, -1) : spaced;
      const comma = entry.indexOf(',');
      // Other versions (v1a: asymmetric) may sit beside v1; they are not ours to check.
      if (comma > 0 && entry.slice(0, comma) === 'v1') received.push(entry.slice(comma + 1));
    }
    if (received.length === 0) {
      throw new WebhookVerificationError('HERALD_VERIFY_MALFORMED', 'webhook-signature has no v1 entry');
    }
    for (const secret of context.secrets) {
      const key = standardSecretKey(secret);
      if (key === null) {
        throw new WebhookVerificationError(
          'HERALD_VERIFY_CONFIG',
          'A standard secret must be whsec_<base64>',
        );
      }
      const expected = context.hash.hmac('sha256', key, [id, '.', ts, '.', context.body], 'base64');
      for (const signature of received)
        if (constantTimeEqual(signature, expected)) return { timestamp, content: context.text };
    }
    throw badSignature();
  },
};
