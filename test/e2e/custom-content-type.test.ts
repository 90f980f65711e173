/**
 * A custom `Content-Type` among an endpoint's headers (Gamify's "content type specifications"),
 * through a running `herald serve`: one that describes the body is saved, arrives at a loopback
 * receiver instead of Herald's own, and the request verifies with `@herald/verify` as it would
 * without it (every scheme signs the body bytes, never the Content-Type). One that does not fit
 * the endpoint's body, or any on a GET, is refused naming the header; a PATCH that would leave a
 * kept one misfitting is refused naming the field it changes and the header.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verify } from '../../packages/verify/src/index.ts';
import { api as call, type HeraldProcess, startHerald } from './harness.ts';
import { type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const TOKEN = 'e2e-content-type-token-0123456789ab';
const PAYLOAD = { campaignId: 'cmp_spring', user: { id: 'u_42', name: 'Zoë' }, score: 12.5 };
type Body = Record<string, unknown> & { id: string };
interface ErrorBody {
  error: { code: string; message: string; details: { field: string; headers?: string } };
}

let herald: HeraldProcess;
let receiver: ScriptedReceiver;
let projectId: string;

const api = <T = Body>(method: string, path: string, body?: unknown) =>
  call<T>(herald.url, TOKEN, method, path, body);
const endpoints = () => `/api/v1/projects/${projectId}/endpoints`;

before(async () => {
  herald = await startHerald({ env: { HERALD_ADMIN_TOKEN: TOKEN, HERALD_ALLOW_NETWORKS: '127.0.0.0/8' } });
  receiver = await startScriptedReceiver();
  const p = await api('POST', '/api/v1/projects', { name: 'content-type' });
  projectId = p.body.id;
});
after(async () => {
  await receiver?.close();
  await herald?.dispose();
});

describe('a custom Content-Type', () => {
  test('one that describes the body arrives instead of Herald’s, and the request verifies, for every scheme', async () => {
    const cases: { scheme: string; method: string; contentType: string; options?: Record<string, string> }[] =
      [
        { scheme: 'standard', method: 'POST', contentType: 'application/json; charset=utf-8' },
        { scheme: 'standard', method: 'PUT', contentType: 'application/vnd.gamify.optin+json' },
        { scheme: 'hmac-sha256', method: 'POST', contentType: 'Application/JSON;charset="UTF-8"' },
        { scheme: 'stripe', method: 'PATCH', contentType: 'application/json; charset=utf-8' },
        { scheme: 'github', method: 'POST', contentType: 'application/cloudevents+json; charset=utf-8' },
        { scheme: 'none', method: 'POST', contentType: 'application/json; charset=utf-8' },
        {
          scheme: 'hmac-sha1-url',
          method: 'POST',
          contentType: 'application/x-www-form-urlencoded; charset=utf-8',
          options: { key: 'ppg-project-key' },
        },
        { scheme: 'sha256-body', method: 'POST', contentType: 'text/plain; charset=utf-8' },
      ];
    for (const [i, { scheme, method, contentType, options }] of cases.entries()) {
      const path = `/ct/${i}/${scheme}?source=herald`;
      const type = `ct.case${i}`;
      const created = await api<Body & { secret: string }>('POST', endpoints(), {
        url: `${receiver.url}${path}`,
        method,
        eventTypes: [type],
        signature: { scheme, ...options },
        headers: { Authorization: 'Bearer zap_hook_5c1d2e3f', 'Content-Type': contentType },
      });
      assert.equal(created.status, 201, `${scheme}: ${JSON.stringify(created.body)}`);
      // Stored and shown as given, like every custom header.
      assert.deepEqual(created.body.headers, {
        Authorization: 'Bearer zap_hook_5c1d2e3f',
        'Content-Type': contentType,
      });
      const before = receiver.hits.length;
      const sent = await api('POST', `/api/v1/projects/${projectId}/events`, { type, payload: PAYLOAD });
      assert.equal(sent.status, 202);
      const hits = await receiver.waitFor(before + 1);
      const hit = hits.slice(before).find((h) => h.url === path);
      assert.ok(hit, `${scheme}: nothing arrived at ${path}`);
      assert.equal(hit.method, method);
      assert.equal(hit.headers['content-type'], contentType, scheme);
      assert.equal(hit.headers.authorization, 'Bearer zap_hook_5c1d2e3f');
      const content = verify<Record<string, unknown>>({
        scheme: scheme as 'standard',
        payload: hit.body,
        headers: hit.headers,
        secret: created.body.secret,
        url: `${receiver.url}${hit.url}`,
        method: hit.method,
        ...(options ? { options } : {}),
      });
      if (scheme === 'hmac-sha1-url') assert.equal(JSON.parse(String(content.data)).user.name, 'Zoë');
      else assert.deepEqual(content.data, PAYLOAD, scheme);
    }
  });

  test('one that does not describe the body, or any on a GET, is refused naming the header', async () => {
    const url = `${receiver.url}/refused`;
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { headers: { 'Content-Type': 'text/html' } },
        /text\/html does not describe the body: the body is JSON.*application\/json or application\/<name>\+json/,
      ],
      [{ headers: { 'Content-Type': 'application/json; charset=iso-8859-1' } }, /the body is UTF-8/],
      [{ headers: { 'Content-Type': 'application/json, text/plain' } }, /is not a media type/],
      [
        { headers: { 'Content-Type': 'application/json' }, signature: { scheme: 'hmac-sha1-url', key: 'k' } },
        /form.*application\/x-www-form-urlencoded/,
      ],
      [
        { headers: { 'Content-Type': 'application/json' }, signature: { scheme: 'sha256-body' } },
        /text\/plain/,
      ],
      [
        { headers: { 'Content-Type': 'application/json' }, method: 'GET', signature: { scheme: 'none' } },
        /a GET carries no body, so it has no Content-Type/,
      ],
    ];
    for (const [settings, message] of cases) {
      const r = await api<ErrorBody>('POST', endpoints(), { url, ...settings });
      assert.equal(r.status, 400, JSON.stringify(settings));
      assert.equal(r.body.error.details.field, 'body.headers.Content-Type');
      assert.match(r.body.error.message, message);
    }
  });

  test('a PATCH that would leave a kept Content-Type misfitting is refused naming both fields', async () => {
    const created = await api('POST', endpoints(), {
      url: `${receiver.url}/patched`,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(created.status, 201);
    const at = `${endpoints()}/${created.body.id}`;
    const toGet = await api<ErrorBody>('PATCH', at, { method: 'GET' });
    assert.equal(toGet.status, 422);
    assert.equal(toGet.body.error.details.field, 'body.method');
    assert.equal(toGet.body.error.details.headers, 'body.headers.content-type');
    assert.match(toGet.body.error.message, /headers\.content-type.*a GET carries no body/);
    const toForm = await api<ErrorBody>('PATCH', at, { signature: { scheme: 'hmac-sha1-url' } });
    assert.equal(toForm.status, 422);
    assert.equal(toForm.body.error.details.field, 'body.signature.scheme');
    assert.match(toForm.body.error.message, /headers\.content-type.*application\/x-www-form-urlencoded/);
    // Neither was stored.
    const kept = await api('GET', at);
    assert.equal(kept.body.method, 'POST');
    assert.deepEqual(kept.body.signature, { scheme: 'standard' });
    // Changes it still fits are taken: another JSON-bodied scheme, another method with a body, an envelope.
    for (const change of [{ signature: { scheme: 'github' } }, { method: 'PUT' }, { envelope: 'raw' }]) {
      const r = await api('PATCH', at, change);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    // With the header changed or removed in the same PATCH, the switch is taken.
    const both = await api('PATCH', at, {
      signature: { scheme: 'hmac-sha1-url' },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(both.status, 200, JSON.stringify(both.body));
    const dropped = await api('PATCH', at, { method: 'GET', headers: {} });
    assert.equal(dropped.status, 200, JSON.stringify(dropped.body));
    const onGet = await api<ErrorBody>('PATCH', at, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(onGet.status, 400);
    assert.equal(onGet.body.error.details.field, 'body.headers.Content-Type');
  });
});
