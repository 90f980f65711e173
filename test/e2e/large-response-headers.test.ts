/**
 * What docs/operations.md ("Receivers that answer with very large headers") says: Herald reads up to
 * 16 KiB of response headers (Node's http.maxHeaderSize, which undici takes); above that the
 * attempt fails with kind `protocol` and no response, although the receiver got the request; and
 * NODE_OPTIONS=--max-http-header-size raises it. If this fails, that section needs updating.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, startHerald } from './harness.ts';
import { eventually, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-large-headers-token-0123456789';

interface Attempt {
  outcome: string;
  error: { kind: string; message: string } | null;
  response: { status: number } | null;
}

/** About `bytes` of header names and values, in 1 KB headers. */
function headersOf(bytes: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < Math.round(bytes / 1000); i++)
    headers[`x-large-${String(i).padStart(2, '0')}`] = 'a'.repeat(990);
  return headers;
}

const receivers = new Map<number, ScriptedReceiver>();
before(async () => {
  for (const bytes of [15_000, 17_000, 60_000])
    receivers.set(bytes, await startScriptedReceiver(() => ({ status: 200, headers: headersOf(bytes) })));
});
after(async () => {
  for (const receiver of receivers.values()) await receiver.close();
});

/** The first attempt of one event sent to `url` by a Herald started with `env`. */
async function firstAttempt(url: string, env: Record<string, string> = {}): Promise<Attempt> {
  const herald = await startHerald({
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      HERALD_RETRY_SCHEDULE: 'none',
      ...env,
    },
  });
  try {
    const project = await api<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', { name: 'h' });
    const base = `/api/v1/projects/${project.body.id}`;
    await api(herald.url, TOKEN, 'POST', `${base}/endpoints`, { url });
    const event = await api<{ id: string }>(herald.url, TOKEN, 'POST', `${base}/events`, {
      type: 't',
      payload: {},
    });
    return await eventually(async () => {
      const list = await api<{ data: Attempt[] }>(
        herald.url,
        TOKEN,
        'GET',
        `${base}/events/${event.body.id}/attempts`,
      );
      return list.body.data[0] ?? false;
    });
  } finally {
    await herald.dispose();
  }
}

test('response headers: 15 KB are read, 17 KB fail as protocol with no response though the receiver answered', async () => {
  const small = await firstAttempt(receivers.get(15_000)!.url);
  assert.equal(small.outcome, 'succeeded');
  assert.equal(small.response?.status, 200);

  const large = receivers.get(17_000)!;
  const attempt = await firstAttempt(large.url);
  assert.equal(large.hits.length, 1, 'the receiver got the request');
  assert.equal(attempt.outcome, 'failed');
  assert.deepEqual(attempt.error, { kind: 'protocol', message: 'Headers Overflow Error' });
  assert.equal(attempt.response, null);
});

test('NODE_OPTIONS=--max-http-header-size raises the limit for deliveries', async () => {
  const attempt = await firstAttempt(receivers.get(60_000)!.url, {
    NODE_OPTIONS: '--max-http-header-size=131072',
  });
  assert.equal(attempt.outcome, 'succeeded');
  assert.equal(attempt.response?.status, 200);
});
