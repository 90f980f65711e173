/**
 * node:http adapter: read the raw body of an `IncomingMessage` and verify it.
 *
 * ```ts
 * createServer(async (req, res) => {
 *   try {
 *     const { id, payload } = await verifyNodeRequest(req, { scheme: 'standard', secret });
 *     res.writeHead(204).end();
 *   } catch (error) {
 *     sendVerificationError(res, error); // rethrows anything that is not a verification error
 *   }
 * });
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebhookVerificationError } from '../errors.ts';
import { type VerifiedWebhook, verifyWebhook } from '../verify.ts';
import {
  type AdapterVerifyOptions,
  adapterOptions,
  adapterRequest,
  errorBody,
  fetchHeaders,
  readable,
} from './options.ts';
import { checkDeclaredLength, readRawBody } from './read-body.ts';

export { readRawBody };

const NODE_REQUEST =
  'a node:http request (IncomingMessage) first; for a Fetch API Request, verifyFetchRequest';
const isNodeRequest = (request: object, headers: object) => !fetchHeaders(headers) && readable(request);

export interface NodeVerifyOptions extends AdapterVerifyOptions {
  /**
   * The public URL of the request (`hmac-sha1-url` signs it; GET content is read from it), or a
   * function of the request. Default: `http(s)://<Host><request target>`. Behind a proxy that
   * rewrites scheme, host or path, give the URL Herald was configured with.
   */
  url?: string | ((req: IncomingMessage) => string) | undefined;
  /**
   * Largest body read, in bytes; larger bodies fail with BODY_TOO_LARGE. Default 10 MiB, what
   * Herald sends at its default HERALD_MAX_BODY_BYTES of 1 MiB; for a larger one, 10 times that.
   */
  maxBodyBytes?: number | undefined;
}

/**
 * The body of a node:http request, up to `maxBytes`: one that declares more (Content-Length) is
 * refused before any of it is read, rather than after `maxBytes` of it came in.
 */
export function readRequestBody(req: IncomingMessage, maxBytes?: number): Promise<Uint8Array> {
  checkDeclaredLength(req.headers['content-length'], maxBytes);
  // Something read the stream first (a logging middleware, the handler itself): what is left is
  // not the body, and verifying it answered a false BAD_SIGNATURE (401) for a mistake in the code.
  if (req.readableDidRead) {
    throw new WebhookVerificationError(
      'HERALD_VERIFY_CONFIG',
      'The body was already read from the request by something else: verify before anything reads it, ' +
        'or pass the bytes it read to verify()',
    );
  }
  return readRawBody(req, maxBytes);
}

/** `http(s)://<Host><request target>` of a node:http request. */
export function requestUrl(req: IncomingMessage): string {
  const encrypted = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  return `${encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`;
}

/** Resolves the URL option for a request. */
export function resolveUrl(req: IncomingMessage, url: NodeVerifyOptions['url']): string {
  if (typeof url === 'function') return url(req);
  return url ?? requestUrl(req);
}

/** Reads and verifies a node:http request. Throws {@link WebhookVerificationError}. */
export async function verifyNodeRequest<T = unknown>(
  req: IncomingMessage,
  options: NodeVerifyOptions,
): Promise<VerifiedWebhook<T> & { body: Uint8Array }> {
  const caller = 'verifyNodeRequest(req, options)';
  // A Fetch API Request (Next.js's route handlers, Hono on Node) has headers too, but no stream
  // here: it was refused as a readRawBody call, which the receiver's code never made.
  adapterRequest(req, caller, NODE_REQUEST, isNodeRequest);
  const { url, maxBodyBytes, ...verifyOptions } = adapterOptions(options, caller);
  const body = await readRequestBody(req, maxBodyBytes);
  const verified = verifyWebhook<T>({
    ...verifyOptions,
    payload: body,
    headers: req.headers,
    url: resolveUrl(req, url),
    ...(req.method ? { method: req.method } : {}),
  });
  return { ...verified, body };
}

/**
 * Answers a refused webhook with its status and `{"error": {"code", "message"}}`. Rethrows
 * anything that is not a {@link WebhookVerificationError}.
 */
export function sendVerificationError(res: ServerResponse, error: unknown): void {
  if (!(error instanceof WebhookVerificationError)) throw error;
  res.writeHead(error.status, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody(error)));
}
