/**
 * `hmac-sha1-url` — PushPushGo: form-encoded body and
 * `<signatureHeader, default X-Signature>: <base64 HMAC-SHA1(key, signing string)>`, where the
 * signing string is the canonical URL (query string included) followed by every form field, sorted
 * by name, as name+value (see `sha1UrlSigningString`). The key is the `key` option (PushPushGo:
 * the project id) or else the secret. Carries one signature: the newest secret.
 */

import { constantTimeEqual } from '../encoding.ts';
import { WebhookVerificationError } from '../errors.ts';
import { parseForm, sha1UrlSigningString } from '../form.ts';
import { badSignature, requireHeader, type Scheme } from './scheme.ts';

export const HMAC_SHA1_URL_DEFAULT_SIGNATURE_HEADER = 'x-signature';

export const hmacSha1UrlScheme: Scheme = {
  name: 'hmac-sha1-url',
  bodyFormat: 'form',
  needsSecret: true,
  sign({ url, fields, secrets, options, hash }) {
    const text = sha1UrlSigningString(url, fields ?? []);
    const signature = hash.hmac('sha1', options.key ?? secrets[0] ?? '', [text], 'base64');
    return {
      headers: [
        [(options.signatureHeader ?? HMAC_SHA1_URL_DEFAULT_SIGNATURE_HEADER).toLowerCase(), signature],
      ],
    };
  },
  verify(context) {
    const { options } = context;
    const received = requireHeader(
      context.headers,
      options.signatureHeader ?? HMAC_SHA1_URL_DEFAULT_SIGNATURE_HEADER,
    );
    if (context.url === null) {
      throw new WebhookVerificationError(
        'HERALD_VERIFY_CONFIG',
        'hmac-sha1-url needs the request URL (url option)',
      );
    }
    let text: string;
    try {
      text = sha1UrlSigningString(context.url, context.text === '' ? [] : parseForm(context.text));
    } catch (error) {
      throw new WebhookVerificationError('HERALD_VERIFY_CONFIG', 'url is not an absolute URL', {
        cause: error,
      });
    }
    const keys = options.key !== undefined ? [options.key] : context.secrets;
    for (const key of keys) {
      if (constantTimeEqual(received, context.hash.hmac('sha1', key, [text], 'base64'))) {
        return { timestamp: null, content: context.text };
      }
    }
    throw badSignature();
  },
};
