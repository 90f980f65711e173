import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PreviewInput } from '../../src/dashboard/app/signed-request-preview.ts';
import { buildEnvelope, previewRequest } from '../../src/dashboard/app/signed-request-preview.ts';

const now = Date.UTC(2030, 0, 2, 3, 4, 5);
const base: PreviewInput = {
  url: 'https://receiver.example.com/hook',
  method: 'POST',
  envelope: 'standard',
  signature: { scheme: 'standard' },
  headers: {},
  eventType: 'level.completed',
  payload: { player: 'p1', level: 3, meta: { hard: true } },
  eventId: 'evt_1',
  now,
};
const header = (request: { headers: [string, string][] }, name: string) =>
  request.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];

describe('Example tab request preview', () => {
  test('envelopes have the shapes DESIGN.md names', () => {
    assert.deepEqual(buildEnvelope('standard', 't', { a: 1 }, 'evt_1', now), {
      type: 't',
      timestamp: '2030-01-02T03:04:05.000Z',
      data: { a: 1 },
    });
    assert.deepEqual(buildEnvelope('event-data', 't', { a: 1 }, 'evt_1', now), {
      event: 't',
      data: { a: 1 },
      id: 'evt_1',
      time: '2030-01-02T03:04:05.000Z',
    });
    assert.deepEqual(buildEnvelope('raw', 't', [1, 2], 'evt_1', now), [1, 2]);
  });

  test('standard scheme: JSON body and the three webhook-* headers', () => {
    const request = previewRequest(base);
    assert.equal(header(request, 'content-type'), 'application/json');
    assert.equal(header(request, 'webhook-id'), 'evt_1');
    assert.equal(header(request, 'webhook-timestamp'), String(Math.floor(now / 1000)));
    assert.match(header(request, 'webhook-signature') ?? '', /^v1,<base64 HMAC-SHA256/);
    assert.deepEqual(
      JSON.parse(request.body ?? ''),
      buildEnvelope('standard', 'level.completed', base.payload, 'evt_1', now),
    );
  });

  test('hmac-sha256 uses the configured header names and encoding', () => {
    const request = previewRequest({
      ...base,
      signature: {
        scheme: 'hmac-sha256',
        signatureHeader: 'X-WPG-Signature',
        timestampHeader: 'X-WPG-Timestamp',
        encoding: 'base64',
      },
    });
    assert.match(header(request, 'X-WPG-Signature') ?? '', /^<base64 HMAC-SHA256/);
    assert.equal(header(request, 'X-WPG-Timestamp'), String(Math.floor(now / 1000)));
    const defaults = previewRequest({ ...base, signature: { scheme: 'hmac-sha256' } });
    assert.match(header(defaults, 'X-Webhook-Signature') ?? '', /^<hex /);
    assert.ok(header(defaults, 'X-Webhook-Timestamp'));
  });

  test('stripe and github carry their own header formats', () => {
    assert.match(
      header(previewRequest({ ...base, signature: { scheme: 'stripe' } }), 'stripe-signature') ?? '',
      /^t=\d+,v1=</,
    );
    assert.match(
      header(previewRequest({ ...base, signature: { scheme: 'github' } }), 'x-hub-signature-256') ?? '',
      /^sha256=</,
    );
  });

  test('sha256-body sends text/plain base64(JSON).<hash>', () => {
    const request = previewRequest({ ...base, signature: { scheme: 'sha256-body' } });
    assert.equal(header(request, 'content-type'), 'text/plain');
    const encoded = (request.body ?? '').split('.')[0] ?? '';
    const decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    assert.equal(decoded.type, 'level.completed');
  });

  test('hmac-sha1-url sends a form body and names the static key when set', () => {
    const request = previewRequest({
      ...base,
      signature: { scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: 'prj_1' },
    });
    assert.equal(header(request, 'content-type'), 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(request.body ?? '');
    assert.equal(form.get('type'), 'level.completed');
    assert.deepEqual(JSON.parse(form.get('data') ?? ''), base.payload);
    assert.match(header(request, 'X-PPG-Signature') ?? '', /static key/);
  });

  test('GET puts top-level fields in the query string (objects as JSON) and sends no body', () => {
    const request = previewRequest({ ...base, method: 'GET', url: 'https://r.example.com/h?token=abc' });
    assert.equal(request.body, null);
    assert.equal(header(request, 'content-type'), undefined);
    const url = new URL(request.url);
    assert.equal(url.searchParams.get('token'), 'abc');
    assert.equal(url.searchParams.get('type'), 'level.completed');
    assert.deepEqual(JSON.parse(url.searchParams.get('data') ?? ''), base.payload);
  });

  test('none has no signature header; custom headers never replace protocol headers', () => {
    const request = previewRequest({
      ...base,
      signature: { scheme: 'none' },
      headers: { Authorization: 'Bearer x', 'Webhook-Id': 'forged' },
    });
    assert.equal(header(request, 'authorization'), 'Bearer x');
    assert.equal(header(request, 'webhook-id'), 'evt_1');
    assert.equal(request.headers.filter(([n]) => n.toLowerCase() === 'webhook-id').length, 1);
    assert.equal(header(request, 'webhook-signature'), undefined);
  });
});

describe('a custom Content-Type in the preview', () => {
  test('one that describes the body is shown instead of Herald’s, once; others are not shown', () => {
    const custom = previewRequest({
      ...base,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    assert.deepEqual(
      custom.headers.filter(([n]) => n.toLowerCase() === 'content-type'),
      [['content-type', 'application/json; charset=utf-8']],
    );
    const form = previewRequest({
      ...base,
      signature: { scheme: 'hmac-sha1-url' },
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    });
    assert.equal(header(form, 'content-type'), 'application/x-www-form-urlencoded; charset=UTF-8');
    // Not the body's type, or a GET (no body): Herald's own (or none) is what is sent.
    const misfit = previewRequest({ ...base, headers: { 'Content-Type': 'text/html' } });
    assert.deepEqual(
      misfit.headers.filter(([n]) => n.toLowerCase() === 'content-type'),
      [['content-type', 'application/json']],
    );
    const get = previewRequest({ ...base, method: 'GET', headers: { 'Content-Type': 'application/json' } });
    assert.equal(header(get, 'content-type'), undefined);
  });
});
