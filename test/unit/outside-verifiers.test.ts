/**
 * Requests built by buildRequest are accepted by verifiers Herald did not write: the Standard
 * Webhooks and Svix libraries, Stripe's constructEvent, @octokit/webhooks-methods, and receivers
 * written exactly as the seed pages tell their customers to write them (GamePush's split + SHA-256,
 * WePlaytestGames' Express and Flask handlers, PushPushGo's HMAC-SHA1 of URL and POST parameters),
 * the last ones over real HTTP on loopback. Each verifier must also reject a tampered request, so
 * a verifier that accepted anything could not pass.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import express from 'express';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import { verifyWebhook } from '../../packages/verify/src/index.ts';
import { buildRequest } from '../../src/domain/build-request.ts';
import type { BuildRequestInput, BuiltRequest } from '../../src/domain/build-request-types.ts';
import { generateSecret } from '../../src/domain/secret.ts';
import type { Endpoint, HeraldEvent, Json } from '../../src/domain/types.ts';

const event: HeraldEvent = {
  id: 'evt_01j0outsideverifiers000',
  projectId: 'prj_1',
  type: 'slot.submitted',
  payload: { slotId: 'slot_8f2k', playtestId: 'pt_77', note: 'ünïcödé & spaces' },
  test: false,
  idempotencyKey: null,
  callbackUrl: null,
  createdAt: Date.now() - 1000,
};

/** Built at the real current time: these verifiers read the clock themselves. */
function build(
  endpoint: Partial<Pick<Endpoint, 'method' | 'headers' | 'envelope' | 'signature'>>,
  secrets: string[],
  url = 'https://receiver.example/webhooks',
  payload: Json = event.payload,
): BuiltRequest {
  const input: BuildRequestInput = {
    event: { ...event, payload },
    url,
    endpoint: {
      method: 'POST',
      headers: {},
      envelope: 'standard',
      signature: { scheme: 'standard' },
      ...endpoint,
    },
    secrets: secrets.map((secret) => ({ secret })),
    now: Date.now(),
  };
  return buildRequest(input);
}

function tamper(body: string | null): string {
  return (body ?? '').replace('slot_8f2k', 'slot_9999');
}

async function send(request: BuiltRequest): Promise<{ status: number; body: string }> {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  return { status: response.status, body: await response.text() };
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('standard: Standard Webhooks and Svix libraries', () => {
  const secret = generateSecret();
  const old = generateSecret();

  test('standardwebhooks Webhook.verify accepts it, with either secret during a rotation', () => {
    const request = build({}, [secret, old]);
    for (const key of [secret, old]) {
      const payload = new StandardWebhook(key).verify(request.body ?? '', request.headers);
      assert.deepEqual(payload, JSON.parse(request.body ?? ''));
    }
    assert.throws(() => new StandardWebhook(secret).verify(tamper(request.body), request.headers));
    assert.throws(() => new StandardWebhook(generateSecret()).verify(request.body ?? '', request.headers));
  });

  test('svix Webhook.verify accepts it, including an imported 24-byte Svix secret', () => {
    const imported = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    for (const key of [secret, imported]) {
      const request = build({ envelope: 'event-data', method: 'PUT' }, [key]);
      assert.deepEqual(
        new SvixWebhook(key).verify(request.body ?? '', request.headers),
        JSON.parse(request.body ?? ''),
      );
      assert.throws(() => new SvixWebhook(key).verify(tamper(request.body), request.headers));
    }
  });
});

describe('stripe: Stripe SDK', () => {
  test('Stripe.webhooks.constructEvent accepts it with each secret of a rotation', () => {
    const secrets = ['whsec_stripe_style_0123456789abcdef', generateSecret()];
    const request = build({ signature: { scheme: 'stripe' }, envelope: 'raw' }, secrets);
    const header = request.headers['stripe-signature'] ?? '';
    for (const secret of secrets) {
      const parsed = Stripe.webhooks.constructEvent(request.body ?? '', header, secret);
      assert.deepEqual(parsed, JSON.parse(request.body ?? ''));
    }
    assert.throws(() => Stripe.webhooks.constructEvent(tamper(request.body), header, secrets[0] ?? ''));
  });
});

describe('github: @octokit/webhooks-methods', () => {
  test('verify accepts the newest secret', async () => {
    const secret = "It's a Secret to Everybody";
    const request = build({ signature: { scheme: 'github' }, envelope: 'raw' }, [secret, 'older secret']);
    const signature = request.headers['x-hub-signature-256'] ?? '';
    assert.equal(await octokitVerify(secret, request.body ?? '', signature), true);
    assert.equal(await octokitVerify(secret, tamper(request.body), signature), false);
    assert.equal(await octokitVerify('older secret', request.body ?? '', signature), false);
  });
});

/**
 * A GET carries no body and its signatures cover the empty one (signatures.md "Envelopes and
 * methods"). The libraries that take the body as an argument refuse an empty one before checking
 * anything (docs/signatures.md says which, for each scheme); @herald/verify takes the request.
 */
describe('GET: the empty body', () => {
  const secret = 'whsec_stripe_style_0123456789abcdef';
  const verifies = (scheme: 'standard' | 'stripe' | 'github', request: BuiltRequest, key: string) =>
    verifyWebhook({ scheme, payload: '', headers: request.headers, secret: key, method: 'GET' }).timestamp;

  test('svix, Stripe.webhooks.constructEvent and octokit throw on it; standardwebhooks and @herald/verify accept it', async () => {
    const standardSecret = generateSecret();
    const standard = build({ method: 'GET' }, [standardSecret]);
    assert.equal(standard.body, null);
    assert.throws(
      () => new SvixWebhook(standardSecret).verify('', standard.headers),
      /Unexpected end of JSON/,
    );
    assert.doesNotThrow(() => new StandardWebhook(standardSecret).verify('', standard.headers));
    assert.notEqual(verifies('standard', standard, standardSecret), null);

    const stripe = build({ method: 'GET', signature: { scheme: 'stripe' } }, [secret]);
    const stripeHeader = stripe.headers['stripe-signature'] ?? '';
    assert.throws(
      () => Stripe.webhooks.constructEvent('', stripeHeader, secret),
      /No webhook payload was provided/,
    );
    assert.notEqual(verifies('stripe', stripe, secret), null);

    const github = build({ method: 'GET', signature: { scheme: 'github' } }, [secret]);
    const githubHeader = github.headers['x-hub-signature-256'] ?? '';
    await assert.rejects(octokitVerify(secret, '', githubHeader), /eventPayload & signature required/);
    // By hand, the HMAC of the empty body: what docs/signatures.md says to do instead.
    assert.equal(githubHeader, `sha256=${createHmac('sha256', secret).update('').digest('hex')}`);
    assert.equal(verifies('github', github, secret), null); // no timestamp; verified, not thrown
    assert.throws(() => verifies('github', github, 'another secret'), /No matching signature/);
  });
});

describe('sha256-body: the GamePush recipe', () => {
  /** The seed page's JavaScript, with `.digest('hex')` (the page compares the Hash object itself). */
  function gamePushReceiver(body: string, secretKey: string): unknown {
    const [base64payload, signature] = body.split('.');
    const signData = `${base64payload}_${secretKey}`;
    const hash = createHash('sha256').update(signData).digest('hex');
    if (hash !== signature) throw new Error('Bad request');
    return JSON.parse(atob(base64payload ?? ''));
  }

  test('split on ".", SHA-256 of "<base64>_<secret>", then JSON.parse(atob(...))', () => {
    const secret = 'Be$T_Pr0jeCt';
    const ascii: Json = { event: 'GivePlayerReward', player: { id: 1820283 }, result: { rewardId: 685 } };
    const request = build(
      { signature: { scheme: 'sha256-body' }, envelope: 'raw' },
      [secret],
      undefined,
      ascii,
    );
    assert.equal(request.headers['content-type'], 'text/plain');
    assert.deepEqual(gamePushReceiver(request.body ?? '', secret), ascii);
    assert.throws(() => gamePushReceiver(request.body ?? '', 'another key'), /Bad request/);
    const [encoded, signature] = (request.body ?? '').split('.');
    const forged = `${btoa(JSON.stringify({ ...(ascii as object), forged: true }))}.${signature}`;
    assert.throws(() => gamePushReceiver(forged, secret), /Bad request/);
    assert.ok(encoded);
  });

  // GamePush players are named in any script; the page's atob reads each byte as one character, so
  // only JSON text that is all ASCII (\uXXXX escapes) reaches its receivers unchanged.
  test("non-ASCII payloads reach the page's atob recipe unchanged, and a UTF-8 decoder too", () => {
    const secret = 'Be$T_Pr0jeCt';
    const names: Json = {
      event: 'GivePlayerReward',
      player: { id: 1820283, name: 'Зоя Ёлкина', avatar: 'Zoë 🎮 €', credentials: 'ß\u007f\u0080' },
      note: event.payload,
    };
    const request = build(
      { signature: { scheme: 'sha256-body' }, envelope: 'raw' },
      [secret],
      undefined,
      names,
    );
    assert.deepEqual(gamePushReceiver(request.body ?? '', secret), names);
    const [encoded] = (request.body ?? '').split('.');
    assert.deepEqual(JSON.parse(Buffer.from(encoded ?? '', 'base64').toString('utf8')), names);
  });
});

describe('hmac-sha256: the WePlaytestGames Express recipe over HTTP', () => {
  const secret = 'wpg_whsec_3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e';
  let server: Server;
  let base: string;
  const received: { event: string; slotId: string }[] = [];

  before(async () => {
    // The seed page's handler, typed: express.json with a verify hook that keeps the raw body.
    type RawRequest = express.Request & { rawBody?: Buffer };
    const app = express();
    app.use(
      express.json({
        verify: (req, _res, buf) => {
          (req as RawRequest).rawBody = buf;
        },
      }),
    );
    app.post('/webhooks/wpg', (req, res) => {
      const signature = req.headers['x-wpg-signature'] as string;
      const timestamp = req.headers['x-wpg-timestamp'] as string;
      const age = Math.floor(Date.now() / 1000) - Number.parseInt(timestamp, 10);
      if (age > 300) {
        res.status(401).json({ error: 'Stale timestamp' });
        return;
      }
      const expected = createHmac('sha256', secret)
        .update(`${timestamp}.${(req as RawRequest).rawBody}`)
        .digest('hex');
      if (
        signature.length !== expected.length ||
        !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
      ) {
        res.status(401).json({ error: 'Invalid signature' });
        return;
      }
      const { event: name, data } = req.body as { event: string; data: { slotId: string } };
      received.push({ event: name, slotId: data.slotId });
      res.status(200).json({ received: true });
    });
    server = createServer(app);
    base = await listen(server);
  });

  after(() => close(server));

  test('accepts X-WPG-Signature / X-WPG-Timestamp with the event-data envelope', async () => {
    const signature = {
      scheme: 'hmac-sha256' as const,
      signatureHeader: 'X-WPG-Signature',
      timestampHeader: 'X-WPG-Timestamp',
    };
    const request = build({ signature, envelope: 'event-data' }, [secret], `${base}/webhooks/wpg`);
    assert.deepEqual(await send(request), { status: 200, body: '{"received":true}' });
    assert.deepEqual(received, [{ event: 'slot.submitted', slotId: 'slot_8f2k' }]);

    const stale = buildRequest({
      event,
      url: `${base}/webhooks/wpg`,
      endpoint: { method: 'POST', headers: {}, envelope: 'event-data', signature },
      secrets: [{ secret }],
      now: Date.now() - 600_000,
    });
    assert.equal((await send(stale)).status, 401);
    assert.equal((await send({ ...request, body: tamper(request.body) })).status, 401);
    assert.equal(received.length, 1);
  });
});

describe('hmac-sha1-url: the PushPushGo recipe over HTTP', () => {
  const projectId = '5f3a2b1c9d8e7f6a5b4c3d2e';
  let server: Server;
  let base: string;
  const received: Record<string, string>[] = [];

  /** "The full URL with query string and all POST parameters", signed with HMAC-SHA1 and the project id. */
  async function ppgReceiver(req: IncomingMessage): Promise<number> {
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = `http://${req.headers.host}${req.url}`;
    const params = [...new URLSearchParams(body)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const data = url + params.map(([name, value]) => name + value).join('');
    const expected = createHmac('sha1', projectId).update(data).digest('base64');
    const signature = String(req.headers['x-ppg-signature'] ?? '');
    if (
      signature.length !== expected.length ||
      !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
    ) {
      return 401;
    }
    received.push(Object.fromEntries(params));
    return 200;
  }

  before(async () => {
    server = createServer((req, res) => {
      void ppgReceiver(req).then((status) => res.writeHead(status).end());
    });
    base = await listen(server);
  });

  after(() => close(server));

  test('accepts X-PPG-Signature keyed by the project id, POST form and GET', async () => {
    const signature = {
      scheme: 'hmac-sha1-url' as const,
      signatureHeader: 'X-PPG-Signature',
      key: projectId,
    };
    const payload: Json = { projectId, customId: 'player 42', ppgId: '65f0c1d2e3f4a5b6c7d8e9f0' };
    const post = build({ signature, envelope: 'raw' }, [], `${base}/ppg/webhook?source=herald`, payload);
    assert.equal((await send(post)).status, 200);
    assert.deepEqual(received.at(-1), payload);

    const get = build(
      { signature, envelope: 'raw', method: 'GET' },
      [],
      `${base}/ppg/webhook?source=herald`,
      payload,
    );
    assert.equal((await send(get)).status, 200);

    assert.equal((await send({ ...post, body: (post.body ?? '').replace('player', 'playe') })).status, 401);
    const wrongKey = build(
      { signature: { ...signature, key: 'other' }, envelope: 'raw' },
      [],
      `${base}/ppg/webhook`,
      payload,
    );
    assert.equal((await send(wrongKey)).status, 401);
    assert.equal(received.length, 2);
  });
});

const hasPython = spawnSync('python3', ['--version']).status === 0;

if (hasPython) {
  describe('a Python receiver (standard library, WePlaytestGames Flask recipe logic)', () => {
    const wpgSecret = 'wpg_whsec_python_receiver_secret';
    const ppgKey = 'ppg-project-id-for-python';
    let child: ChildProcess;
    let base: string;

    before(async () => {
      child = spawn('python3', ['-c', PYTHON_RECEIVER], {
        env: { ...process.env, WPG_WEBHOOK_SECRET: wpgSecret, PPG_PROJECT_ID: ppgKey },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [line] = (await once(child.stdout ?? child, 'data')) as [Buffer];
      base = `http://127.0.0.1:${line.toString().trim()}`;
    });

    after(async () => {
      child.kill();
      if (child.exitCode === null) await once(child, 'exit');
    });

    test('hmac-sha256 with X-WPG-* headers verifies in Python (hmac.compare_digest of the hex HMAC)', async () => {
      const signature = {
        scheme: 'hmac-sha256' as const,
        signatureHeader: 'X-WPG-Signature',
        timestampHeader: 'X-WPG-Timestamp',
      };
      const request = build({ signature, envelope: 'event-data' }, [wpgSecret], `${base}/webhooks/wpg`);
      assert.deepEqual(JSON.parse((await send(request)).body), {
        received: true,
        event: 'slot.submitted',
        slotId: 'slot_8f2k',
      });
      assert.equal((await send({ ...request, body: tamper(request.body) })).status, 401);
    });

    test('hmac-sha1-url verifies in Python (parse_qsl, sorted, name+value)', async () => {
      const signature = { scheme: 'hmac-sha1-url' as const, signatureHeader: 'X-PPG-Signature', key: ppgKey };
      const request = build({ signature, envelope: 'standard' }, [], `${base}/ppg?token=a%20b`);
      assert.equal((await send(request)).status, 200);
      assert.equal((await send({ ...request, body: tamper(request.body) })).status, 401);
    });
  });
}

const PYTHON_RECEIVER = `
import base64, hashlib, hmac, json, os, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl

class Handler(BaseHTTPRequestHandler):
    def reply(self, status, payload):
        data = json.dumps(payload, separators=(',', ':')).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        if self.path.startswith('/webhooks/wpg'):
            signature = self.headers.get('X-WPG-Signature')
            timestamp = self.headers.get('X-WPG-Timestamp')
            secret = os.environ['WPG_WEBHOOK_SECRET']
            age = int(time.time()) - int(timestamp)
            if age > 300:
                return self.reply(401, {'error': 'Stale timestamp'})
            expected = hmac.new(secret.encode(), f"{timestamp}.{body.decode()}".encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(signature, expected):
                return self.reply(401, {'error': 'Invalid signature'})
            payload = json.loads(body)
            return self.reply(200, {'received': True, 'event': payload['event'], 'slotId': payload['data']['slotId']})
        if self.path.startswith('/ppg'):
            url = 'http://' + self.headers['Host'] + self.path
            params = sorted(parse_qsl(body.decode(), keep_blank_values=True))
            message = url + ''.join(name + value for name, value in params)
            key = os.environ['PPG_PROJECT_ID'].encode()
            expected = base64.b64encode(hmac.new(key, message.encode(), hashlib.sha1).digest()).decode()
            if not hmac.compare_digest(self.headers.get('X-PPG-Signature', ''), expected):
                return self.reply(401, {'error': 'Invalid signature'})
            return self.reply(200, {'received': True})
        return self.reply(404, {})

    def log_message(self, *args):
        pass

server = HTTPServer(('127.0.0.1', 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
`;
