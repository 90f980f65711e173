/**
 * `github` — `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`. No timestamp: GitHub's
 * format has none, and `webhook-id` is not signed, so a replay (with any id) verifies at any time
 * (docs/signatures.md, "Replays").
 * Carries one signature: the newest secret.
 */

import { constantTimeEqual } from '../encoding.ts';
import { WebhookVerificationError } from '../errors.ts';
import { badSignature, requireHeader, type Scheme } from './scheme.ts';

export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';
const PREFIX = 'sha256=';

export const githubScheme: Scheme = {
  name: 'github',
  bodyFormat: 'json',
  needsSecret: true,
  sign({ body, secrets, options, hash }) {
    const signature = hash.hmac('sha256', secrets[0] ?? '', [body], 'hex');
    return {
      headers: [[(options.signatureHeader ?? GITHUB_SIGNATURE_HEADER).toLowerCase(), PREFIX + signature]],
    };
  },
  verify(context) {
    const header = requireHeader(context.headers, context.options.signatureHeader ?? GITHUB_SIGNATURE_HEADER);
    if (!header.startsWith(PREFIX)) {
      const name = context.options.signatureHeader ?? 'X-Hub-Signature-256';
      throw new WebhookVerificationError('HERALD_VERIFY_MALFORMED', `${name} must start with sha256=`);
    }
    const received = header.slice(PREFIX.length).toLowerCase();
    for (const secret of context.secrets) {
      if (constantTimeEqual(received, context.hash.hmac('sha256', secret, [context.body], 'hex'))) {
        return { timestamp: null, content: context.text };
      }
    }
    throw badSignature();
  },
};
