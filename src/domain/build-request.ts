/**
 * The exact HTTP request one delivery attempt sends: envelope, method, body shape and signature
 * (all from the `@herald/verify` signing core, the same code receivers verify with), plus the
 * endpoint's custom headers. Pure and synchronous; runs once per attempt.
 */
import { sign, standardSecretKey } from '@herald/verify';
import type { BuildRequestInput, BuiltRequest } from './build-request-types.ts';
import { contentTypeProblem } from './custom-content-type.ts';
import { buildEnvelope, envelopeJson } from './envelope.ts';
import { isHeaderName, isSendableHeaderValue } from './header-syntax.ts';
import { holdsChangedNumber, isRawJSON, keepChangedNumbers } from './json-text.ts';
import { isReservedHeader } from './reserved-headers.ts';
import type { Envelope, HeraldEvent, HttpMethod, Json, SignatureConfig } from './types.ts';

/** Identifies Herald to receivers (and their logs and firewalls). */
export const USER_AGENT = 'Herald-Webhooks/0.1';
/** Sent as `true` with the requests of test events; absent on live ones. Not signed. */
export const TEST_HEADER = 'webhook-test';

/** Builds the request for one attempt. Throws `WebhookSigningError` only for invalid settings. */
export function buildRequest(input: BuildRequestInput): BuiltRequest {
  const { event, endpoint } = input;
  const signature = endpoint.signature;
  const secrets = signingSecrets(signature.scheme, input.secrets);
  const common = {
    scheme: signature.scheme,
    options: signature,
    secrets,
    id: event.id,
    timestamp: Math.floor(input.now / 1000),
    method: endpoint.method,
    url: input.url,
  };
  const payloadJson = input.payloadJson;
  // With the stored text, a JSON body is built from it and the envelope object only when the signer
  // reads it (GET queries, form bodies): a claimed payload is not parsed to be sent as JSON.
  const envelopeText = payloadJson === undefined ? null : envelopeJson(endpoint.envelope, event, payloadJson);
  const signed = sign(
    envelopeText === null
      ? { ...common, content: buildEnvelope(endpoint.envelope, event) }
      : {
          ...common,
          body: envelopeText,
          get content() {
            return fieldContent(endpoint.envelope, event, payloadJson!);
          },
        },
  );
  const headers = signed.headers;
  headers['user-agent'] = USER_AGENT;
  // A test event (test: true, and every test send) says so on the wire, whatever the scheme and
  // envelope, so a receiver can tell it from a live one (a custom header cannot set webhook-*).
  if (event.test) headers[TEST_HEADER] = 'true';
  addCustomHeaders(headers, endpoint.headers, endpoint.method, signature);
  const built: BuiltRequest = { method: signed.method, url: signed.url, headers, body: signed.body };
  // The body sent is the envelope text itself (not a form, a GET query or a scheme's own body).
  if (envelopeText !== null && signed.body === envelopeText) built.bodyEnvelope = endpoint.envelope;
  return built;
}

/**
 * The secrets to sign with: the current one (first) always, so a current secret the scheme cannot
 * use is a signing error on record rather than an unsigned request; then each older secret still
 * valid, once, when the scheme can sign with it.
 *
 * A retired secret the scheme cannot use is skipped rather than refused when the scheme is changed
 * (PATCH `signature`) during a rotation's grace period: a `github` endpoint's plain secret is no
 * `standard` key, so no Standard Webhooks receiver could check a signature made with it and leaving
 * it out loses nothing; refusing the switch instead would hold it up for up to 7 days of grace (or
 * force a rotation with grace 0), and endpoints already stored in that state would keep failing
 * every attempt until the old secret expired. The current secret is checked against the scheme
 * when set and when the scheme changes (422), so it is always usable. A secret rotated back in is
 * valid twice (current and retired): it is signed once.
 */
function signingSecrets(scheme: SignatureConfig['scheme'], valid: BuildRequestInput['secrets']): string[] {
  // One secret (no rotation under way): nothing to compare, and no key decoded and encoded again.
  if (valid.length === 1) return [valid[0]!.secret];
  const secrets: string[] = [];
  const seen = new Set<string>();
  for (const { secret } of valid) {
    // The same key twice signs once: a standard key with or without its `whsec_` prefix is one key.
    const key = scheme === 'standard' ? standardKeyText(secret) : secret;
    if (secrets.length > 0) {
      if (key === null) continue; // a standard endpoint cannot sign with it
      if (seen.has(key)) continue;
    }
    seen.add(key ?? secret);
    secrets.push(secret);
  }
  return secrets;
}

/** A standard secret's key bytes as base64, null when it is no standard key. */
export function standardKeyText(secret: string): string | null {
  const key = standardSecretKey(secret);
  return key === null ? null : Buffer.from(key).toString('base64');
}

/**
 * The envelope a GET query or a form body carries: around `event.payload`, unless the stored text
 * holds a number JSON.parse would change; then around the text decoded keeping those numbers'
 * digits (a field holds its JSON text: `9007199254740993`, not `9007199254740992`). A `raw` payload
 * that is such a number alone is the text of the `data` field.
 */
function fieldContent(envelope: Envelope, event: HeraldEvent, payloadJson: string): unknown {
  if (!holdsChangedNumber(payloadJson)) return buildEnvelope(envelope, event);
  const payload = JSON.parse(payloadJson, keepChangedNumbers as (key: string, value: unknown) => unknown);
  if (envelope === 'raw' && isRawJSON(payload)) return payload.rawJSON;
  return buildEnvelope(envelope, {
    id: event.id,
    type: event.type,
    createdAt: event.createdAt,
    payload: payload as Json,
  });
}

function addCustomHeaders(
  headers: Record<string, string>,
  custom: Record<string, string>,
  method: HttpMethod,
  signature: SignatureConfig,
): void {
  const taken = new Set<string>();
  for (const name of Object.keys(custom)) {
    const value = custom[name];
    const lower = name.toLowerCase();
    // First spelling wins when two differ only in case; invalid names or values would make the
    // HTTP client throw on every attempt, so they are skipped (the API refuses them up front, but
    // endpoints stored before it did may still hold them).
    if (typeof value !== 'string' || taken.has(lower) || !isHeaderName(name) || !isSendableHeaderValue(value))
      continue;
    // A Content-Type that describes the body is sent instead of Herald's (it is not signed: every
    // scheme signs the body bytes). One that does not (an endpoint stored before the API checked
    // it) is dropped like any header Herald sets.
    if (lower === 'content-type') {
      if (Object.hasOwn(headers, lower) && contentTypeProblem(value, method, signature.scheme) === null) {
        taken.add(lower);
        headers[lower] = value;
      }
      continue;
    }
    // Own keys only: a header called `Constructor` or `toString` is not one Herald set.
    if (isReservedHeader(name, signature) || Object.hasOwn(headers, lower)) continue;
    taken.add(lower);
    headers[name] = value;
  }
}
