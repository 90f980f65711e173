/**
 * A running `herald serve` at its default HERALD_MAX_BODY_BYTES accepts events of exactly that
 * size which it delivers larger (3 MiB by hmac-sha1-url), and a receiver built on
 * `verifyNodeRequest` with its default body limit verifies every one of them on the first attempt.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { sendVerificationError, verifyNodeRequest } from '../../packages/verify/src/adapters/node.ts';
import { type SignatureScheme, WebhookVerificationError } from '../../packages/verify/src/index.ts';
import { DEFAULTS } from '../../src/config/load-config.ts';
import { largestEventRequests } from '../support/largest-deliveries.ts';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';

const TOKEN = 'e2e-body-limit-token-0123456789abcdef';
const SCHEMES = ['standard', 'sha256-body', 'hmac-sha1-url'] as const satisfies SignatureScheme[];
const L = DEFAULTS.maxBodyBytes;
/**
 * A string of U+FFFD (3 bytes: 9 in a form, 3x; 1x as JSON, 4/3 in base64; invalid UTF-8, which
 * Herald took as U+FFFD and sent 9x larger in a form, is refused since session 25) and
 * the exploratory test's repro (`é`). The largest JSON and base64 bodies (an array of `1e20`) are
 * checked in test/unit/verify-default-body-limit.test.ts: Herald takes seconds to accept that one.
 */
const { 'U+FFFD in a string': replacement, 'é in a string': eAcute } = largestEventRequests(L);
const REQUESTS = { 'U+FFFD in a string': replacement!, 'é in a string': eAcute! };

interface Received {
  scheme: string;
  status: number;
  bytes: number;
  id: string | null;
  error?: string;
}

let herald: HeraldProcess;
let receiver: Server;
let receiverUrl: string;
let projectId: string;
const secrets = new Map<string, string>();
const received: Received[] = [];

const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
  call<T>(herald.url, TOKEN, method, path, body);

before(async () => {
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
  receiver = createServer(async (req, res) => {
    const scheme = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
    try {
      // The defaults: no maxBodyBytes.
      const webhook = await verifyNodeRequest(req, {
        scheme: scheme as SignatureScheme,
        secret: secrets.get(scheme),
      });
      received.push({ scheme, status: 204, bytes: webhook.body.length, id: webhook.id });
      res.writeHead(204).end();
    } catch (error) {
      const status = error instanceof WebhookVerificationError ? error.status : 500;
      received.push({ scheme, status, bytes: -1, id: null, error: String(error) });
      if (status === 500) res.writeHead(500).end();
      else sendVerificationError(res, error);
    }
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'body-limit' });
  projectId = project.body.id;
  for (const scheme of SCHEMES) {
    const created = await api<{ secret: string }>('POST', `/api/v1/projects/${projectId}/endpoints`, {
      url: `${receiverUrl}/${scheme}`,
      signature: { scheme },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    secrets.set(scheme, created.body.secret);
  }
});
after(async () => {
  receiver?.closeAllConnections();
  receiver?.close();
  await herald?.dispose();
});

test('events of HERALD_MAX_BODY_BYTES, delivered up to 3x larger, pass the receiver SDK’s default limit', async () => {
  const eventIds: string[] = [];
  for (const [name, body] of Object.entries(REQUESTS)) {
    assert.ok(body.length <= L && body.length > L - 8, `${name}: ${body.length} bytes`);
    const response = await fetch(`${herald.url}/api/v1/projects/${projectId}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: new Uint8Array(body),
    });
    const answer = (await response.json()) as { id: string };
    assert.equal(response.status, 202, `${name}: ${JSON.stringify(answer).slice(0, 300)}`);
    eventIds.push(answer.id);
  }

  const expected = eventIds.length * SCHEMES.length;
  const deadline = Date.now() + 30_000;
  while (received.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const refused = received.filter((r) => r.status !== 204);
  assert.deepEqual(refused, [], 'every delivery verified on its first attempt');
  assert.equal(received.length, expected);

  const smallest = (scheme: string) =>
    Math.min(...received.filter((r) => r.scheme === scheme).map((r) => r.bytes));
  const largest = (scheme: string) =>
    Math.max(...received.filter((r) => r.scheme === scheme).map((r) => r.bytes));
  for (const scheme of SCHEMES) assert.ok(smallest(scheme) > L, `${scheme}: ${smallest(scheme)}`);
  assert.ok(largest('sha256-body') > (4 / 3) * L, `sha256-body: ${largest('sha256-body')}`);
  assert.ok(largest('hmac-sha1-url') > 3 * L - 200, `hmac-sha1-url: ${largest('hmac-sha1-url')}`);

  // Herald recorded them as delivered: nothing left to retry.
  for (const id of eventIds) {
    let statuses: string[] = [];
    for (let i = 0; i < 100; i++) {
      const event = await api<{ deliveries: { status: string }[] }>(
        'GET',
        `/api/v1/projects/${projectId}/events/${id}`,
      );
      statuses = event.body.deliveries.map((d) => d.status);
      if (statuses.every((s) => s === 'succeeded')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(
      statuses,
      SCHEMES.map(() => 'succeeded'),
    );
  }
});
