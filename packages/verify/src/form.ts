/**
 * Fields, form bodies, query strings and URLs: how an envelope travels when it is not JSON (GET
 * query strings, `hmac-sha1-url` form bodies), and the exact string `hmac-sha1-url` signs.
 */

/** Name/value pairs in order. */
export type Fields = [name: string, value: string][];

/**
 * The envelope's top-level fields as strings: string values as they are, every other value
 * (objects, arrays, numbers, booleans, null) JSON-encoded. A payload that is not an object
 * (a `raw` envelope of an array or a scalar) travels as one field named `data`.
 */
export function topLevelFields(content: unknown): Fields {
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    return [['data', fieldValue(content)]];
  }
  const fields: Fields = [];
  for (const name of Object.keys(content)) {
    const value = (content as Record<string, unknown>)[name];
    if (value !== undefined) fields.push([name, fieldValue(value)]);
  }
  return fields;
}

function fieldValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

/** `application/x-www-form-urlencoded` serialisation (WHATWG: space as `+`, `*-._` kept). */
export function formEncode(fields: Fields): string {
  return new URLSearchParams(fields).toString();
}

/** Fields of a form body or query string, in order, names and values decoded. */
export function parseForm(text: string): Fields {
  return [...new URLSearchParams(text)];
}

/**
 * The URL as a WHATWG parser serialises it, without fragment and without the `?` of an empty query:
 * what an HTTP client actually requests, and what a receiver rebuilds from scheme, Host and request
 * target. Both sides of `hmac-sha1-url` canonicalise, so `HTTPS://Example.com:443/a` and
 * `https://example.com/a` agree. An empty query (`https://example.com/a?`) has no request target of
 * its own: Herald's sender and undici send `/a` (pathname + search, and search is '' for it), so
 * signing the `?` would make every delivery to such a URL fail verification.
 */
export function canonicalUrl(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  // Setting search to '' drops the query altogether (WHATWG: query becomes null), `?` included.
  if (parsed.search === '') parsed.search = '';
  return parsed.href;
}

/**
 * `url` with `fields` appended to its query string. The URL's own parameters are kept as they
 * are (a token in the URL stays first); the envelope's fields follow.
 */
export function appendQuery(url: string, fields: Fields): string {
  const parsed = new URL(url);
  parsed.hash = '';
  const extra = formEncode(fields);
  if (extra) parsed.search = parsed.search.length > 1 ? `${parsed.search.slice(1)}&${extra}` : extra;
  return parsed.href;
}

/**
 * The string `hmac-sha1-url` signs (PushPushGo's "full URL with query string and all POST
 * parameters", the recipe Twilio made common): the canonical URL, query string included, then
 * every form field sorted by name (then by value, for repeated names) in Unicode code point
 * order, each appended as name followed by value with no separator. Decoded names and values are
 * used, exactly as a receiver's form parser yields them. A GET has no form fields: the URL alone.
 */
export function sha1UrlSigningString(url: string, fields: Fields): string {
  const sorted = fields.length > 1 ? [...fields].sort(compareFields) : fields;
  let text = canonicalUrl(url);
  for (const [name, value] of sorted) text += name + value;
  return text;
}

function compareFields(a: [string, string], b: [string, string]): number {
  return compareCodePoints(a[0], b[0]) || compareCodePoints(a[1], b[1]);
}

/**
 * Code point order (= UTF-8 byte order), unlike `<` which compares UTF-16 code units. A lone
 * surrogate (possible in an envelope: JSON allows `"\ud800"`) counts as U+FFFD, what UTF-8 sends
 * for it and so what the receiver's form parser sorts.
 */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = wellFormed(a.codePointAt(i) ?? 0);
    const y = wellFormed(b.codePointAt(i) ?? 0);
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function wellFormed(codePoint: number): number {
  return codePoint >= 0xd800 && codePoint <= 0xdfff ? 0xfffd : codePoint;
}
