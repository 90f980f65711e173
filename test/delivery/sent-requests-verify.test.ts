/**
 * What Herald's sender really puts on the wire verifies with `@herald/verify`: every scheme,
 * envelope and method, built by `buildRequest` and sent by `createSender` to a node:http receiver
 * on loopback that checks it with `verifyNodeRequest` (URL rebuilt from Host and request target).
 * The endpoint URLs include the awkward ones: a query with repeated and encoded keys, and an empty
 * query (`…/hook?`), which HTTP clients do not send.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { verifyNodeRequest } from '../../packages/verify/src/adapters/node.ts';
import { SIGNATURE_SCHEMES, type SignatureScheme } from '../../packages/verify/src/index.ts';
import { createSender, type Sender } from '../../src/delivery/sender.ts';
import { buildRequest } from '../../src/domain/build-request.ts';
import type { Envelope, HttpMethod } from '../../src/domain/types.ts';

const SECRETS = [
  'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
  'whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=',
];
const ENVELOPES: Envelope[] = ['standard', 'event-data', 'raw'];
const METHODS: HttpMethod[] = ['POST', 'PUT', 'PATCH', 'GET'];
const PATHS = ['/hook', '/hook?', '/hook?#fragment', '/hook?a=1&a=2&b=%7E+c'];

interface Verdict {
  url: string;
  body: string;
  error?: string;
}

let receiver: Server;
let base: string;
let sender: Sender;
/** The scheme the receiver checks the next request with, and what it concluded. */
let expecting: SignatureScheme = 'standard';
let verdict: Verdict | null = null;

before(async () => {
  receiver = createServer(async (req, res) => {
    try {
      // The receiver knows the secrets in the other order: any valid one may have signed.
      const webhook = await verifyNodeRequest(req, { scheme: expecting, secrets: [...SECRETS].reverse() });
      verdict = { url: req.url ?? '', body: Buffer.from(webhook.body).toString('utf8') };
    } catch (error) {
      verdict = { url: req.url ?? '', body: '', error: String(error) };
    }
    res.writeHead(204).end();
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  sender = createSender({ allowNetworks: ['127.0.0.0/8'], maxResponseBytes: 1024, userAgent: 'test' });
});
after(async () => {
  await sender?.close();
  receiver?.close();
});

test('every scheme, envelope and method, to every URL shape: the request sent verifies', async () => {
  const now = Date.now();
  const failures: string[] = [];
  for (const scheme of SIGNATURE_SCHEMES)
    for (const method of METHODS)
      for (const envelope of ENVELOPES)
        for (const path of PATHS) {
          if (scheme === 'sha256-body' && method === 'GET') continue; // refused by endpoint validation
          const built = buildRequest({
            event: {
              id: 'evt_sent_requests',
              projectId: 'prj_1',
              type: 'player.joined',
              payload: { name: 'Zoë 😀', tags: ['a b', 'c&d=e'], n: 42 },
              test: false,
              idempotencyKey: null,
              callbackUrl: null,
              createdAt: now - 1000,
            },
            url: `${base}${path}`,
            endpoint: { method, headers: {}, envelope, signature: { scheme } },
            secrets: SECRETS.map((secret) => ({ secret })),
            now,
          });
          expecting = scheme;
          verdict = null;
          const result = await sender.send({ ...built, timeoutMs: 5_000 });
          const label = `${scheme} ${method} ${envelope} ${path}`;
          assert.equal(result.response?.status, 204, `${label}: ${JSON.stringify(result.error)}`);
          const seen = verdict as Verdict | null;
          assert.ok(seen, label);
          if (seen.error) failures.push(`${label} (arrived as ${seen.url}): ${seen.error}`);
          else assert.equal(seen.body, built.body ?? '', label);
        }
  assert.deepEqual(failures, []);
});
