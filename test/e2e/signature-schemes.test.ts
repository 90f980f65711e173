/**
 * Every signature scheme, delivered by a running `herald serve` and checked by code no one here
 * wrote (standardwebhooks, svix, stripe, @octokit/webhooks-methods) or by the seed pages' own
 * recipes, with imported secrets and a rotation in progress.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';
import { type Hit, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-schemes-token-0123456789abcdef';
const PAYLOAD = { slotId: 'slot_42', player: { id: 1820283, name: 'Ana' }, amount: 4.99 };
type Body = Record<string, unknown> & { id: string };

let herald: HeraldProcess;
let receiver: ScriptedReceiver;
let projectId: string;

const api = <T = Body>(method: string, path: string, body?: unknown) =>
  call<T>(herald.url, TOKEN, method, path, body);

/** Creates an endpoint, optionally rotates its secret, sends one event; returns what arrived and the secrets. */
async function deliver(path: string, settings: Record<string, unknown>, options: { rotate?: boolean } = {}) {
  const created = await api<Body & { secret: string }>('POST', `/api/v1/projects/${projectId}/endpoints`, {
    url: `${receiver.url}${path}`,
    eventTypes: [`scheme.${path.slice(1).split('/')[0]}`],
    ...settings,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const secrets = [created.body.secret];
  if (options.rotate) {
    const rotated = await api<{ secret: string }>(
      'POST',
      `/api/v1/projects/${projectId}/endpoints/${created.body.id}/secret/rotate`,
      { graceSeconds: 600 },
    );
    assert.equal(rotated.status, 200);
    secrets.unshift(rotated.body.secret);
  }
  const before = receiver.hits.length;
  const sent = await api<Body>('POST', `/api/v1/projects/${projectId}/events`, {
    type: `scheme.${path.slice(1).split('/')[0]}`,
    payload: PAYLOAD,
  });
  assert.equal(sent.status, 202);
  const hits = await receiver.waitFor(before + 1);
  const hit = hits.find((h, i) => i >= before && h.url.startsWith(path));
  assert.ok(hit, `nothing arrived at ${path}`);
  return { hit, secrets, eventId: sent.body.id, endpointId: created.body.id };
}

const header = (hit: Hit, name: string) => String(hit.headers[name.toLowerCase()] ?? '');

before(async () => {
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
  receiver = await startScriptedReceiver();
  const p = await api('POST', '/api/v1/projects', { name: 'schemes' });
  projectId = p.body.id;
});
after(async () => {
  await receiver?.close();
  await herald?.dispose();
});

describe('signature schemes through a running Herald', () => {
  test('standard: standardwebhooks and svix verify; during rotation both secrets do', async () => {
    const imported = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const { hit, secrets } = await deliver('/standard', { secret: imported }, { rotate: true });
    assert.equal(secrets[1], imported);
    const headers = {
      'webhook-id': header(hit, 'webhook-id'),
      'webhook-timestamp': header(hit, 'webhook-timestamp'),
      'webhook-signature': header(hit, 'webhook-signature'),
    };
    for (const secret of secrets) {
      assert.deepEqual(
        (new StandardWebhook(secret).verify(hit.body, headers) as { data: unknown }).data,
        PAYLOAD,
      );
      assert.deepEqual(
        (new SvixWebhook(secret).verify(hit.body, headers) as { data: unknown }).data,
        PAYLOAD,
      );
    }
  });

  test('hmac-sha256 with X-WPG-* headers: WePlaytestGames’ Express recipe accepts it', async () => {
    const secret = 'wpg_whsec_imported_secret_value';
    const { hit } = await deliver('/wpg', {
      secret,
      envelope: 'event-data',
      signature: {
        scheme: 'hmac-sha256',
        signatureHeader: 'X-WPG-Signature',
        timestampHeader: 'X-WPG-Timestamp',
      },
    });
    // The seed page's handler, line for line.
    const signature = header(hit, 'x-wpg-signature');
    const timestamp = header(hit, 'x-wpg-timestamp');
    const age = Math.floor(Date.now() / 1000) - Number.parseInt(timestamp, 10);
    assert.ok(age <= 300);
    const expected = createHmac('sha256', secret).update(`${timestamp}.${hit.body}`).digest('hex');
    assert.ok(timingSafeEqual(Buffer.from(signature), Buffer.from(expected)));
    const { event, data } = JSON.parse(hit.body);
    assert.equal(event, 'scheme.wpg');
    assert.equal(data.slotId, 'slot_42');
  });

  test('stripe: Stripe.webhooks.constructEvent accepts every secret of a rotation', async () => {
    const { hit, secrets } = await deliver('/stripe', { signature: { scheme: 'stripe' } }, { rotate: true });
    for (const secret of secrets) {
      const parsed = Stripe.webhooks.constructEvent(
        hit.body,
        header(hit, 'stripe-signature'),
        secret,
      ) as unknown as {
        data: unknown;
      };
      assert.deepEqual(parsed.data, PAYLOAD);
    }
  });

  test('github: @octokit/webhooks-methods verifies X-Hub-Signature-256', async () => {
    const secret = 'imported-github-secret';
    const { hit } = await deliver('/github', { secret, signature: { scheme: 'github' } });
    assert.equal(await octokitVerify(secret, hit.body, header(hit, 'x-hub-signature-256')), true);
    assert.equal(await octokitVerify('another secret', hit.body, header(hit, 'x-hub-signature-256')), false);
  });

  test('sha256-body: GamePush’s base64 + SHA-256 check accepts it', async () => {
    const secretKey = 'Be$T_Pr0jeCt';
    const { hit } = await deliver('/gamepush', {
      secret: secretKey,
      envelope: 'raw',
      signature: { scheme: 'sha256-body' },
    });
    assert.match(header(hit, 'content-type'), /text\/plain/);
    const [base64payload, signature] = hit.body.split('.');
    const hash = createHash('sha256').update(`${base64payload}_${secretKey}`).digest('hex');
    assert.equal(hash, signature);
    assert.deepEqual(JSON.parse(Buffer.from(base64payload!, 'base64').toString('utf8')), PAYLOAD);
  });

  test('hmac-sha1-url: PushPushGo’s HMAC-SHA1 over URL and parameters, keyed by the project id', async () => {
    const ppgProjectId = '5f1c2e9a7b3d';
    const { hit } = await deliver('/ppg?source=herald', {
      envelope: 'raw',
      signature: { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: ppgProjectId },
    });
    assert.match(header(hit, 'content-type'), /application\/x-www-form-urlencoded/);
    const params = [...new URLSearchParams(hit.body)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signed = `${receiver.url}${hit.url}${params.map(([k, v]) => k + v).join('')}`;
    const expected = createHmac('sha1', ppgProjectId).update(signed).digest('base64');
    assert.equal(header(hit, 'x-ppg-signature'), expected);
    assert.equal(new URLSearchParams(hit.body).get('slotId'), 'slot_42');
  });

  test('none: GamerSafer-style unsigned JSON to a secret path', async () => {
    const token = 'c2VjcmV0LXBhdGgtdG9rZW4';
    const { hit } = await deliver(`/gamersafer/${token}`, { signature: { scheme: 'none' }, envelope: 'raw' });
    assert.equal(hit.url, `/gamersafer/${token}`);
    assert.equal(header(hit, 'webhook-signature'), '');
    assert.deepEqual(JSON.parse(hit.body), PAYLOAD);
  });

  test('GET with custom headers (Gamify): fields in the query string, headers added, signature over the empty body', async () => {
    const { hit, secrets, eventId } = await deliver('/gamify', {
      method: 'GET',
      headers: { 'X-Api-Key': 'zapier-key-123' },
    });
    assert.equal(hit.method, 'GET');
    assert.equal(hit.body, '');
    assert.equal(header(hit, 'x-api-key'), 'zapier-key-123');
    const query = new URL(hit.url, receiver.url).searchParams;
    assert.equal(query.get('type'), 'scheme.gamify');
    assert.deepEqual(JSON.parse(query.get('data') ?? 'null'), PAYLOAD);
    // The signature covers the empty body. (A custom header named like a signature header is
    // refused by the API and dropped at send: test/api/endpoints.test.ts, build-request.test.ts.)
    new StandardWebhook(secrets[0]!).verify('', {
      'webhook-id': eventId,
      'webhook-timestamp': header(hit, 'webhook-timestamp'),
      'webhook-signature': header(hit, 'webhook-signature'),
    });
  });
});
