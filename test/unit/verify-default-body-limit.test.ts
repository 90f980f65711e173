/**
 * The receiver SDK's default body limit against the largest bodies Herald sends for events it
 * accepts at its default HERALD_MAX_BODY_BYTES: built by Herald's own request builder, sent to the
 * four adapters (node:http, Express, Fastify on 127.0.0.1, Fetch `Request`) left at their defaults.
 */
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ExpressRequestLike, webhookMiddleware } from '../../packages/verify/src/adapters/express.ts';
import {
  type FastifyWebhookRequest,
  webhookVerification,
} from '../../packages/verify/src/adapters/fastify.ts';
import { verifyFetchRequest } from '../../packages/verify/src/adapters/fetch.ts';
import { sendVerificationError, verifyNodeRequest } from '../../packages/verify/src/adapters/node.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../packages/verify/src/adapters/options.ts';
import {
  SIGNATURE_SCHEMES,
  type SignatureScheme,
  WebhookVerificationError,
} from '../../packages/verify/src/index.ts';
import { DEFAULTS, loadConfig, MAX_BODY_BYTES_LIMIT } from '../../src/config/load-config.ts';
import { buildRequest } from '../../src/domain/build-request.ts';
import type { BuiltRequest } from '../../src/domain/build-request-types.ts';
import type { Envelope, HeraldEvent } from '../../src/domain/types.ts';
import { acceptedEvent, largestEventRequests } from '../support/largest-deliveries.ts';

const L = DEFAULTS.maxBodyBytes; // HERALD_MAX_BODY_BYTES when unset
const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const ENVELOPES: Envelope[] = ['standard', 'event-data', 'raw'];
/** The three ways a body is shaped: JSON (every other scheme sends the same body), base64, form. */
const SHAPES = ['standard', 'sha256-body', 'hmac-sha1-url'] as const satisfies SignatureScheme[];
/** docs/signatures.md "How large a body to accept". */
const DOCUMENTED_BOUND: Record<SignatureScheme, number> = {
  standard: 4.4 * L + 100,
  'hmac-sha256': 4.4 * L + 100,
  stripe: 4.4 * L + 100,
  github: 4.4 * L + 100,
  none: 4.4 * L + 100,
  'sha256-body': 5.9 * L + 200,
  'hmac-sha1-url': 4.8 * L + 100,
};

const requests = Object.entries(largestEventRequests(L)).map(([name, raw]) => {
  const { type, payload, payloadJson } = acceptedEvent(raw);
  const event: HeraldEvent = {
    id: 'evt_01m8vt01h3g09rzad4tgd0sbqv', // as long as Herald's ids
    projectId: 'prj_1',
    type,
    payload: payload as HeraldEvent['payload'],
    test: false,
    idempotencyKey: null,
    callbackUrl: null,
    createdAt: Date.now(),
  };
  return { name, raw, event, payloadJson };
});

function deliver(
  request: (typeof requests)[number],
  scheme: SignatureScheme,
  envelope: Envelope,
  url: string,
): BuiltRequest {
  return buildRequest({
    event: request.event,
    payloadJson: request.payloadJson,
    url,
    endpoint: { method: 'POST', headers: {}, envelope, signature: { scheme } },
    secrets: [{ secret: SECRET }],
    now: Date.now(),
  });
}

interface Sized {
  request: (typeof requests)[number];
  scheme: SignatureScheme;
  envelope: Envelope;
  bytes: number;
  /** Characters of the body as an attempt read shows it: a JSON string, escapes doubled. */
  shown: number;
}
let sizes: Sized[] | undefined;
/** Every request × scheme × envelope, with the size of the body Herald sends (built once). */
function allSizes(): Sized[] {
  sizes ??= requests.flatMap((request) =>
    SIGNATURE_SCHEMES.flatMap((scheme) =>
      ENVELOPES.map((envelope) => {
        const body = deliver(request, scheme, envelope, 'https://r.example/hook').body ?? '';
        return {
          request,
          scheme,
          envelope,
          bytes: Buffer.byteLength(body),
          shown: JSON.stringify(body).length,
        };
      }),
    ),
  );
  return sizes;
}
/** The largest body of a scheme. */
function largest(scheme: SignatureScheme): Sized {
  return allSizes()
    .filter((s) => s.scheme === scheme)
    .reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

describe('the largest bodies Herald sends at its default HERALD_MAX_BODY_BYTES', () => {
  test('fit the documented bounds and the adapters’ default limit, every scheme and envelope', () => {
    assert.equal(L, 1024 * 1024);
    for (const { raw, name } of requests)
      assert.ok(raw.length <= L && raw.length > L - 8, `${name}: ${raw.length}`);
    for (const { request, scheme, envelope, bytes } of allSizes()) {
      const where = `${request.name}, ${scheme}, ${envelope}: ${bytes} bytes`;
      assert.ok(bytes <= DOCUMENTED_BOUND[scheme], `${where}, over ${DOCUMENTED_BOUND[scheme]}`);
      assert.ok(bytes <= DEFAULT_MAX_BODY_BYTES, `${where}, over ${DEFAULT_MAX_BODY_BYTES}`);
    }
    // The bounds are reached, not just respected: these worst cases are real.
    assert.ok(largest('standard').bytes > 4.39 * L);
    assert.ok(largest('sha256-body').bytes > 5.86 * L);
    assert.ok(largest('hmac-sha1-url').bytes > 4.79 * L);
    assert.equal(largest('hmac-sha1-url').request.name, 'an array of 1e20');
  });

  // Each body is one JavaScript string when it is built, stored and read back (GET …/attempts/:id):
  // at the largest HERALD_MAX_BODY_BYTES the same requests must still fit V8's longest string, or
  // Herald accepts events it can never send (200 MiB of U+FFFD, hmac-sha1-url: every attempt failed
  // "cannot build request: Invalid string length") or answers 500 (a 128 MiB array of 1e20).
  test('still fit one string at the largest HERALD_MAX_BODY_BYTES allowed', () => {
    const config = (bytes: number) =>
      loadConfig({ env: { HERALD_MAX_BODY_BYTES: String(bytes) }, resolveAdminToken: false }).maxBodyBytes;
    assert.equal(config(MAX_BODY_BYTES_LIMIT), MAX_BODY_BYTES_LIMIT);
    assert.throws(() => config(MAX_BODY_BYTES_LIMIT + 1), /HERALD_MAX_BODY_BYTES/);
    const growth = Math.max(...allSizes().flatMap(({ bytes, shown }) => [bytes / L, shown / L]));
    assert.ok(growth > 5.86, `growth ${growth}`);
    // Measured at 1 MiB, the ratio counts the envelope's fixed bytes as growth: an upper bound above.
    assert.ok(
      growth * MAX_BODY_BYTES_LIMIT <= constants.MAX_STRING_LENGTH,
      `${MAX_BODY_BYTES_LIMIT} bytes can grow to ${Math.ceil(growth * MAX_BODY_BYTES_LIMIT)} characters, over ${constants.MAX_STRING_LENGTH}`,
    );
  });

  describe('pass each adapter left at its default limit', () => {
    const servers: Server[] = [];
    let fastify: FastifyInstance;
    const bases: Record<'node' | 'express' | 'fastify', string> = { node: '', express: '', fastify: '' };

    async function listen(server: Server): Promise<string> {
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    before(async () => {
      bases.node = await listen(
        createServer(async (req, res) => {
          try {
            const scheme = new URL(req.url ?? '/', 'http://x').pathname.slice(1) as SignatureScheme;
            const webhook = await verifyNodeRequest(req, { scheme, secret: SECRET });
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ id: webhook.id, bytes: webhook.body.length }));
          } catch (error) {
            if (error instanceof WebhookVerificationError) sendVerificationError(res, error);
            else
              res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(String(error)));
          }
        }),
      );

      const app = express();
      // No body parser: the middleware reads the body itself, up to its default maxBodyBytes.
      app.post(
        '/:scheme',
        (req, res, next) =>
          webhookMiddleware({ scheme: req.params.scheme as SignatureScheme, secret: SECRET })(req, res, next),
        (req, res) => res.json({ id: (req as ExpressRequestLike).webhook?.id }),
      );
      bases.express = await listen(createServer(app));

      fastify = Fastify(); // its own bodyLimit is 1 MiB: the plugin's parser sets the adapter's
      for (const scheme of SHAPES) {
        await fastify.register(
          async (scope) => {
            await scope.register(webhookVerification({ scheme, secret: SECRET }));
            scope.post('/', async (request) => ({
              id: (request as unknown as FastifyWebhookRequest).webhook.id,
            }));
          },
          { prefix: `/${scheme}` },
        );
      }
      await fastify.listen({ port: 0, host: '127.0.0.1' });
      bases.fastify = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
    });
    after(async () => {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await fastify?.close();
    });

    for (const shape of SHAPES) {
      test(shape, async () => {
        const worst = largest(shape);
        assert.ok(worst.bytes > 4 * L, `${worst.bytes} bytes`);
        for (const adapter of ['node', 'express', 'fastify'] as const) {
          const path = adapter === 'fastify' ? `/${shape}/` : `/${shape}`;
          const sent = deliver(worst.request, shape, worst.envelope, `${bases[adapter]}${path}`);
          const response = await fetch(sent.url, {
            method: sent.method,
            headers: sent.headers,
            body: sent.body,
          });
          const text = await response.text();
          const answer = (text.startsWith('{') ? JSON.parse(text) : { text }) as Record<string, unknown>;
          assert.equal(response.status, 200, `${adapter}: ${JSON.stringify(answer)}`);
          assert.equal(answer.id, worst.request.event.id, adapter);
          if (adapter === 'node') assert.equal(answer.bytes, worst.bytes);
        }
        const sent = deliver(worst.request, shape, worst.envelope, 'https://receiver.example/hook');
        const webhook = await verifyFetchRequest(
          new Request(sent.url, { method: sent.method, headers: sent.headers, body: sent.body }),
          { scheme: shape, secret: SECRET },
        );
        assert.equal(webhook.id, worst.request.event.id, 'fetch');
      });
    }
  });
});
