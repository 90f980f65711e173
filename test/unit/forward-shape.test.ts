/** What `herald listen` forwards and how it signs it (src/cli/listen/forward-shape.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint, HeraldEvent } from '@herald/client';
import { verifyWebhook } from '@herald/verify';
import {
  disabledLine,
  disjointOnlyTests,
  endpointShape,
  forwardRequest,
  forwards,
  forwardsDelivered,
  localShape,
  sharedTypes,
} from '../../src/cli/listen/forward-shape.ts';

const event = (over: Partial<HeraldEvent> = {}): HeraldEvent => ({
  id: 'evt_01',
  projectId: 'prj_01',
  type: 'player.paid',
  payload: { amount: 5, player: { id: 7 } },
  test: false,
  createdAt: '2026-12-02T08:00:00.000Z',
  deliveries: [],
  ...over,
});

const endpoint = (over: Partial<Endpoint> = {}): Endpoint =>
  ({
    id: 'ep_01',
    projectId: 'prj_01',
    url: 'https://example.test/hook',
    name: '',
    description: '',
    eventTypes: ['player.paid'],
    method: 'POST',
    headers: { 'x-game': 'g' },
    dev: false,
    timeoutMs: 10_000,
    envelope: 'event-data',
    signature: { scheme: 'github' },
    retrySchedule: null,
    status: 'active',
    disabledReason: null,
    consecutiveFailures: 0,
    createdAt: '2026-12-01T00:00:00.000Z',
    ...over,
  }) as Endpoint;

test("an endpoint's test events: forwarded when Herald delivered them to it (a test send), whatever its dev flag and filter", () => {
  const shape = endpointShape(endpoint(), 's', null);
  const delivered = (endpointId: string | null, type = 'guild.left') => ({
    type,
    deliveries: [{ endpointId }],
  });
  // `herald endpoints test ep_01 --type guild.left`: not dev, not in its filter, still delivered.
  assert.equal(forwardsDelivered(shape, delivered('ep_01')), true);
  // A test send to another endpoint, or a callback delivery only: not ep_01's.
  assert.equal(forwardsDelivered(shape, delivered('ep_02')), false);
  assert.equal(forwardsDelivered(shape, delivered(null)), false);
  assert.equal(forwardsDelivered(shape, { type: 'player.paid', deliveries: [] }), false);
  // --types still narrows.
  assert.equal(forwardsDelivered(endpointShape(endpoint(), 's', ['x']), delivered('ep_01')), false);
  assert.equal(forwardsDelivered(endpointShape(endpoint(), 's', ['guild.left']), delivered('ep_01')), true);
});

test("an endpoint's shape: its filter, test events only when dev, its scheme and secret", () => {
  const shape = endpointShape(endpoint(), 'github-secret', null);
  assert.equal(forwards(shape, { type: 'player.paid', test: false }), true);
  assert.equal(forwards(shape, { type: 'guild.left', test: false }), false);
  assert.equal(forwards(shape, { type: 'player.paid', test: true }), false);
  assert.equal(
    forwards(endpointShape(endpoint({ dev: true }), 's', null), { type: 'player.paid', test: true }),
    true,
  );
  // --types narrows the endpoint's filter: a type outside it stays out (it replaced the filter
  // before 2026-12-06, so guild.left, which ep_01 never gets, was forwarded).
  assert.equal(
    forwards(endpointShape(endpoint(), 's', ['guild.left']), { type: 'guild.left', test: false }),
    false,
  );
  const both = endpointShape(endpoint({ eventTypes: ['player.paid', 'guild.left'] }), 's', ['guild.left']);
  assert.equal(forwards(both, { type: 'guild.left', test: false }), true);
  assert.equal(forwards(both, { type: 'player.paid', test: false }), false);
  // An endpoint without a filter gets every type: --types alone decides.
  const all = endpointShape(endpoint({ eventTypes: [] }), 's', ['guild.left']);
  assert.equal(forwards(all, { type: 'guild.left', test: false }), true);
  assert.equal(forwards(all, { type: 'player.paid', test: false }), false);
  // What is forwarded at all: the types in both (null: no --types), [] when they share none.
  assert.deepEqual(sharedTypes(endpointShape(endpoint(), 's', ['guild.left'])), []);
  assert.deepEqual(sharedTypes(both), ['guild.left']);
  assert.deepEqual(sharedTypes(all), ['guild.left']);
  assert.equal(sharedTypes(shape), null);
  // Said of --types that share none: the command that makes such a test send, as a shell runs it.
  assert.match(
    disjointOnlyTests(endpointShape(endpoint(), 's', ['guild.left', 'x']), "Bob's game"),
    / \(herald endpoints test ep_01 --project 'Bob'\\''s game' --type guild\.left, or --type another of them\)$/,
  );

  // Disabled: its live events still (listen's forwards do not go to its URL), and the reason said.
  const off = endpointShape(
    endpoint({ status: 'disabled', disabledReason: 'consecutive_failures' }),
    's',
    null,
  );
  assert.equal(forwards(off, { type: 'player.paid', test: false }), true);
  assert.equal(off.disabled, 'consecutive_failures');
  assert.match(
    disabledLine(off, "Bob's game"),
    /^endpoint ep_01 is disabled \(consecutive_failures\): Herald sends it nothing new.*`herald endpoints enable ep_01 --project 'Bob'\\''s game'` resumes its deliveries$/,
  );
  assert.equal(shape.disabled, null);

  const req = forwardRequest(shape, event(), 'http://127.0.0.1:3000/hook', Date.now());
  assert.equal(req.url, 'http://127.0.0.1:3000/hook');
  assert.equal(req.headers['x-game'], 'g');
  const verified = verifyWebhook<{ event: string; data: unknown }>({
    scheme: 'github',
    payload: req.body!,
    headers: req.headers,
    secret: 'github-secret',
  });
  // The endpoint's envelope (event-data), as Herald would send it.
  assert.equal(verified.payload.event, 'player.paid');
  assert.deepEqual(verified.payload.data, { amount: 5, player: { id: 7 } });
  assert.throws(() =>
    verifyWebhook({ scheme: 'github', payload: req.body!, headers: req.headers, secret: 'another-secret' }),
  );
});

test('the local shape: Standard Webhooks, every event (test ones too), a new whsec_ secret unless given', () => {
  const a = localShape(undefined, null);
  const b = localShape(undefined, null);
  assert.match(a.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  assert.notEqual(a.secret, b.secret);
  assert.ok(a.describe.includes(a.secret), 'the generated secret is printed: the receiver needs it');
  assert.equal(forwards(a, { type: 'anything', test: true }), true);
  assert.equal(
    forwards(localShape({ secret: 'whsec_abc', flag: '--secret' }, ['x']), { type: 'y', test: false }),
    false,
  );

  const secret = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
  const shape = localShape({ secret, flag: '--secret-file' }, null);
  assert.equal(shape.describe, 'standard signature, the secret given with --secret-file');
  const req = forwardRequest(shape, event(), 'http://127.0.0.1:3000/', Date.now());
  const verified = verifyWebhook<{ type: string; data: unknown; timestamp: string }>({
    scheme: 'standard',
    payload: req.body!,
    headers: req.headers,
    secret,
  });
  assert.equal(verified.id, 'evt_01');
  assert.equal(verified.payload.type, 'player.paid');
  assert.deepEqual(verified.payload.data, { amount: 5, player: { id: 7 } });
  assert.equal(verified.payload.timestamp, '2026-12-02T08:00:00.000Z');
});

test("the start line says what signs an endpoint's forwards: its secret, its static key, or nothing", () => {
  const line = (signature: Endpoint['signature']) =>
    endpointShape(endpoint({ signature }), 's', null).describe;
  assert.equal(line({ scheme: 'github' }), 'as endpoint ep_01 (github signature, its own secret)');
  // A static key (PushPushGo's project id) signs instead of the secret; `none` signs nothing.
  assert.equal(
    line({ scheme: 'hmac-sha1-url', signatureHeader: 'X-PPG-Signature', key: 'prj-ppg' }),
    'as endpoint ep_01 (hmac-sha1-url signature, its static key)',
  );
  assert.equal(
    line({ scheme: 'hmac-sha1-url' }),
    'as endpoint ep_01 (hmac-sha1-url signature, its own secret)',
  );
  assert.equal(line({ scheme: 'none' }), 'as endpoint ep_01 (unsigned, as its scheme none)');
});

// hmac-sha1-url signs the URL: a copy is signed for the URL it is sent to (--forward-to), which a
// receiver that rebuilds its URL from the request (the SDK's adapters by default) verifies, and a
// receiver given the endpoint's public URL as a fixed `url` refuses (docs/cli.md says so).
test("hmac-sha1-url: a copy is signed for --forward-to, not the endpoint's URL; the shape holds its timeoutMs", () => {
  const ppg = endpoint({
    url: 'https://public.example/ppg?source=herald',
    envelope: 'raw',
    signature: { scheme: 'hmac-sha1-url', key: 'project-42' },
    timeoutMs: 2_500,
  });
  const shape = endpointShape(ppg, 'unused-secret', null);
  assert.equal(shape.timeoutMs, 2_500);
  assert.equal(localShape(undefined, null).timeoutMs, null);
  const req = forwardRequest(shape, event(), 'http://127.0.0.1:3000/ppg', Date.now());
  const check = (url: string) =>
    verifyWebhook({
      scheme: 'hmac-sha1-url',
      payload: req.body!,
      headers: req.headers,
      url,
      method: 'POST',
      options: { key: 'project-42' },
    });
  assert.deepEqual(check('http://127.0.0.1:3000/ppg').payload, { amount: '5', player: '{"id":7}' });
  assert.throws(() => check(ppg.url), /No matching signature/);
});
