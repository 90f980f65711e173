/**
 * Headers that belong to the request or its connection, so no signature, timestamp or custom header
 * may take their name: what every request sets itself (host, content, user agent, `webhook-id`,
 * and `webhook-test` on a test event's requests), and what HTTP reads as connection-level or body
 * framing. A signature sent as `Connection` never reaches the receiver (the HTTP client takes it as
 * a connection option); as `Transfer-Encoding`, `Expect` or `Upgrade` the request fails before it
 * is sent; as `Content-Encoding` a receiver that honoured it would fail to inflate the body.
 */
const REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'user-agent',
  'webhook-id',
  'webhook-test',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-authorization',
]);

/** True when `name` (any case) is a header the request or its connection owns (REQUEST_HEADERS). */
export function isRequestHeader(name: string): boolean {
  return REQUEST_HEADERS.has(name.toLowerCase());
}
