/**
 * `sha256-body` — GamePush: the body becomes `<base64(json)>.<hex SHA-256("<base64(json)>_<secret>")>`,
 * sent as text/plain. The JSON is written in ASCII (`\uXXXX` escapes), so the page's
 * `JSON.parse(atob(base64payload))` reads every character as sent. A plain hash with the secret
 * appended (not an HMAC), and no timestamp: that is GamePush's format, kept byte for byte so its
 * receivers work unchanged.
 * Carries one signature: the newest secret.
 */

import { asciiJsonBytes, base64ToBytes, bytesToBase64, bytesToText, constantTimeEqual } from '../encoding.ts';
import { WebhookVerificationError } from '../errors.ts';
import { badSignature, type Scheme } from './scheme.ts';

export const sha256BodyScheme: Scheme = {
  name: 'sha256-body',
  bodyFormat: 'sha256-body',
  needsSecret: true,
  sign({ body, secrets, hash }) {
    const encoded = bytesToBase64(asciiJsonBytes(body));
    return { headers: [], body: `${encoded}.${hash.sha256([encoded, '_', secrets[0] ?? ''], 'hex')}` };
  },
  verify(context) {
    const text = context.text.trim();
    const dot = text.indexOf('.');
    if (dot <= 0) {
      throw new WebhookVerificationError('HERALD_VERIFY_MALFORMED', 'Body is not <base64>.<signature>');
    }
    const encoded = text.slice(0, dot);
    const received = text.slice(dot + 1).toLowerCase();
    let matched = false;
    for (const secret of context.secrets) {
      if (constantTimeEqual(received, context.hash.sha256([encoded, '_', secret], 'hex'))) matched = true;
    }
    if (!matched) throw badSignature();
    const bytes = base64ToBytes(encoded);
    if (bytes === null) throw new WebhookVerificationError('HERALD_VERIFY_MALFORMED', 'Body is not base64');
    return { timestamp: null, content: bytesToText(bytes) };
  },
};
