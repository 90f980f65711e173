/**
 * What a delivery of an example event looks like on the wire for an endpoint's settings (Example tab):
 * the exact envelope, method, query string and content type, and the signature headers of its scheme
 * with placeholders where the HMAC goes (the secret never needs to reach this code). Pure: runs in the
 * browser and in node tests. Mirrors DESIGN.md "Signature schemes" and "Envelopes and methods".
 */
import { contentTypeProblem } from '../../domain/custom-content-type.ts';
import type { Envelope, HttpMethod, Json, SignatureConfig, SignatureScheme } from './api/types.ts';

export interface PreviewInput {
  url: string;
  method: HttpMethod;
  envelope: Envelope;
  signature: SignatureConfig;
  headers: Record<string, string>;
  eventType: string;
  payload: Json;
  /** Shown in webhook-id and the envelope; an example id when none is given. */
  eventId?: string;
  /** Signing time, epoch ms. */
  now: number;
}

export interface PreviewRequest {
  method: HttpMethod;
  url: string;
  headers: [string, string][];
  /** null for GET. */
  body: string | null;
  /** How the signature is computed, in words, and which verifiers accept it. */
  explanation: string;
}

/** The envelope object (or raw payload) the endpoint receives. */
export function buildEnvelope(
  envelope: Envelope,
  eventType: string,
  payload: Json,
  eventId: string,
  now: number,
): Json {
  const time = new Date(now).toISOString();
  if (envelope === 'raw') return payload;
  if (envelope === 'event-data') return { event: eventType, data: payload, id: eventId, time };
  return { type: eventType, timestamp: time, data: payload };
}

/** Top-level fields as name/value strings (objects JSON-encoded), for GET query strings and form bodies. */
export function topLevelParams(value: Json): [string, string][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [['data', typeof value === 'string' ? value : JSON.stringify(value)]];
  }
  return Object.entries(value).map(([name, field]) => [
    name,
    typeof field === 'string' ? field : JSON.stringify(field),
  ]);
}

/** Scheme defaults, as DESIGN.md lists them. */
export const SCHEME_DEFAULTS: Record<
  SignatureScheme,
  { signatureHeader?: string; timestampHeader?: string; encoding?: 'hex' | 'base64' }
> = {
  standard: {},
  'hmac-sha256': {
    signatureHeader: 'X-Webhook-Signature',
    timestampHeader: 'X-Webhook-Timestamp',
    encoding: 'hex',
  },
  stripe: {},
  github: {},
  'sha256-body': {},
  'hmac-sha1-url': { signatureHeader: 'X-Signature' },
  none: {},
};

/** What the user reads about each scheme in the form and the Example tab. */
export const SCHEME_INFO: Record<SignatureScheme, { label: string; help: string }> = {
  standard: {
    label: 'Standard Webhooks (recommended)',
    help: 'webhook-id, webhook-timestamp and webhook-signature headers; verify with the Standard Webhooks or Svix libraries.',
  },
  'hmac-sha256': {
    label: 'HMAC-SHA256 header',
    help: 'Hex (or base64) HMAC-SHA256 of "timestamp.body" in a header you name, plus a timestamp header (e.g. X-WPG-Signature / X-WPG-Timestamp).',
  },
  stripe: { label: 'Stripe-compatible', help: 'Stripe-Signature: t=…,v1=…; verify with any Stripe SDK.' },
  github: {
    label: 'GitHub-compatible',
    help: 'X-Hub-Signature-256: sha256=…; verify with GitHub webhook libraries.',
  },
  'sha256-body': {
    label: 'SHA-256 signed body (GamePush)',
    help: 'The body becomes base64(JSON) + "." + hex SHA-256 of "base64(JSON)_secret", sent as text/plain.',
  },
  'hmac-sha1-url': {
    label: 'HMAC-SHA1 of URL and form (PushPushGo)',
    help: 'Form-encoded body; base64 HMAC-SHA1 of the URL followed by the sorted form fields, in a header (default X-Signature).',
  },
  none: {
    label: 'No signature',
    help: 'Nothing proves the request came from us: put a long random token in the URL path and check it.',
  },
};

const USER_AGENT = 'Herald-Webhooks/0.1';

/** The request an endpoint would receive for the example event. */
export function previewRequest(input: PreviewInput): PreviewRequest {
  const eventId = input.eventId ?? 'evt_01hzexample0000000000000000';
  const ts = String(Math.floor(input.now / 1000));
  const scheme = input.signature.scheme;
  const defaults = SCHEME_DEFAULTS[scheme];
  const sigHeader = input.signature.signatureHeader || defaults.signatureHeader || '';
  const tsHeader = input.signature.timestampHeader || defaults.timestampHeader || '';
  const encoding = input.signature.encoding ?? defaults.encoding ?? 'hex';
  const envelope = buildEnvelope(input.envelope, input.eventType, input.payload, eventId, input.now);

  let url = input.url || 'https://example.com/webhooks';
  let body: string | null;
  let contentType: string | null;
  if (input.method === 'GET') {
    url = withQuery(url, topLevelParams(envelope));
    body = null;
    contentType = null;
  } else if (scheme === 'hmac-sha1-url') {
    body = new URLSearchParams(topLevelParams(envelope)).toString();
    contentType = 'application/x-www-form-urlencoded';
  } else if (scheme === 'sha256-body') {
    const encoded = base64(JSON.stringify(envelope));
    body = `${encoded}.<hex SHA-256("${shorten(encoded)}_<secret>")>`;
    contentType = 'text/plain';
  } else {
    body = JSON.stringify(envelope);
    contentType = 'application/json';
  }

  const headers: [string, string][] = [];
  if (contentType) headers.push(['content-type', contentType]);
  headers.push(['user-agent', USER_AGENT]);
  headers.push(['webhook-id', eventId]);
  const signed = 'body';
  let explanation: string;
  switch (scheme) {
    case 'standard':
      headers.push(['webhook-timestamp', ts]);
      headers.push(['webhook-signature', `v1,<base64 HMAC-SHA256(secret, "${eventId}.${ts}.${signed}")>`]);
      explanation =
        'HMAC-SHA256 with the decoded whsec_ secret over "id.timestamp.body", base64; during a rotation one v1, entry per valid secret.';
      break;
    case 'hmac-sha256':
      headers.push([sigHeader, `<${encoding} HMAC-SHA256(secret, "${ts}.${signed}")>`]);
      headers.push([tsHeader, ts]);
      explanation = `HMAC-SHA256 with the secret over "timestamp.body", ${encoding}-encoded.`;
      break;
    case 'stripe':
      headers.push(['stripe-signature', `t=${ts},v1=<hex HMAC-SHA256(secret, "${ts}.${signed}")>`]);
      explanation = 'HMAC-SHA256 with the secret over "timestamp.body", hex, in Stripe\'s header format.';
      break;
    case 'github':
      headers.push(['x-hub-signature-256', 'sha256=<hex HMAC-SHA256(secret, body)>']);
      explanation = "HMAC-SHA256 with the secret over the exact body, hex, in GitHub's header format.";
      break;
    case 'sha256-body':
      explanation =
        'No signature header: the body itself carries base64(JSON) and its SHA-256 with the secret.';
      break;
    case 'hmac-sha1-url':
      headers.push([
        sigHeader,
        `<base64 HMAC-SHA1(${input.signature.key ? 'static key' : 'secret'}, url + sorted form fields name+value)>`,
      ]);
      explanation = `HMAC-SHA1 with ${input.signature.key ? 'the configured static key' : 'the secret'} over the URL followed by each form field's name and value, sorted by name; base64.`;
      break;
    case 'none':
      explanation = SCHEME_INFO.none.help;
      break;
  }
  // Custom headers never replace signature or protocol headers (DESIGN "Envelopes and methods"),
  // but a Content-Type that describes the body is sent instead of Herald's (build-request.ts).
  const taken = new Set(headers.map(([name]) => name.toLowerCase()));
  for (const [name, value] of Object.entries(input.headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'content-type') {
      if (!taken.has(lower)) headers.push([name, value]);
    } else if (contentType && contentTypeProblem(value, input.method, scheme) === null) {
      headers[headers.findIndex(([n]) => n === 'content-type')] = ['content-type', value];
      contentType = null; // the first spelling wins, as on the wire
    }
  }
  return { method: input.method, url, headers, body, explanation };
}

function withQuery(url: string, params: [string, string][]): string {
  const query = new URLSearchParams(params).toString();
  if (!query) return url;
  return url + (url.includes('?') ? '&' : '?') + query;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function shorten(text: string): string {
  return text.length > 24 ? `${text.slice(0, 12)}…${text.slice(-8)}` : text;
}
