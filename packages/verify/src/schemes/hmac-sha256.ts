/**
 * `hmac-sha256` — `<signatureHeader>: <hex|base64 HMAC-SHA256(secret, "ts.body")>` and
 * `<timestampHeader>: ts` (defaults X-Webhook-Signature / X-Webhook-Timestamp). WePlaytestGames
 * receivers use X-WPG-Signature / X-WPG-Timestamp with hex. Carries one signature: the newest secret.
 */
import { constantTimeEqual } from '../encoding.ts';
import { badSignature, checkTimestamp, requireHeader, type Scheme } from './scheme.ts';

export const HMAC_SHA256_DEFAULT_SIGNATURE_HEADER = 'x-webhook-signature';
export const HMAC_SHA256_DEFAULT_TIMESTAMP_HEADER = 'x-webhook-timestamp';

export const hmacSha256Scheme: Scheme = {
  name: 'hmac-sha256',
  bodyFormat: 'json',
  needsSecret: true,
  sign({ timestamp, body, secrets, options, hash }) {
    const ts = String(timestamp);
    const signature = hash.hmac('sha256', secrets[0] ?? '', [ts, '.', body], options.encoding ?? 'hex');
    return {
      headers: [
        [(options.signatureHeader ?? HMAC_SHA256_DEFAULT_SIGNATURE_HEADER).toLowerCase(), signature],
        [(options.timestampHeader ?? HMAC_SHA256_DEFAULT_TIMESTAMP_HEADER).toLowerCase(), ts],
      ],
    };
  },
  verify(context) {
    const { options } = context;
    const header = requireHeader(
      context.headers,
      options.signatureHeader ?? HMAC_SHA256_DEFAULT_SIGNATURE_HEADER,
    );
    const ts = requireHeader(
      context.headers,
      options.timestampHeader ?? HMAC_SHA256_DEFAULT_TIMESTAMP_HEADER,
    );
    const timestamp = checkTimestamp(ts, context, options.timestampHeader ?? 'X-Webhook-Timestamp');
    const encoding = options.encoding ?? 'hex';
    const received = encoding === 'hex' ? header.toLowerCase() : header;
    for (const secret of context.secrets) {
      const expected = context.hash.hmac('sha256', secret, [ts, '.', context.body], encoding);
      if (constantTimeEqual(received, expected)) return { timestamp, content: context.text };
    }
    throw badSignature();
  },
};
