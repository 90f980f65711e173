/**
 * Signing: the one implementation the Herald server uses on every attempt, exported so receivers
 * can craft genuine test requests for their own handlers. Pure and synchronous.
 */
import { WebhookSigningError } from './errors.ts';
import { appendQuery, canonicalUrl, type Fields, formEncode, topLevelFields } from './form.ts';
import { nodeHash } from './node-hash.ts';
import { isRequestHeader } from './request-headers.ts';
import {
  HMAC_SHA256_DEFAULT_SIGNATURE_HEADER,
  HMAC_SHA256_DEFAULT_TIMESTAMP_HEADER,
} from './schemes/hmac-sha256.ts';
import { schemeByName } from './schemes/index.ts';
import type { BodyFormat } from './schemes/scheme.ts';
import type { HashProvider, HttpMethod, SchemeOptions, SignatureScheme } from './types.ts';

export interface SignInput {
  scheme: SignatureScheme;
  options?: SchemeOptions | undefined;
  /** Valid secrets, newest first. Schemes with one signature use the first. */
  secrets?: readonly string[] | undefined;
  /** Shorthand for `secrets: [secret]`. */
  secret?: string | undefined;
  /** Event id, sent as `webhook-id` on every scheme. */
  id: string;
  /** Signing time, Unix seconds. */
  timestamp: number;
  /** POST (default), PUT, PATCH or GET. A GET carries the content's top-level fields in the query. */
  method?: HttpMethod | undefined;
  /** Target URL. GET appends to its query string; `hmac-sha1-url` signs it. */
  url: string;
  /** The content to send (the envelope), serialised once here. */
  content?: unknown;
  /** Or: the exact JSON text to send (JSON-bodied schemes and `sha256-body`, not GET). */
  body?: string | undefined;
  hash?: HashProvider | undefined;
}

/** The request to send. Header names are lower case; `body` is null for GET. */
export interface SignedRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

const CONTENT_TYPE: Record<BodyFormat, string> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  'sha256-body': 'text/plain',
};

/** Shapes, signs and returns the request for one scheme. Throws {@link WebhookSigningError}. */
export function sign(input: SignInput): SignedRequest {
  const scheme = schemeByName(input.scheme);
  if (!scheme) throw new WebhookSigningError('HERALD_SIGN_INVALID_INPUT', `Unknown scheme ${input.scheme}`);
  checkTimestamp(input.timestamp);
  const method = input.method ?? 'POST';
  const options = input.options ?? {};
  const secrets = input.secrets ?? (input.secret !== undefined ? [input.secret] : []);
  // An empty key would sign with '' (verify() refuses it: anyone can sign with it).
  if (
    scheme.name === 'hmac-sha1-url' &&
    options.key !== undefined &&
    (typeof options.key !== 'string' || options.key === '')
  ) {
    throw new WebhookSigningError(
      'HERALD_SIGN_INVALID_INPUT',
      'options.key must be a non-empty string, or left out to sign with the secret',
    );
  }
  if (scheme.needsSecret && secrets.length === 0 && !(scheme.name === 'hmac-sha1-url' && options.key)) {
    throw new WebhookSigningError('HERALD_SIGN_NO_SECRET', `Scheme ${scheme.name} needs a secret`);
  }

  let url = input.url;
  let body: string;
  let fields: Fields | null = null;
  let contentType: string | null = null;
  if (method === 'GET') {
    if (scheme.bodyFormat === 'sha256-body') {
      throw new WebhookSigningError('HERALD_SIGN_UNSUPPORTED', 'sha256-body signs the body; GET has none');
    }
    url = appendQuery(url, topLevelFields(contentOf(input)));
    body = '';
  } else if (scheme.bodyFormat === 'form') {
    fields = topLevelFields(contentOf(input));
    body = formEncode(fields);
    contentType = CONTENT_TYPE.form;
  } else {
    body = input.body ?? JSON.stringify(input.content ?? null);
    contentType = CONTENT_TYPE[scheme.bodyFormat];
  }
  // What the receiver rebuilds is the canonical URL; send exactly what was signed.
  if (scheme.name === 'hmac-sha1-url' && method !== 'GET') url = canonicalUrl(url);

  const signed = scheme.sign({
    id: input.id,
    timestamp: input.timestamp,
    body,
    fields,
    url,
    secrets,
    options,
    hash: input.hash ?? nodeHash,
  });

  const headers: Record<string, string> = {};
  if (contentType !== null) headers['content-type'] = contentType;
  headers['webhook-id'] = input.id;
  for (const [name, value] of signed.headers) headers[name] = value;
  return { method, url, headers, body: method === 'GET' ? null : (signed.body ?? body) };
}

/** 11 digits (the year 5138): a time in milliseconds, today 13 digits, is well above it. */
const MAX_SECONDS = 99_999_999_999;

/** A signing time must be whole Unix seconds: the header says it, and verify() reads it so. */
function checkTimestamp(timestamp: unknown): void {
  if (typeof timestamp === 'number' && Number.isInteger(timestamp) && timestamp >= 0) {
    if (timestamp <= MAX_SECONDS) return;
    throw new WebhookSigningError(
      'HERALD_SIGN_INVALID_INPUT',
      `timestamp ${timestamp} is not Unix seconds: it looks like milliseconds (Math.floor(ms / 1000))`,
    );
  }
  throw new WebhookSigningError(
    'HERALD_SIGN_INVALID_INPUT',
    `timestamp must be Unix seconds, a whole number from 0; got ${String(timestamp)}`,
  );
}

function contentOf(input: SignInput): unknown {
  if (input.content !== undefined) return input.content;
  if (input.body !== undefined) {
    throw new WebhookSigningError(
      'HERALD_SIGN_INVALID_INPUT',
      'GET and form bodies need content, not body text',
    );
  }
  return null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Why `name` cannot be a signature or timestamp header, or null when it can: it must be an HTTP
 * token and no header the request or its connection owns (`Connection`, `Transfer-Encoding`, …).
 */
export function signatureHeaderProblem(name: string): string | null {
  if (!TOKEN.test(name)) return `"${name}" is not a valid header name`;
  if (isRequestHeader(name))
    return `"${name}" is a header the request or its connection sets; it cannot carry a signature`;
  return null;
}

/** Why a signature configuration cannot be used, and the option it is about (null: the whole). */
export interface SignatureConfigIssue {
  option: keyof SchemeOptions | null;
  message: string;
}

/**
 * Why a signature configuration cannot work with `method`, or null when it can. For validating
 * endpoint settings before they are stored, so signing never fails on the delivery path.
 */
export function signatureConfigProblem(
  config: { scheme: string } & SchemeOptions,
  method: HttpMethod = 'POST',
): string | null {
  return signatureConfigIssue(config, method)?.message ?? null;
}

/**
 * {@link signatureConfigProblem} with the option the problem is about (`encoding` given to a scheme
 * without one, …), so an API can name that field rather than the whole configuration.
 */
export function signatureConfigIssue(
  config: { scheme: string } & SchemeOptions,
  method: HttpMethod = 'POST',
): SignatureConfigIssue | null {
  const issue = (option: keyof SchemeOptions | null, message: string) => ({ option, message });
  const scheme = schemeByName(config.scheme);
  if (!scheme) return issue(null, `unknown signature scheme "${config.scheme}"`);
  if (method === 'GET' && scheme.bodyFormat === 'sha256-body') {
    return issue(null, 'sha256-body carries the signature in the body; it cannot be used with GET');
  }
  if (config.encoding !== undefined && config.encoding !== 'hex' && config.encoding !== 'base64') {
    return issue('encoding', 'encoding must be "hex" or "base64"');
  }
  if (config.encoding !== undefined && scheme.name !== 'hmac-sha256') {
    return issue('encoding', 'encoding applies to the hmac-sha256 scheme only');
  }
  if (config.key !== undefined && (scheme.name !== 'hmac-sha1-url' || config.key === '')) {
    return issue('key', 'key applies to the hmac-sha1-url scheme only and must not be empty');
  }
  if (config.timestampHeader !== undefined && scheme.name !== 'hmac-sha256') {
    return issue('timestampHeader', 'timestampHeader applies to the hmac-sha256 scheme only');
  }
  if (
    config.signatureHeader !== undefined &&
    (scheme.name === 'standard' || scheme.name === 'none' || scheme.name === 'sha256-body')
  ) {
    return issue('signatureHeader', `the ${scheme.name} scheme has no configurable signature header`);
  }
  for (const option of ['signatureHeader', 'timestampHeader'] as const) {
    const name = config[option];
    const problem = name === undefined ? null : signatureHeaderProblem(name);
    if (problem) return issue(option, problem);
  }
  // Compared as the scheme sends them: an option left out is its default, so a signatureHeader of
  // X-Webhook-Timestamp alone names the timestamp's header too, and one of the two values is lost.
  if (scheme.name === 'hmac-sha256') {
    const signatureHeader = (config.signatureHeader ?? HMAC_SHA256_DEFAULT_SIGNATURE_HEADER).toLowerCase();
    const timestampHeader = (config.timestampHeader ?? HMAC_SHA256_DEFAULT_TIMESTAMP_HEADER).toLowerCase();
    if (signatureHeader === timestampHeader) {
      return issue(
        null,
        `signatureHeader and timestampHeader must differ: both are ${signatureHeader} (one left out is its default, ${HMAC_SHA256_DEFAULT_SIGNATURE_HEADER} or ${HMAC_SHA256_DEFAULT_TIMESTAMP_HEADER})`,
      );
    }
  }
  return null;
}
