/**
 * The operator webhook's endpoint follows HERALD_OPERATOR_WEBHOOK_URL across restarts: a new URL
 * moves it, no URL disables it (with a description and a log line saying operational events are no
 * longer forwarded) instead of leaving it active at the old URL, and the URL set again enables it,
 * forwarding what happened meanwhile. Real `herald serve` processes on one data directory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { api, type HeraldProcess, startHerald } from './harness.ts';
import { eventually, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-operator-config-token-0123456789';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Endpoint {
  id: string;
  url: string;
  status: string;
  description: string;
}

let dataDir: string;
let first: ScriptedReceiver;
let second: ScriptedReceiver;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'herald-operator-config-'));
  first = await startScriptedReceiver();
  second = await startScriptedReceiver();
});
after(async () => {
  await first?.close();
  await second?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `herald serve` on the shared data directory, with the operator webhook at `url` (or none). */
function serve(url: string | null): Promise<HeraldProcess> {
  return startHerald({
    dataDir,
    env: {
      HERALD_ADMIN_TOKEN: TOKEN,
      HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
      ...(url ? { HERALD_OPERATOR_WEBHOOK_URL: url, HERALD_OPERATOR_WEBHOOK_SECRET: SECRET } : {}),
    },
  });
}

async function operatorEndpoints(herald: HeraldProcess): Promise<Endpoint[]> {
  const list = await api<{ data: Endpoint[] }>(
    herald.url,
    TOKEN,
    'GET',
    '/api/v1/projects/herald-operator/endpoints',
  );
  assert.equal(list.status, 200);
  return list.body.data;
}

/** Event types the receiver got, in order. */
const typesAt = (receiver: ScriptedReceiver) =>
  receiver.hits.map((hit) => (JSON.parse(hit.body) as { type: string }).type);

test('a new URL moves the operator endpoint; no URL disables it and says so; the URL set again resumes', async () => {
  let herald = await serve(`${first.url}/ops`);
  let customer: string;
  try {
    const project = await api<{ id: string }>(herald.url, TOKEN, 'POST', '/api/v1/projects', { name: 'c' });
    const endpoint = await api<{ id: string }>(
      herald.url,
      TOKEN,
      'POST',
      `/api/v1/projects/${project.body.id}/endpoints`,
      { url: 'http://127.0.0.1:9/never' },
    );
    customer = `/api/v1/projects/${project.body.id}/endpoints/${endpoint.body.id}`;
    await api(herald.url, TOKEN, 'PATCH', customer, { active: false });
    await first.waitFor(1);
    assert.deepEqual(typesAt(first), ['endpoint.disabled']);
  } finally {
    await herald.kill('SIGTERM');
  }

  // A new URL: the same endpoint (and secret) moves there.
  herald = await serve(`${second.url}/ops`);
  try {
    const [managed] = await operatorEndpoints(herald);
    assert.equal(managed?.url, `${second.url}/ops`);
    assert.equal(managed?.status, 'active');
    await api(herald.url, TOKEN, 'POST', `${customer}/enable`);
    await second.waitFor(1);
    assert.deepEqual(typesAt(second), ['endpoint.recovered']);
  } finally {
    await herald.kill('SIGTERM');
  }

  // No URL: disabled, with the reason, and one info line; nothing is sent meanwhile.
  herald = await serve(null);
  try {
    const [managed, ...others] = await operatorEndpoints(herald);
    assert.equal(others.length, 0);
    assert.equal(managed?.status, 'disabled');
    assert.match(managed?.description ?? '', /HERALD_OPERATOR_WEBHOOK_URL is unset/);
    const lines = herald
      .logLines()
      .filter((l) => /operational events are no longer forwarded/.test(String(l.msg)));
    assert.equal(lines.length, 1, herald.output());
    assert.equal(lines[0]?.level, 30);
    await api(herald.url, TOKEN, 'PATCH', customer, { active: false });
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(second.hits.length, 1);
  } finally {
    await herald.kill('SIGTERM');
  }

  // A second start without the URL changes nothing and says nothing more.
  herald = await serve(null);
  try {
    assert.equal((await operatorEndpoints(herald))[0]?.status, 'disabled');
    assert.ok(!/no longer forwarded/.test(herald.output()));
  } finally {
    await herald.kill('SIGTERM');
  }

  // The URL again: enabled, and what happened meanwhile (within 23 h) is forwarded.
  herald = await serve(`${second.url}/ops`);
  try {
    const [managed] = await operatorEndpoints(herald);
    assert.equal(managed?.status, 'active');
    assert.doesNotMatch(managed?.description ?? '', /unset/);
    await eventually(async () => second.hits.length >= 2, 15_000, 'the operational event sent while unset');
    assert.deepEqual(typesAt(second), ['endpoint.recovered', 'endpoint.disabled']);
    assert.equal(first.hits.length, 1);
  } finally {
    await herald.dispose();
  }
});
