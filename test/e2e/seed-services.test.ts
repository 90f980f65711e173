/**
 * Each of the five services Herald is built from (DESIGN.md, the pages in seeds/), run on Herald the
 * way its operator would: the service's catalog from examples/catalogs/ imported, each endpoint set
 * up as docs/signatures.md's "Moving a provider's receivers onto Herald" says, and the page's own
 * examples sent, live and as a test send. Every receiver is written from the service's page, not
 * from Herald's SDK: its code snippet ported as it is (GamePush, WePlaytestGames, GamerSafer's
 * Express handler), or the page's description of the signature (PushPushGo). A delivery counts only
 * when that receiver accepted it, and Herald's history must say so (attempt succeeded, status 200).
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';
import { eventually } from './scripted-receiver.ts';

const TOKEN = 'e2e-seed-services-token-0123456789';
const CATALOGS = join(import.meta.dirname, '../../examples/catalogs');
type Body = Record<string, unknown> & { id: string };
interface Delivery {
  endpointId: string | null;
  url: string;
  status: string;
  attempts: number;
}

let herald: HeraldProcess;
let server: Server;
let base: string;
/** What each receiver accepted (verified, and parsed as its page says), by receiver. */
const accepted: Record<string, unknown[]> = {};
/** Every request that reached a receiver, accepted or not, by path. */
const arrived: { path: string; method: string; headers: IncomingMessage['headers'] }[] = [];

const api = <T = Body>(method: string, path: string, body?: unknown) =>
  call<T>(herald.url, TOKEN, method, path, body);

function keep(receiver: string, value: unknown): void {
  accepted[receiver] = [...(accepted[receiver] ?? []), value];
}

/** The page's own secrets and keys (GamePush's sample secret key is `Be$T_Pr0jeCt`). */
const GAMEPUSH_SECRET = 'Be$T_Pr0jeCt';
const WPG_SECRET = 'wpg_whsec_9f8e7d6c5b4a39281706';
const PPG_PROJECT_ID = '5f3c9a1e2b4d6f0012ab34cd';
const GAMERSAFER_PATH_TOKEN = 'q7Xk2v9RbT4mLw8NcY3s';
const GAMIFY_TOKEN = 'Bearer zap_hook_5c1d2e3f';
/** A WePlaytestGames endpoint, as signatures.md's "Moving a provider's receivers onto Herald" says. */
const WPG_SETTINGS = {
  envelope: 'event-data',
  signature: {
    scheme: 'hmac-sha256',
    signatureHeader: 'X-WPG-Signature',
    timestampHeader: 'X-WPG-Timestamp',
  },
};
/** WePlaytestGames: "Save the webhook secret from the response" (set when that endpoint is made). */
let wpgSavedSecret = '';

/** Receivers for all five services on one loopback server (Express 5, as the pages use). */
function receivers(): express.Express {
  const app = express();
  app.use((req, _res, next) => {
    arrived.push({ path: req.path, method: req.method, headers: req.headers });
    next();
  });

  // GamePush: the page's JavaScript, with its hash compared as the hex digest (the page compares
  // the Hash object itself, which can never equal a string) and `res.send('Bad request')`: GamePush's
  // receivers answer 200 either way, so "accepted" is what they kept.
  app.post('/gamepush/webhook', express.text({ type: () => true }), (req, res) => {
    const body = req.body as string;
    const [base64payload, signature] = body.split('.');
    const signData = `${base64payload}_${GAMEPUSH_SECRET}`;
    const hash = createHash('sha256').update(signData).digest('hex');
    if (hash !== signature) {
      res.send('Bad request');
      return;
    }
    // atob, as the page has it: the examples are ASCII.
    keep('gamepush', { payload: JSON.parse(atob(base64payload ?? '')), test: req.headers['webhook-test'] });
    res.send('OK');
  });

  // WePlaytestGames: the page's Express handler, line for line (types added), with the secret
  // process.env.WPG_WEBHOOK_SECRET would hold: the one an operator imported, or the one saved from
  // the registration's response (wpg-new).
  const wpgHandler = (receiver: string, secretOf: () => string) => [
    express.json({
      verify: (req: IncomingMessage & { rawBody?: Buffer }, _res: unknown, buf: Buffer) => {
        req.rawBody = buf;
      },
    }),
    (req: express.Request, res: express.Response) => {
      const signature = req.headers['x-wpg-signature'] as string;
      const timestamp = req.headers['x-wpg-timestamp'] as string;
      const secret = secretOf();
      const age = Math.floor(Date.now() / 1000) - Number.parseInt(timestamp, 10);
      if (age > 300) {
        res.status(401).json({ error: 'Stale timestamp' });
        return;
      }
      const expected = createHmac('sha256', secret)
        .update(`${timestamp}.${(req as IncomingMessage & { rawBody?: Buffer }).rawBody}`)
        .digest('hex');
      if (!timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
        res.status(401).json({ error: 'Invalid signature' });
        return;
      }
      const { event, data } = req.body as { event: string; data: Record<string, unknown> };
      keep(receiver, { event, data, timestamp });
      res.status(200).json({ received: true });
    },
  ];
  app.post('/webhooks/wpg', ...wpgHandler('wpg', () => WPG_SECRET));
  app.post('/webhooks/wpg-new', ...wpgHandler('wpg-new', () => wpgSavedSecret));
  // Down for its first request, then the page's handler: a retry must verify on its own.
  let flakyRequests = 0;
  const flaky = wpgHandler('wpg-flaky', () => WPG_SECRET);
  app.post(
    '/webhooks/wpg-flaky',
    (req, res, next) => {
      flakyRequests += 1;
      keep('wpg-flaky-timestamps', req.headers['x-wpg-timestamp']);
      if (flakyRequests === 1) res.status(503).json({ error: 'down for maintenance' });
      else next();
    },
    ...flaky,
  );
  app.post('/webhooks/wpg-down', (_req, res) => {
    res.status(503).json({ error: 'down for maintenance' });
  });

  // PushPushGo: "the full URL with query string and all POST parameters", signed with HMAC-SHA1
  // and the project id as key (the page gives no code; this follows its sentence).
  app.post('/ppg/webhook', express.urlencoded({ extended: false }), (req, res) => {
    const params = Object.entries(req.body as Record<string, string>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    const fullUrl = `${req.protocol}://${req.get('host')}${req.originalUrl}`;
    const data = fullUrl + params.map(([name, value]) => name + value).join('');
    const expected = createHmac('sha1', PPG_PROJECT_ID).update(data).digest('base64');
    if (req.get('X-PPG-Signature') !== expected) {
      res.sendStatus(401);
      return;
    }
    keep('ppg', req.body);
    res.sendStatus(200);
  });

  // GamerSafer: the page's minimal Express handler, behind a secret path token, checking the
  // event name as the page's Security section says.
  const gamerSaferEvents = [
    'guildInvite',
    'leaveGuild',
    'documentValidated',
    'documentRejected',
    'playerVerification',
  ];
  const gamerSafer = (receiver: string) => (req: express.Request, res: express.Response) => {
    const body = req.body as { event?: string } | undefined;
    if (!body || !gamerSaferEvents.includes(String(body.event))) {
      res.sendStatus(400);
      return;
    }
    res.sendStatus(200); // Acknowledge immediately
    keep(receiver, body); // Handle async
  };
  app.post(`/webhooks/${GAMERSAFER_PATH_TOKEN}/gamersafer`, express.json(), gamerSafer('gamersafer-guild'));
  app.post('/guilds/invite-callback', express.json(), gamerSafer('gamersafer-callback'));

  // Gamify: a Zapier-style catch hook that takes the method it was set up with and checks the
  // authentication header the Gamify webhook was given.
  app.all('/hooks/catch/gamify', express.json(), (req, res) => {
    if (req.get('authorization') !== GAMIFY_TOKEN) {
      res.sendStatus(401);
      return;
    }
    keep('gamify', { method: req.method, query: req.query, body: req.body });
    res.status(200).json({ status: 'success' });
  });
  return app;
}

/** PUTs every event type of examples/catalogs/<file> into the catalog; returns the file. */
async function importCatalog(file: string) {
  const catalog = JSON.parse(readFileSync(join(CATALOGS, file), 'utf8')) as {
    eventTypes: { name: string; example?: unknown }[];
  };
  for (const { name, ...entry } of catalog.eventTypes) {
    const put = await api('PUT', `/api/v1/event-types/${encodeURIComponent(name)}`, entry);
    assert.ok(put.status === 200 || put.status === 201, `${name}: ${JSON.stringify(put.body)}`);
  }
  return catalog;
}

async function project(uid: string): Promise<string> {
  const created = await api('POST', '/api/v1/projects', { name: uid, uid });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return uid;
}

async function endpoint(projectUid: string, settings: Record<string, unknown>): Promise<Body> {
  const created = await api('POST', `/api/v1/projects/${projectUid}/endpoints`, settings);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

async function send(projectUid: string, event: Record<string, unknown>): Promise<string> {
  const sent = await api('POST', `/api/v1/projects/${projectUid}/events`, event);
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  return sent.body.id;
}

async function testSend(projectUid: string, endpointId: string, eventType: string): Promise<string> {
  const sent = await api<{ eventId: string }>(
    'POST',
    `/api/v1/projects/${projectUid}/endpoints/${endpointId}/test`,
    { eventType },
  );
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  return sent.body.eventId;
}

/** Waits until every delivery of the event is settled; returns them. */
async function settled(projectUid: string, eventId: string): Promise<Delivery[]> {
  return eventually(
    async () => {
      const got = await api<{ deliveries: Delivery[] }>(
        'GET',
        `/api/v1/projects/${projectUid}/events/${eventId}`,
      );
      const deliveries = got.body.deliveries;
      return deliveries.every((d) => d.status !== 'pending') && deliveries;
    },
    15_000,
    `the deliveries of ${eventId}`,
  );
}

/** The event's attempts as Herald's history has them: outcome and the receiver's status. */
async function history(projectUid: string, eventId: string) {
  const got = await api<{
    data: { outcome: string; response: { status: number } | null; endpointId: string }[];
  }>('GET', `/api/v1/projects/${projectUid}/events/${eventId}/attempts`);
  return got.body.data.map((a) => ({ outcome: a.outcome, status: a.response?.status ?? null }));
}

before(async () => {
  server = createServer(receivers());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
});

after(async () => {
  server?.closeAllConnections();
  server?.close();
  await herald?.dispose();
});

describe('the five seed services on Herald, checked by receivers written from their pages', () => {
  test('GamePush: base64 JSON + SHA-256, every event of its table, the Dev box takes test requests', async () => {
    const catalog = await importCatalog('gamepush.json');
    const names = catalog.eventTypes.map((t) => t.name);
    assert.equal(names.length, 33);
    for (const name of [
      'PurchasePlayerPurchase',
      'GivePlayerReward',
      'UploadPlayerImage',
      'PlayerSendMessage',
    ]) {
      assert.ok(names.includes(name), name);
    }
    const p = await project('gamepush-game');
    const settings = {
      signature: { scheme: 'sha256-body' },
      secret: GAMEPUSH_SECRET,
      envelope: 'raw',
      eventTypes: ['GivePlayerReward', 'PurchasePlayerPurchase'],
    };
    const live = await endpoint(p, { url: `${base}/gamepush/webhook`, ...settings });
    const dev = await endpoint(p, { url: `${base}/gamepush/webhook?dev=1`, dev: true, ...settings });

    // The page's example, as GamePush sends it (nanosecond times, `result` of its operation).
    const reward = {
      event: 'GivePlayerReward',
      player: {
        id: 1820283,
        name: '',
        avatar: '',
        projectId: 4,
        credentials: '',
        platformType: 'NONE',
        active: true,
        removed: false,
        test: false,
        modifiedAt: '2024-04-26T11:34:23.415923998Z',
      },
      result: { __typename: 'PlayerReward', countAccepted: 0, countTotal: 1, rewardId: 685 },
      time: '2024-04-26T11:34:23.415923998Z',
    };
    const liveId = await send(p, { type: 'GivePlayerReward', payload: reward });
    // A player named in another script: the page's JSON.parse(atob(…)) must read it as sent.
    const named = { ...reward, player: { ...reward.player, name: 'Зоя Ёлкина', avatar: 'Zoë 🎮' } };
    const namedId = await send(p, { type: 'GivePlayerReward', payload: named });
    const testId = await send(p, { type: 'GivePlayerReward', payload: reward, test: true });
    const sendId = await testSend(p, live.id, 'PurchasePlayerPurchase');
    for (const id of [liveId, namedId, testId, sendId]) {
      for (const delivery of await settled(p, id)) assert.equal(delivery.status, 'succeeded');
      for (const attempt of await history(p, id))
        assert.deepEqual(attempt, { outcome: 'succeeded', status: 200 });
    }
    const kept = accepted.gamepush ?? [];
    // Live: both endpoints; test: the Dev one only; the test send: the endpoint it was sent to.
    assert.equal(kept.length, 6);
    // In any order: the four are in flight together.
    const byText = (values: unknown[]) => values.map((v) => JSON.stringify(v)).sort();
    assert.deepEqual(
      byText(
        kept
          .filter((k) => (k as { test?: string }).test === undefined)
          .map((k) => (k as { payload: unknown }).payload),
      ),
      byText([reward, reward, named, named]),
    );
    const tests = kept.filter((k) => (k as { test?: string }).test === 'true') as {
      payload: { event: string };
    }[];
    assert.deepEqual(tests.map((k) => k.payload.event).sort(), [
      'GivePlayerReward',
      'PurchasePlayerPurchase',
    ]);
    const devHits = arrived.filter(
      (a) => a.path === '/gamepush/webhook' && a.headers['webhook-test'] === 'true',
    );
    assert.equal(devHits.length, 2);
    const devDeliveries = await settled(p, testId);
    assert.deepEqual(
      devDeliveries.map((d) => d.endpointId),
      [dev.id],
    );
  });

  test('WePlaytestGames: the Express handler accepts live events and the test call; 5 s timeout, disabled after 10 failures', async () => {
    await importCatalog('weplaytestgames.json');
    const p = await project('wpg-studio');
    const settings = {
      ...WPG_SETTINGS,
      secret: WPG_SECRET,
      eventTypes: ['slot.submitted', 'slot.accepted', 'slot.rejected'],
    };
    const wpg = await endpoint(p, { url: `${base}/webhooks/wpg`, ...settings });
    assert.equal(wpg.timeoutMs, 5000, 'the page asks receivers to answer within 5 seconds');
    const submitted = {
      slotId: 'slot_8f2k1q',
      gameId: 'game_41xz',
      playtesterId: 'pt_77ab',
      videoUrl: 'https://v.example/1',
    };
    const liveId = await send(p, { type: 'slot.submitted', payload: submitted });
    // Not in the endpoint's filter ("events": [...] when registering): not sent.
    const otherId = await send(p, {
      type: 'payment.completed',
      payload: { paymentId: 'pay_1', amount: 4999 },
    });
    // The live event first, then the test send: the receiver keeps them in the order they arrive.
    for (const delivery of await settled(p, liveId)) assert.equal(delivery.status, 'succeeded');
    const testId = await testSend(p, wpg.id, 'slot.accepted');
    for (const id of [liveId, testId]) {
      for (const delivery of await settled(p, id)) assert.equal(delivery.status, 'succeeded');
      assert.deepEqual(await history(p, id), [{ outcome: 'succeeded', status: 200 }]);
    }
    assert.deepEqual((await settled(p, otherId)).length, 0);
    const kept = accepted.wpg as { event: string; data: { slotId: string } }[];
    assert.deepEqual(
      kept.map((k) => k.event),
      ['slot.submitted', 'slot.accepted'],
    );
    assert.deepEqual(kept[0]?.data, submitted);
    assert.equal(kept[1]?.data.slotId, 'slot_8f2k1q');

    // "Webhooks are auto-disabled after 10 consecutive failures."
    const down = await endpoint(p, {
      url: `${base}/webhooks/wpg-down`,
      ...settings,
      eventTypes: ['slot.expired'],
      retrySchedule: Array(9).fill(0.05),
    });
    const failing = await send(p, { type: 'slot.expired', payload: { slotId: 'slot_x' } });
    const [delivery] = await settled(p, failing);
    assert.equal(delivery?.status, 'failed');
    assert.equal(delivery?.attempts, 10);
    const after10 = await api<{ status: string; consecutiveFailures: number }>(
      'GET',
      `/api/v1/projects/${p}/endpoints/${down.id}`,
    );
    assert.equal(after10.body.status, 'disabled');
    assert.equal(after10.body.consecutiveFailures, 10);
  });

  test("WePlaytestGames, its page's steps: register with events, save the secret from the response, test with no body; a retry is signed anew", async () => {
    await importCatalog('weplaytestgames.json');
    const p = await project('wpg-steps');
    const wpg = WPG_SETTINGS;
    // 2. Register: url and events, no secret given; 3. save the secret from the response.
    const created = await endpoint(p, {
      url: `${base}/webhooks/wpg-new`,
      ...wpg,
      eventTypes: ['slot.submitted', 'slot.accepted', 'slot.rejected'],
    });
    assert.equal(typeof created.secret, 'string');
    wpgSavedSecret = created.secret as string;
    // 4. Test: `curl -X POST …/test` with the key only, no body: the first filtered type's example.
    const tested = await api<{ eventId: string }>(
      'POST',
      `/api/v1/projects/${p}/endpoints/${created.id}/test`,
    );
    assert.equal(tested.status, 202, JSON.stringify(tested.body));
    const liveId = await send(p, {
      type: 'slot.rejected',
      payload: { slotId: 'slot_r1', reason: 'no audio' },
    });
    for (const id of [tested.body.eventId, liveId]) {
      await settled(p, id);
      assert.deepEqual(await history(p, id), [{ outcome: 'succeeded', status: 200 }]);
    }
    const kept = accepted['wpg-new'] as { event: string; data: { slotId: string } }[];
    assert.deepEqual(
      kept.map((k) => [k.event, k.data.slotId]).sort(), // the two may arrive in either order
      [
        ['slot.rejected', 'slot_r1'],
        ['slot.submitted', 'slot_8f2k1q'],
      ],
    );

    // Retried deliveries are signed at each attempt: the page's handler refuses a timestamp older
    // than 300 s, and Herald's retries come 5 s to 10 h apart.
    await endpoint(p, {
      url: `${base}/webhooks/wpg-flaky`,
      ...wpg,
      secret: WPG_SECRET,
      eventTypes: ['slot.expired'],
      retrySchedule: [1.5],
    });
    const retried = await send(p, { type: 'slot.expired', payload: { slotId: 'slot_e1' } });
    await settled(p, retried);
    assert.deepEqual(await history(p, retried), [
      { outcome: 'succeeded', status: 200 }, // newest first
      { outcome: 'failed', status: 503 },
    ]);
    const [first, second] = (accepted['wpg-flaky-timestamps'] as string[]).map(Number);
    assert.ok(
      second !== undefined && first !== undefined && second > first,
      `timestamps ${first}, ${second}`,
    );
    assert.deepEqual(
      (accepted['wpg-flaky'] as { data: unknown; timestamp: string }[]).map((k) => [
        k.data,
        Number(k.timestamp),
      ]),
      [[{ slotId: 'slot_e1' }, second]],
    );
  });

  test('PushPushGo: IBody form-encoded, X-PPG-Signature HMAC-SHA1 of the full URL and POST parameters, keyed by the project id', async () => {
    await importCatalog('pushpushgo.json');
    const p = await project('ppg-site');
    const ppg = await endpoint(p, {
      url: `${base}/ppg/webhook?source=herald`,
      envelope: 'raw',
      signature: { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: PPG_PROJECT_ID },
    });
    const body = { projectId: PPG_PROJECT_ID, customId: 'user-1820283', ppgId: '65a1f0c2e4b0a1234567890a' };
    // customId is "if defined": a subscriber without one has no such field.
    const anonymous = { projectId: PPG_PROJECT_ID, ppgId: '65a1f0c2e4b0a1234567890b' };
    // One at a time: the receiver keeps them in the order they arrive, and two in flight may swap.
    for (const sendOne of [
      () => send(p, { type: 'subscriber.subscribed', payload: body }),
      () => send(p, { type: 'subscriber.unsubscribed', payload: anonymous }),
      () => testSend(p, ppg.id, 'subscriber.subscribed'),
    ]) {
      const id = await sendOne();
      await settled(p, id);
      assert.deepEqual(await history(p, id), [{ outcome: 'succeeded', status: 200 }]);
    }
    // A JSON null is sent as the text "null" (signatures.md, "PushPushGo: a subscriber without a customId").
    const nullId = await send(p, { type: 'subscriber.updated', payload: { ...anonymous, customId: null } });
    await settled(p, nullId);
    const kept = accepted.ppg as Record<string, string>[];
    assert.deepEqual(kept.slice(0, 2), [body, anonymous]);
    assert.deepEqual(kept[3], { ...anonymous, customId: 'null' });
    assert.equal(kept.length, 4);
    assert.equal(kept[2]?.projectId, '5f3c9a1e2b4d6f0012ab34cd');
  });

  test('GamerSafer: unsigned JSON to a secret guild URL, and the per-request webhookUrl as a callback, both as the page shows them', async () => {
    await importCatalog('gamersafer.json');
    const p = await project('gamersafer-guild');
    await endpoint(p, {
      url: `${base}/webhooks/${GAMERSAFER_PATH_TOKEN}/gamersafer`,
      envelope: 'raw',
      signature: { scheme: 'none' },
      eventTypes: ['leaveGuild', 'documentValidated', 'documentRejected'],
    });
    const leave = {
      event: 'leaveGuild',
      payload: { guildMemberId: '01FC3GW10QG03E3FH3Q5ZPAYEN', guildId: '01FC3GW10QG03E3FH3Q5ZPAYZZ' },
    };
    const validated = {
      event: 'documentValidated',
      payload: {
        guildMemberId: '01FC3GW10QG03E3FH3Q5ZPAYEN',
        type: 'RG',
        documentNumber: '3423432',
        dateOfBirth: '1988-10-06T00:00:00.000Z',
        name: 'João da Silva',
      },
    };
    const invite = {
      event: 'guildInvite',
      payload: {
        code: '123456',
        guildMemberId: '01FC3GW10QG03E3FH3Q5ZPAYEN',
        internalId: 'your-internal-player-id',
      },
      ageGroup: { label: 'ADULT', confidence: 'HIGH', genderPrediction: 'MALE' },
      player: { id: '01FC3GW10QG03E3FH3Q5ZPAYZ' },
    };
    // One at a time: the receiver keeps them in the order they arrive, and two in flight may swap.
    for (const sendOne of [
      () => send(p, { type: 'leaveGuild', payload: leave }),
      () => send(p, { type: 'documentValidated', payload: validated }),
      // guildInvite goes only to the webhookUrl given in POST /guilds/invites.
      () =>
        send(p, {
          type: 'guildInvite',
          payload: invite,
          callbackUrl: `${base}/guilds/invite-callback`,
          callbackEnvelope: 'raw',
        }),
    ]) {
      const id = await sendOne();
      const deliveries = await settled(p, id);
      assert.equal(deliveries.length, 1);
      assert.equal(deliveries[0]?.status, 'succeeded');
      assert.deepEqual(await history(p, id), [{ outcome: 'succeeded', status: 200 }]);
    }
    assert.deepEqual(accepted['gamersafer-guild'], [leave, validated]);
    assert.deepEqual(accepted['gamersafer-callback'], [invite]);
    for (const hit of arrived.filter(
      (a) => a.path.includes('gamersafer') || a.path.includes('invite-callback'),
    )) {
      assert.equal(hit.headers['content-type'], 'application/json');
      assert.equal(hit.method, 'POST');
    }
  });

  test('Gamify: the method and authentication header the endpoint was set up with; an Inactive webhook sends nothing', async () => {
    await importCatalog('gamify.json');
    const p = await project('gamify-campaign');
    const hook = `${base}/hooks/catch/gamify`;
    // As on Gamify's webhook form: name, event, URL, method, status, headers.
    const webhook = {
      envelope: 'event-data',
      signature: { scheme: 'none' },
      headers: { Authorization: GAMIFY_TOKEN },
      eventTypes: ['optin.submitted'],
    };
    // "Content type specifications" among the headers: one that describes the JSON body is sent
    // instead of Herald's (signatures.md, "Gamify: a Content-Type among the webhook's headers").
    const contentType = { 'Content-Type': 'application/json; charset=utf-8' };
    await endpoint(p, {
      ...webhook,
      headers: { ...webhook.headers, ...contentType },
      name: 'CRM opt-in',
      url: `${hook}?via=post`,
      method: 'POST',
    });
    // A GET carries no body and so no content type: refused naming the header, saved without it.
    const getWithContentType = await api<{ error: { details: { field: string } } }>(
      'POST',
      `/api/v1/projects/${p}/endpoints`,
      { ...webhook, headers: { ...webhook.headers, ...contentType }, url: `${hook}?via=get`, method: 'GET' },
    );
    assert.equal(getWithContentType.status, 400);
    assert.equal(getWithContentType.body.error.details.field, 'body.headers.Content-Type');
    await endpoint(p, { ...webhook, name: 'Zapier opt-in', url: `${hook}?via=get`, method: 'GET' });
    const inactive = await endpoint(p, {
      ...webhook,
      name: 'Old hook',
      url: `${hook}?via=inactive`,
      active: false,
    });
    const optin = {
      campaignId: 'cmp_spring',
      campaignName: 'Spring wheel',
      user: { id: 'u_42', name: 'Zoë', email: 'zoe@example.com' },
      occurredAt: '2024-04-26T11:34:23.415Z',
    };
    const id = await send(p, { type: 'optin.submitted', payload: optin });
    const deliveries = await settled(p, id);
    // "If it is set to Inactive, the webhook will not send any data": no delivery is made for it.
    assert.deepEqual(
      deliveries.map((d) => d.status),
      ['succeeded', 'succeeded'],
    );
    assert.ok(!deliveries.some((d) => d.endpointId === inactive.id));
    const kept = accepted.gamify as { method: string; query: Record<string, string>; body: unknown }[];
    const post = kept.find((k) => k.method === 'POST');
    const get = kept.find((k) => k.method === 'GET');
    assert.deepEqual((post?.body as { data: unknown } | undefined)?.data, optin);
    assert.equal(get?.query.event, 'optin.submitted');
    assert.deepEqual(JSON.parse(get?.query.data ?? 'null'), optin);
    assert.equal(kept.length, 2);
    const postHit = arrived.find((a) => a.path === '/hooks/catch/gamify' && a.method === 'POST');
    assert.equal(postHit?.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(postHit?.headers.authorization, GAMIFY_TOKEN);
    const getHit = arrived.find((a) => a.path === '/hooks/catch/gamify' && a.method === 'GET');
    assert.equal(getHit?.headers['content-type'], undefined);
  });
});
