/**
 * A loopback webhook receiver for load and crash tests: every request is verified with
 * `@herald/verify` against the endpoint registered for its path (scheme, secret, options), and each
 * accepted one is counted by endpoint and `webhook-id`, so that losses and duplicates can be told
 * apart. It keeps counts, not bodies, so it can take tens of thousands of requests. A seeded share
 * of requests is answered 503 (and does not count as arrived), so that retries are under way too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SchemeOptions, type SignatureScheme, verifyWebhook } from '@herald/verify';
import type { Random } from './load-generator.ts';

export interface ReceiverEndpoint {
  scheme: SignatureScheme;
  secret?: string;
  options?: SchemeOptions;
}

export interface CountingReceiverOptions {
  random: Random;
  /** Share of verified requests answered 503 (not counted as arrived: Herald retries them). */
  failShare?: number;
  /** Share of requests answered after a short delay (up to `maxDelayMs`). */
  slowShare?: number;
  maxDelayMs?: number;
}

export interface CountingReceiver {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Verifies requests to `path` (e.g. `/p1/standard`) with these settings. */
  register(path: string, endpoint: ReceiverEndpoint): void;
  /** How often each delivery arrived (answered 2xx), keyed by `arrivalKey(path, eventId)`. */
  readonly arrivals: ReadonlyMap<string, number>;
  /** Requests answered 2xx, duplicates included. */
  accepted(): number;
  /** Requests answered 503 on purpose. */
  failedOnPurpose(): number;
  /** Requests that did not verify, or named an unknown path, or carried no `webhook-id`: each is a bug. */
  readonly rejected: string[];
  /** Every arrival after the first of its delivery: when the first came and when this one did. */
  readonly duplicates: readonly DuplicateArrival[];
  /** Event ids seen per payload key: more than one means a repeated idempotency key made a second event. */
  readonly eventsByKey: ReadonlyMap<string, ReadonlySet<string>>;
  close(): Promise<void>;
}

export interface DuplicateArrival {
  /** `arrivalKey(path, eventId)` */
  key: string;
  firstAt: number;
  at: number;
}

export const arrivalKey = (path: string, eventId: string) => `${path} ${eventId}`;

/** The `key` the load generator puts in every payload, whatever the envelope and body format. */
function payloadKey(content: unknown): string | undefined {
  if (!content || typeof content !== 'object') return undefined;
  const c = content as Record<string, unknown>;
  if (typeof c.key === 'string') return c.key; // raw envelope
  let data = c.data; // standard and event-data envelopes; a form body carries it JSON-encoded
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return undefined;
    }
  }
  const key = data && typeof data === 'object' ? (data as Record<string, unknown>).key : undefined;
  return typeof key === 'string' ? key : undefined;
}

export async function startCountingReceiver(options: CountingReceiverOptions): Promise<CountingReceiver> {
  const { random, failShare = 0, slowShare = 0, maxDelayMs = 0 } = options;
  const endpoints = new Map<string, ReceiverEndpoint>();
  const arrivals = new Map<string, number>();
  const firstArrival = new Map<string, number>();
  const duplicates: DuplicateArrival[] = [];
  const eventsByKey = new Map<string, Set<string>>();
  const rejected: string[] = [];
  let accepted = 0;
  let failed = 0;
  let base = '';

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const path = (req.url ?? '').split('?')[0]!;
    const endpoint = endpoints.get(path);
    const reject = (why: string) => {
      if (rejected.length < 1000) rejected.push(`${req.method} ${req.url}: ${why}`);
      res.writeHead(400).end(why);
    };
    if (!endpoint) return reject('no endpoint registered for this path');
    let verified: { id: string | null; payload: unknown };
    try {
      verified = verifyWebhook({
        scheme: endpoint.scheme,
        payload: new Uint8Array(body),
        headers: req.headers,
        secret: endpoint.secret,
        options: endpoint.options,
        url: `${base}${req.url}`,
      });
    } catch (error) {
      return reject(`does not verify: ${(error as Error).message}`);
    }
    const id = verified.id;
    if (!id) return reject('no webhook-id');
    const key = payloadKey(verified.payload);
    if (key === undefined) return reject('no key in the payload');
    const answer = () => {
      if (random.chance(failShare)) {
        failed++;
        res.writeHead(503).end('try again');
        return;
      }
      // Counted before the answer goes out: a receiver has processed what it acknowledges.
      accepted++;
      const k = arrivalKey(path, id);
      const now = Date.now();
      const firstAt = firstArrival.get(k);
      if (firstAt === undefined) firstArrival.set(k, now);
      else duplicates.push({ key: k, firstAt, at: now });
      arrivals.set(k, (arrivals.get(k) ?? 0) + 1);
      const ids = eventsByKey.get(key) ?? new Set<string>();
      ids.add(id);
      eventsByKey.set(key, ids);
      res.writeHead(200).end('ok');
    };
    if (random.chance(slowShare)) setTimeout(answer, random.int(1, maxDelayMs));
    else answer();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
    // The sender may die mid-request (SIGKILL): nothing to answer then.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    register(path, endpoint) {
      endpoints.set(path, endpoint);
    },
    arrivals,
    accepted: () => accepted,
    failedOnPurpose: () => failed,
    rejected,
    duplicates,
    eventsByKey,
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
