/**
 * Express middleware. Verification needs the exact bytes, so mount it with `express.raw()` (any
 * content type), before any body parser, or after a parser that keeps them in `req.rawBody`
 * (`express.json({ verify: (req, _res, buf) => Object.assign(req, { rawBody: buf }) })`); a body already parsed
 * by `express.json()` without `rawBody` cannot be verified and is reported as a configuration error. `express.raw()` then applies its own limit
 * (100 KB by default), not `maxBodyBytes`: give it Herald's (10 MiB, see DEFAULT_MAX_BODY_BYTES).
 *
 * ```ts
 * app.post('/webhooks', express.raw({ type: '*\/*', limit: '10mb' }),
 *   webhookMiddleware({ scheme: 'standard', secret }),
 *   (req, res) => { handle(req.webhook.payload); res.sendStatus(204); });
 * ```
 * Refused requests get the error's status and `{"error": {"code", "message"}}`; configuration
 * errors go to `next(error)`.
 */
import type { IncomingMessage } from 'node:http';
import { asBytes } from '../encoding.ts';
import { WebhookVerificationError } from '../errors.ts';
import type { Deduplicator } from '../idempotency.ts';
import { type VerifiedWebhook, verifyWebhook } from '../verify.ts';
import { readRequestBody, requestUrl } from './node.ts';
import {
  type AdapterVerifyOptions,
  adapterOptions,
  adapterRequest,
  errorBody,
  fetchHeaders,
} from './options.ts';

/** An Express request is node:http's, its headers an object; a Fetch API Request's are a `Headers`. */
const notFetch = (_request: object, headers: object) => !fetchHeaders(headers);

/** The parts of an Express request the middleware uses. */
export interface ExpressRequestLike extends IncomingMessage {
  body?: unknown;
  /**
   * The exact bytes of the body, as a parser's `verify` hook keeps them
   * (`express.json({ verify: (req, _res, buf) => Object.assign(req, { rawBody: buf }) })`): used when present.
   */
  rawBody?: Uint8Array | ArrayBufferLike | string;
  originalUrl?: string;
  protocol?: string;
  /** Set by the middleware once the request is verified. */
  webhook?: VerifiedWebhook;
}

/**
 * `req.webhook` on Express's own Request type, so the handler after the middleware reads it
 * without a cast, as in the README (without this, `req.webhook` did not compile). Merged into the
 * global `Express.Request` that @types/express builds its Request from, the way Express's
 * middleware packages add their fields; nothing is imported from Express. It is there on the
 * routes that mount the middleware, which sets it before calling the handler.
 */
declare global {
  namespace Express {
    interface Request {
      webhook: VerifiedWebhook;
    }
  }
}

/** The parts of an Express response the middleware uses. */
export interface ExpressResponseLike {
  statusCode: number;
  status(code: number): ExpressResponseLike;
  json(body: unknown): unknown;
  on(event: 'prefinish', listener: () => void): unknown;
}

export type NextFunctionLike = (error?: unknown) => void;

export interface ExpressWebhookOptions extends AdapterVerifyOptions {
  /** Public URL, or a function of the request. Default: `<req.protocol>://<Host><req.originalUrl>`. */
  url?: string | ((req: ExpressRequestLike) => string) | undefined;
  /**
   * Largest body read when no body parser ran. Default 10 MiB, what Herald sends at its default
   * HERALD_MAX_BODY_BYTES of 1 MiB; for a larger one, 10 times that.
   */
  maxBodyBytes?: number | undefined;
  /**
   * De-duplicate by `webhook-id`: a repeat is answered 200 `{"duplicate": true}` without reaching
   * the handler, or 409 `{"duplicate": true, "inProgress": true}` while the handler of its first
   * delivery has not answered (a 2xx would tell Herald it was delivered, whatever that handler
   * does next); an id whose handler answered non-2xx is released so the retry is processed.
   */
  deduplicate?: Deduplicator | undefined;
}

/** Express middleware that verifies the webhook and sets `req.webhook = { id, timestamp, payload }`. */
export function webhookMiddleware(
  options: ExpressWebhookOptions,
): (req: ExpressRequestLike, res: ExpressResponseLike, next: NextFunctionLike) => Promise<void> {
  const { url, maxBodyBytes, deduplicate, ...verifyOptions } = adapterOptions(
    options,
    'webhookMiddleware(options)',
  );
  return async (req, res, next) => {
    try {
      adapterRequest(
        req,
        'the middleware of webhookMiddleware(options)',
        'an Express request first',
        notFetch,
      );
      const body = await rawBodyOf(req, maxBodyBytes);
      const webhook = verifyWebhook({
        ...verifyOptions,
        payload: body,
        headers: req.headers,
        url: typeof url === 'function' ? url(req) : (url ?? expressUrl(req)),
        ...(req.method ? { method: req.method } : {}),
      });
      req.webhook = webhook;
      const id = webhook.id;
      if (deduplicate && id !== null) {
        if (!(await deduplicate.claim(id))) {
          // Still being handled (Herald's retry of an attempt it gave up on): not yet processed,
          // so not a 2xx, which Herald takes for delivered; the event was lost if it then failed.
          if (deduplicate.inProgress(id)) res.status(409).json({ duplicate: true, inProgress: true });
          else res.status(200).json({ duplicate: true });
          return;
        }
        // Decided when the handler ends its response ('prefinish'), sent or not: after Herald gave
        // up on the attempt (its timeout) the connection is gone and 'finish' never comes, so a
        // failure there kept the id and Herald's retry was answered as a duplicate: the event lost.
        res.on('prefinish', () => {
          if (res.statusCode < 200 || res.statusCode >= 300) void deduplicate.release(id);
          else deduplicate.settle(id);
        });
      }
      next();
    } catch (error) {
      if (error instanceof WebhookVerificationError && error.code !== 'HERALD_VERIFY_CONFIG') {
        res.status(error.status).json(errorBody(error));
        return;
      }
      next(error);
    }
  };
}

async function rawBodyOf(
  req: ExpressRequestLike,
  maxBodyBytes: number | undefined,
): Promise<string | Uint8Array> {
  const kept = typeof req.rawBody === 'string' ? req.rawBody : asBytes(req.rawBody);
  if (kept !== null) return kept;
  const { body } = req;
  const bytes = typeof body === 'string' ? body : asBytes(body);
  if (bytes !== null) return bytes;
  // express.raw() leaves {} when the content type did not match; nothing was read from the stream then.
  const untouched = body === undefined || (isEmptyObject(body) && !req.readableEnded);
  if (untouched) return readRequestBody(req, maxBodyBytes);
  // A parser read the stream. Only a request without a body had nothing to lose; `{}` parsed by
  // express.json() from a body of `{}` did.
  if (isEmptyObject(body) && !hasBody(req)) return '';
  throw new WebhookVerificationError(
    'HERALD_VERIFY_CONFIG',
    'The body was already parsed; mount express.raw() (not express.json()) before webhookMiddleware, ' +
      "or keep the bytes in req.rawBody from the parser's verify hook",
  );
}

/** Whether the request carried body bytes (Content-Length above 0, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) > 0;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

function expressUrl(req: ExpressRequestLike): string {
  if (req.protocol && req.originalUrl !== undefined) {
    return `${req.protocol}://${req.headers.host ?? 'localhost'}${req.originalUrl}`;
  }
  return requestUrl(req);
}
