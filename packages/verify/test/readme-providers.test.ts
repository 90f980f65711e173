/**
 * The README's "Settings per provider" table, as a receiver's engineer copies it: each row's
 * settings verify a request signed with that provider's endpoint settings from docs/signatures.md
 * ("Moving a provider's receivers onto Herald"), through verify() and the Express adapter on a real
 * server. A row whose settings drift from the endpoint's (a header name, the key) fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import express from 'express';
import { type ExpressRequestLike, webhookMiddleware } from '../src/adapters/express.ts';
import {
  type SchemeOptions,
  type SignatureScheme,
  sign,
  type VerifyInput,
  verifyWebhook,
} from '../src/index.ts';

const ROOT = join(import.meta.dirname, '../../..');
const secret = 'Be$T_Pr0jeCt';
const PROVIDERS = ['GamePush', 'WePlaytestGames', 'PushPushGo', 'GamerSafer', 'Gamify'];
/** What each provider's receivers are sent (docs/signatures.md's envelopes, and Gamify's GET). */
const CONTENT: Record<string, unknown> = {
  GamePush: { event: 'GivePlayerReward', player: { id: 1820283, name: 'Zoë' }, time: '2024-04-26T11:34:23Z' },
  WePlaytestGames: {
    event: 'slot.submitted',
    data: { slotId: 's1' },
    id: 'evt_1',
    time: '2024-06-10T06:13:20Z',
  },
  PushPushGo: { projectId: '<project id>', ppgId: '65f0c1d2e3f4a5b6c7d8e9f0' },
  GamerSafer: { event: 'guildInvite', payload: { code: '123456' } },
  Gamify: { event: 'optin', data: { email: 'player@example.com' } },
};
const EXPECTED: Record<string, unknown> = {
  ...CONTENT,
  Gamify: { event: 'optin', data: '{"email":"player@example.com"}' },
};

type Settings = Pick<VerifyInput, 'scheme' | 'secret' | 'options'>;

/** Row cells by provider: the first `…` of each table under a heading. */
function tableRows(markdown: string, heading: string): Map<string, string> {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the heading ${heading}`);
  const section = markdown.slice(start + heading.length + 2).split(/\n#+ /)[0] ?? '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || !cells[1] || cells[1].startsWith('-')) continue;
    rows.set(cells[1], cells.slice(2, -1).join('|'));
  }
  return rows;
}

function readmeSettings(): Map<string, Settings> {
  const readme = readFileSync(join(ROOT, 'packages/verify/README.md'), 'utf8');
  const settings = new Map<string, Settings>();
  for (const [provider, cell] of tableRows(readme, '### Settings per provider')) {
    const code = /`(\{[^`]*\})`/.exec(cell)?.[1];
    if (code === undefined) continue;
    // The README's own object literal, with the names it leaves to the receiver bound.
    const literal = new Function('secret', 'projectId', `return (${code});`);
    settings.set(provider, literal(secret, '<project id>') as Settings);
  }
  return settings;
}

function endpointSignatures(): Map<string, { scheme: SignatureScheme } & SchemeOptions> {
  const docs = readFileSync(join(ROOT, 'docs/signatures.md'), 'utf8');
  const signatures = new Map<string, { scheme: SignatureScheme } & SchemeOptions>();
  for (const [provider, cell] of tableRows(docs, "## Moving a provider's receivers onto Herald")) {
    const json = /`signature: (\{[^`]*\})`/.exec(cell)?.[1];
    if (json !== undefined) signatures.set(provider, JSON.parse(json));
  }
  return signatures;
}

test("the README's settings per provider verify what Herald sends with docs/signatures.md's endpoint settings", async () => {
  const settings = readmeSettings();
  const signatures = endpointSignatures();
  assert.deepEqual([...settings.keys()], PROVIDERS);
  const app = express();
  for (const provider of PROVIDERS) {
    const verifySettings = settings.get(provider) as Settings;
    const route = provider === 'Gamify' ? app.get.bind(app) : app.post.bind(app);
    route(
      `/webhooks/${provider}`,
      express.raw({ type: '*/*', limit: '10mb' }),
      webhookMiddleware(verifySettings),
      (req, res) => {
        res.json({
          id: (req as ExpressRequestLike).webhook?.id,
          payload: (req as ExpressRequestLike).webhook?.payload,
        });
      },
    );
  }
  const server = createServer(app).listen(0, '127.0.0.1');
  try {
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const provider of PROVIDERS) {
      const endpoint = signatures.get(provider);
      assert.ok(endpoint, `docs/signatures.md has ${provider}'s endpoint signature`);
      const { scheme, ...options } = endpoint;
      const request = sign({
        scheme,
        options,
        secret,
        id: 'evt_1',
        timestamp: Math.floor(Date.now() / 1000),
        url: `${base}/webhooks/${provider}`,
        method: provider === 'Gamify' ? 'GET' : 'POST',
        content: CONTENT[provider],
      });
      const verified = verifyWebhook({
        ...(settings.get(provider) as Settings),
        payload: request.body ?? '',
        headers: request.headers,
        url: request.url,
        method: request.method,
      });
      assert.deepEqual(verified.payload, EXPECTED[provider], provider);
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
      });
      assert.deepEqual(
        { status: response.status, json: await response.json() },
        { status: 200, json: { id: 'evt_1', payload: EXPECTED[provider] } },
        provider,
      );
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
