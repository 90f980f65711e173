/**
 * Fetch-API adapter (Deno, Bun, Cloudflare Workers, Node's fetch handlers): verify a `Request`.
 *
 * ```ts
 * export default {
 *   fetch: withWebhookVerification({ scheme: 'standard', secret: env.SECRET }, async (webhook) => {
 *     await handle(webhook.payload);
 *     return new Response(null, { status: 204 });
 *   }),
 * };
 * ```
 */
import { WebhookVerificationError } from '../errors.ts';
import { type VerifiedWebhook, verifyWebhook } from '../verify.ts';
import {
  type AdapterVerifyOptions,
  adapterOptions,
  adapterRequest,
  DEFAULT_MAX_BODY_BYTES,
  errorBody,
  fetchHeaders,
} from './options.ts';
import { checkDeclaredLength, readRawBody, streamChunks } from './read-body.ts';

export interface FetchVerifyOptions extends AdapterVerifyOptions {
  /** Public URL when `request.url` is not what Herald called (a proxy rewrote it). */
  url?: string | undefined;
  /**
   * Largest body read, in bytes. Default 10 MiB, what Herald sends at its default
   * HERALD_MAX_BODY_BYTES of 1 MiB; for a larger one, 10 times that.
   */
  maxBodyBytes?: number | undefined;
}

const FETCH_REQUEST = 'a Fetch API Request first; for a node:http request, verifyNodeRequest';
const isFetchRequest = (_request: object, headers: object) => fetchHeaders(headers);

/** Reads and verifies a `Request`. Throws {@link WebhookVerificationError}. */
export async function verifyFetchRequest<T = unknown>(
  request: Request,
  options: FetchVerifyOptions,
): Promise<VerifiedWebhook<T>> {
  const caller = 'verifyFetchRequest(request, options)';
  adapterRequest(request, caller, FETCH_REQUEST, isFetchRequest);
  const { url, maxBodyBytes = DEFAULT_MAX_BODY_BYTES, ...verifyOptions } = adapterOptions(options, caller);
  checkDeclaredLength(request.headers.get('content-length'), maxBodyBytes);
  // Read first (request.json() in the handler, a framework's parser) or held by a reader: the stream
  // cannot be read, which was reported as BODY_INCOMPLETE ("the connection closed") and answered 400,
  // so Herald retried every delivery until its retries ran out, for a mistake in the receiver's code.
  if (request.bodyUsed || request.body?.locked) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      'The body was already read from the request by something else: verify before anything reads it ' +
        '(or verify a request.clone()), or pass the bytes it read to verify()',
    );
  }
  // Counted as it arrives: a chunked body (no Content-Length) over the limit is refused when it
  // passes it, not read whole first (request.arrayBuffer() held all of it, however large).
  const body =
    request.body === null ? new Uint8Array(0) : await readRawBody(streamChunks(request.body), maxBodyBytes);
  return verifyWebhook<T>({
    ...verifyOptions,
    payload: body,
    headers: request.headers,
    url: url ?? request.url,
    method: request.method,
  });
}

/** The `Response` for a refused webhook: its status and `{"error": {"code", "message"}}`. */
export function verificationErrorResponse(error: WebhookVerificationError): Response {
  return Response.json(errorBody(error), { status: error.status });
}

/**
 * Wraps a handler so it only sees verified webhooks; refused ones are answered for it.
 * Configuration errors are rethrown (they are bugs, not bad requests).
 */
export function withWebhookVerification<T = unknown>(
  options: FetchVerifyOptions,
  handler: (webhook: VerifiedWebhook<T>, request: Request) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  // Refused when the handler is made, not at the first webhook.
  adapterOptions(options, 'withWebhookVerification(options, handler)');
  return async (request) => {
    adapterRequest(
      request,
      'the handler of withWebhookVerification(options, handler)',
      FETCH_REQUEST,
      isFetchRequest,
    );
    let webhook: VerifiedWebhook<T>;
    try {
      webhook = await verifyFetchRequest<T>(request, options);
    } catch (error) {
      if (error instanceof WebhookVerificationError && error.code !== 'HERALD_VERIFY_CONFIG') {
        return verificationErrorResponse(error);
      }
      throw error;
    }
    return handler(webhook, request);
  };
}
