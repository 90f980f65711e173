/**
 * What HTTP lets a custom header be: its name a token, its value bytes undici sends. Pure: the API
 * refuses what breaks these rules (endpoint-input.ts), build-request.ts skips what an endpoint stored
 * before did, and the dashboard's header editor refuses the same before saving (header-rows.ts).
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * What an HTTP header value may hold, as undici checks it (`isValidHeaderValue`): tab, visible
 * ASCII and space, and U+0080–U+00FF (sent as one Latin-1 byte each). Anything else (control
 * characters, U+0100 and up) makes undici throw `invalid <name> header` on every attempt.
 */
const SENDABLE_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;
/** The longest custom header name (HEADER_NAME_PATTERN of the API schemas). */
export const MAX_HEADER_NAME_LENGTH = 100;

/** True when `name` is a header name HTTP allows (an RFC 9110 token of at most 100 characters). */
export function isHeaderName(name: string): boolean {
  return name.length <= MAX_HEADER_NAME_LENGTH && TOKEN.test(name);
}

/** True when `value` can be sent as a header value (see SENDABLE_VALUE). */
export function isSendableHeaderValue(value: string): boolean {
  return SENDABLE_VALUE.test(value);
}

/**
 * True when `value` starts or ends with a space or a tab: HTTP takes them for the whitespace around
 * a field value (RFC 9110 5.5), so the receiver reads ` v ` as `v`. (Sent so when stored before the
 * API refused it: what arrives is the value without them.)
 */
export function hasOuterWhitespace(value: string): boolean {
  return /^[ \t]|[ \t]$/.test(value);
}
