/**
 * `stripe` — `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "ts.body")>`, one `v1=` per
 * valid secret during a rotation (Stripe's own libraries accept any matching `v1`).
 */

import { constantTimeEqual } from '../encoding.ts';
import { WebhookVerificationError } from '../errors.ts';
import { badSignature, checkTimestamp, requireHeader, type Scheme } from './scheme.ts';

export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';

export const stripeScheme: Scheme = {
  name: 'stripe',
  bodyFormat: 'json',
  needsSecret: true,
  sign({ timestamp, body, secrets, options, hash }) {
    const ts = String(timestamp);
    let value = `t=${ts}`;
    for (const secret of secrets) value += `,v1=${hash.hmac('sha256', secret, [ts, '.', body], 'hex')}`;
    return { headers: [[(options.signatureHeader ?? STRIPE_SIGNATURE_HEADER).toLowerCase(), value]] };
  },
  verify(context) {
    const header = requireHeader(context.headers, context.options.signatureHeader ?? STRIPE_SIGNATURE_HEADER);
    // The header read, as configured: a message naming Stripe-Signature sent a receiver of another
    // header to look at one it never reads.
    const name = context.options.signatureHeader ?? 'Stripe-Signature';
    let ts: string | null = null;
    const received: string[] = [];
    for (const item of header.split(',')) {
      const equals = item.indexOf('=');
      const name = item.slice(0, equals).trim();
      if (name === 't') ts = item.slice(equals + 1).trim();
      else if (name === 'v1')
        received.push(
          item
            .slice(equals + 1)
            .trim()
            .toLowerCase(),
        );
    }
    if (ts === null || received.length === 0) {
      throw new WebhookVerificationError('HERALD_VERIFY_MALFORMED', `${name} needs t= and v1=`);
    }
    const timestamp = checkTimestamp(ts, context, `${name} t=`);
    for (const secret of context.secrets) {
      const expected = context.hash.hmac('sha256', secret, [ts, '.', context.body], 'hex');
      for (const signature of received)
        if (constantTimeEqual(signature, expected)) return { timestamp, content: context.text };
    }
    throw badSignature();
  },
};
