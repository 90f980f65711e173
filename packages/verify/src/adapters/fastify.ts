/**
 * Fastify plugin. It swaps the content-type parsers of the scope it is registered in for one that
 * keeps the raw bytes (verification needs them), verifies in a `preHandler` hook and sets
 * `request.webhook = { id, timestamp, payload }`. Register it inside the scope of your webhook
 * routes so the rest of the app keeps its JSON parser:
 *
 * ```ts
 * app.register(async (scope) => {
 *   await scope.register(webhookVerification({ scheme: 'standard', secret }));
 *   scope.post('/webhooks', async (request) => { handle(request.webhook.payload); return { ok: true }; });
 * });
 * ```
 * Refused requests get the error's status and `{"error": {"code", "message"}}`.
 */
// Types only, erased when it runs: the module `request.webhook` is declared on (below).
import type {} from 'fastify';
import { asBytes } from '../encoding.ts';
import { WebhookVerificationError } from '../errors.ts';
import type { Deduplicator } from '../idempotency.ts';
import { type VerifiedWebhook, verifyWebhook } from '../verify.ts';
import { type AdapterVerifyOptions, adapterOptions, DEFAULT_MAX_BODY_BYTES, errorBody } from './options.ts';
import { checkBodyLimit } from './read-body.ts';

/** The parts of a Fastify request the plugin uses. */
export interface FastifyRequestLike {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  url: string;
  /** The request's method: a GET's content is its query (see VerifyInput's `method`). */
  method?: string;
  protocol: string;
  host: string;
  /** Node's request: whether its client has gone. */
  raw?: { aborted?: boolean; socket?: { destroyed: boolean } | null };
}

/** The parts of a Fastify reply the plugin uses. */
export interface FastifyReplyLike {
  statusCode: number;
  code(statusCode: number): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
  /** Whether the answer has been sent. */
  sent?: boolean;
  /** Node's response. */
  raw?: { headersSent: boolean };
}

type ParserDone = (error: Error | null, body?: unknown) => void;
type Hook = (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>;
type SendHook = (request: FastifyRequestLike, reply: FastifyReplyLike, payload: unknown) => Promise<unknown>;
type RouteHandler = (this: unknown, request: FastifyRequestLike, reply: FastifyReplyLike) => unknown;

/** The parts of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  removeAllContentTypeParsers(): unknown;
  addContentTypeParser(
    contentType: string,
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (request: unknown, body: Uint8Array, done: ParserDone) => void,
  ): unknown;
  decorateRequest(name: string, value: null): unknown;
  addHook(name: 'preHandler', hook: Hook): unknown;
  addHook(name: 'onSend', hook: SendHook): unknown;
  /** `route.handler`: a RouteHandler (typed loosely: Fastify's own handler type is not one). */
  addHook(name: 'onRoute', hook: (route: { handler: unknown }) => void): unknown;
}

export interface FastifyWebhookOptions extends AdapterVerifyOptions {
  /** Public URL, or a function of the request. Default: `<protocol>://<host><url>` of the request. */
  url?: string | ((request: FastifyRequestLike) => string) | undefined;
  /**
   * Largest body accepted, in bytes. Default 10 MiB, what Herald sends at its default
   * HERALD_MAX_BODY_BYTES of 1 MiB; for a larger one, 10 times that.
   */
  maxBodyBytes?: number | undefined;
  /** De-duplicate by `webhook-id` (see the Express adapter for the rules). */
  deduplicate?: Deduplicator | undefined;
}

/** A request once the plugin has run. */
export interface FastifyWebhookRequest extends FastifyRequestLike {
  webhook: VerifiedWebhook;
}

/**
 * `request.webhook` on Fastify's own request type, so a route of the plugin's scope reads it
 * without a cast, as in the README (a cast to {@link FastifyWebhookRequest} did not compile:
 * neither type holds the other). Fastify's way of typing a request decorator; it needs fastify's
 * types, there wherever this adapter is used. Set on every request of that scope before its handler.
 */
declare module 'fastify' {
  interface FastifyRequest {
    webhook: VerifiedWebhook;
  }
}

const CLAIMED = Symbol('herald.webhook.claimed');

/** The plugin; register it with `scope.register(webhookVerification(options))`. */
export function webhookVerification(
  options: FastifyWebhookOptions,
): (instance: FastifyInstanceLike) => Promise<void> {
  const {
    url,
    maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
    deduplicate,
    ...verifyOptions
  } = adapterOptions(options, 'webhookVerification(options)');
  const plugin = async (instance: FastifyInstanceLike): Promise<void> => {
    // Fastify would take NaN for its own default (1 MiB) and a string ('10mb') for no limit.
    checkBodyLimit(maxBodyBytes);
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: maxBodyBytes },
      (_request, body, done) => done(null, body),
    );
    instance.decorateRequest('webhook', null);
    instance.addHook('preHandler', async (request, reply) => {
      const body = request.body;
      let webhook: VerifiedWebhook;
      try {
        webhook = verifyWebhook({
          ...verifyOptions,
          payload: typeof body === 'string' ? body : (asBytes(body) ?? ''),
          headers: request.headers,
          url:
            typeof url === 'function'
              ? url(request)
              : (url ?? `${request.protocol}://${request.host}${request.url}`),
          ...(request.method ? { method: request.method } : {}),
        });
      } catch (error) {
        if (error instanceof WebhookVerificationError && error.code !== 'HERALD_VERIFY_CONFIG') {
          return reply.code(error.status).send(errorBody(error));
        }
        throw error;
      }
      (request as FastifyWebhookRequest).webhook = webhook;
      if (deduplicate && webhook.id !== null) {
        if (!(await deduplicate.claim(webhook.id))) {
          // Still being handled: not a 2xx, which Herald takes for delivered (see the Express adapter).
          if (deduplicate.inProgress(webhook.id)) {
            return reply.code(409).send({ duplicate: true, inProgress: true });
          }
          return reply.code(200).send({ duplicate: true });
        }
        (request as unknown as Record<symbol, string>)[CLAIMED] = webhook.id;
      }
      return undefined;
    });
    if (deduplicate) {
      /** Ends the request's claim (once) by its answer's status: kept for a 2xx, released otherwise. */
      const decide = async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
        const held = request as unknown as Record<symbol, string | undefined>;
        const claimed = held[CLAIMED];
        if (claimed === undefined) return;
        held[CLAIMED] = undefined;
        if (reply.statusCode < 200 || reply.statusCode >= 300) await deduplicate.release(claimed);
        else deduplicate.settle(claimed);
      };
      // Decided by the handler's answer (onSend), sent or not: after Herald gave up on the attempt
      // (its timeout) the connection is gone and onResponse never runs, so a failure there kept
      // the id and Herald's retry was answered as a duplicate: the event lost.
      instance.addHook('onSend', async (request, reply, payload) => {
        await decide(request, reply);
        return payload;
      });
      // An async handler that resolves with nothing, answered by Fastify (200, or the code it set)
      // while the client is there, is answered by nobody once the client has gone: Fastify sends
      // nothing and runs no onSend. Its id stayed in progress, and every retry of an event it had
      // processed was answered 409 until the process restarted. Decided when it resolves, then.
      instance.addHook('onRoute', (route) => {
        const handler = route.handler as RouteHandler;
        route.handler = function (this: unknown, request: FastifyRequestLike, reply: FastifyReplyLike) {
          const result = handler.call(this, request, reply);
          if (isThenable(result)) {
            result.then(
              (payload) => {
                if (payload === undefined && !fastifyAnswers(request, reply)) void decide(request, reply);
              },
              () => undefined, // Fastify answers the error (onSend)
            );
          }
          return result;
        };
      });
    }
  };
  // Same marker as fastify-plugin: the parsers and hooks apply to the scope that registers us.
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@herald/verify',
  });
  return plugin;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * Whether Fastify answers an async handler that resolved with nothing (its wrap-thenable.js): only
 * when nothing was sent and the client is still there.
 */
function fastifyAnswers(request: FastifyRequestLike, reply: FastifyReplyLike): boolean {
  return (
    reply.sent === false &&
    reply.raw?.headersSent === false &&
    request.raw?.aborted === false &&
    !!request.raw.socket &&
    !request.raw.socket.destroyed
  );
}
