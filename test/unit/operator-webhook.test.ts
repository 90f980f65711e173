/**
 * The operator webhook's setup (src/operator/operator-project.ts) and its forwarder
 * (src/operator/forwarder.ts) over a real SQLite store. The end-to-end path, with a real
 * `herald serve` and a receiver verifying signatures, is test/e2e/operational-events.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { DEFAULT_ROTATION_GRACE_SECONDS } from '../../src/domain/secret.ts';
import { createForwarder, operatorEvent, STALE_MS } from '../../src/operator/forwarder.ts';
import {
  ensureOperatorEndpoint,
  OPERATOR_ENDPOINT_NAME,
  OPERATOR_PROJECT_UID,
  retireOperatorEndpoint,
} from '../../src/operator/operator-project.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { attemptRecord, endpointInput, eventInput, projectWithEndpoints } from '../store/helpers.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function store(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-operator-'));
  const s = await openStore(`sqlite:${join(dir, 'herald.db')}`);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => s.close());
  return s;
}

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A store with the operator endpoint, and a customer's project with one endpoint. */
async function operatorAndCustomer() {
  const s = await store();
  const now = Date.now();
  const target = await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/ops', secret: SECRET },
    { timeoutMs: 5_000, now },
  );
  return { s, now, target, ...(await projectWithEndpoints(s, 1, now)) };
}
const OTHER_SECRET = 'whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBvZiAzMiBieXQ=';

test('ensureOperatorEndpoint creates the project and endpoint once and follows the configuration', async () => {
  const s = await store();
  const now = Date.now();
  const a = await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/ops', secret: null },
    { timeoutMs: 5_000, now },
  );
  const project = await s.getProject(OPERATOR_PROJECT_UID);
  assert.equal(project?.id, a.projectId);
  const ep = await s.getEndpoint(a.projectId, a.endpointId);
  assert.equal(ep?.url, 'http://127.0.0.1:9/ops');
  assert.equal(ep?.name, OPERATOR_ENDPOINT_NAME);
  assert.deepEqual(ep?.signature, { scheme: 'standard' });
  assert.deepEqual(ep?.eventTypes, ['endpoint.disabled', 'endpoint.recovered', 'delivery.exhausted']);
  const [generated] = await s.getEndpointSecrets(a.projectId, a.endpointId, now);
  assert.match(generated!.secret, /^whsec_/);

  // Same configuration: nothing changes. Another start with a new URL and a secret: both follow.
  const b = await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/ops', secret: null },
    { timeoutMs: 5_000, now },
  );
  assert.deepEqual(b, a);
  assert.equal((await s.getEndpointSecrets(a.projectId, a.endpointId, now))[0]?.secret, generated!.secret);
  const c = await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/ops2', secret: SECRET },
    { timeoutMs: 5_000, now: now + 1 },
  );
  assert.deepEqual(c, a);
  assert.equal((await s.getEndpoint(a.projectId, a.endpointId))?.url, 'http://127.0.0.1:9/ops2');
  // The configured secret is current; the generated one it replaced stays valid for a day, so the
  // receiver can move to the new one after this start rather than at its very moment.
  const day = DEFAULT_ROTATION_GRACE_SECONDS * 1000;
  assert.deepEqual(
    (await s.getEndpointSecrets(a.projectId, a.endpointId, now + 2)).map((x) => [x.secret, x.expiresAt]),
    [
      [SECRET, null],
      [generated!.secret, now + 1 + day],
    ],
  );
  assert.deepEqual(
    (await s.getEndpointSecrets(a.projectId, a.endpointId, now + 1 + day)).map((x) => x.secret),
    [SECRET],
  );
  // The same secret written without its whsec_ prefix is no change: nothing is rotated.
  await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/ops2', secret: SECRET.slice('whsec_'.length) },
    { timeoutMs: 5_000, now: now + 2 },
  );
  assert.equal((await s.getEndpointSecrets(a.projectId, a.endpointId, now + 2)).length, 2);

  // A duplicate left by two processes starting at once is removed; other endpoints stay.
  await s.createEndpoint(
    endpointInput(a.projectId, { url: 'http://127.0.0.1:9/dup', name: OPERATOR_ENDPOINT_NAME }),
    OTHER_SECRET,
    now + 3,
  );
  const own = await s.createEndpoint(
    endpointInput(a.projectId, { url: 'http://127.0.0.1:9/slack-relay', name: 'relay' }),
    OTHER_SECRET,
    now + 3,
  );
  const d = await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/ops2', secret: SECRET },
    { timeoutMs: 5_000, now: now + 4 },
  );
  assert.deepEqual(d, a);
  assert.deepEqual(
    (await s.listEndpoints(a.projectId, { limit: 10 })).data.map((e) => e.id).sort(),
    [a.endpointId, own.id].sort(),
  );
});

test('the log lines of every start name the webhook by its origin: its path and query (a credential) never', async () => {
  const s = await store();
  const { logger, lines } = capturedLogger('trace');
  const now = Date.now();
  // A chat or automation service's webhook URL: its path and its query are what let one post to it.
  const url = 'http://127.0.0.1:9/hooks/T0SECRETPATH?token=s3cr3t-query-token';
  const moved = 'http://127.0.0.1:9/hooks/T1SECRETPATH?token=an0ther-query-token';
  await ensureOperatorEndpoint(s, { url, secret: null }, { timeoutMs: 5_000, now, log: logger });
  await ensureOperatorEndpoint(
    s,
    { url: moved, secret: null },
    { timeoutMs: 5_000, now: now + 1, log: logger },
  );
  // A start without the URL disables the endpoint and says so; one with it again enables it.
  await retireOperatorEndpoint(s, { now: now + 2, log: logger });
  await ensureOperatorEndpoint(
    s,
    { url: moved, secret: null },
    { timeoutMs: 5_000, now: now + 3, log: logger },
  );
  logger.flush();
  const messages = lines.map((l) => String(l.msg));
  assert.ok(
    messages.some((m) => /no longer forwarded/.test(m)),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => /is set again/.test(m)),
    messages.join('\n'),
  );
  const output = JSON.stringify(lines);
  for (const credential of ['T0SECRETPATH', 's3cr3t-query-token', 'T1SECRETPATH', 'an0ther-query-token']) {
    assert.ok(!output.includes(credential), `${credential} is logged: ${output}`);
  }
  for (const line of lines.filter((l) => l.url !== undefined)) assert.equal(line.url, 'http://127.0.0.1:9/…');
});

test('a start with the operator endpoint disabled names the enable and the replay that sends what it missed', async () => {
  const s = await store();
  const now = Date.now();
  const webhook = { url: 'http://127.0.0.1:9/ops', secret: SECRET };
  const target = await ensureOperatorEndpoint(s, webhook, { timeoutMs: 5_000, now });
  const forwarder = createForwarder({ store: s, operatorProjectId: target.projectId, clock: () => now + 3 });
  // The operator's receiver was down: its endpoint got disabled (by failures, or by hand: the same
  // for this), and a customer's endpoint was disabled after it. The forwarder accepts that one
  // into the operator project with no delivery: a disabled endpoint gets none.
  await s.updateEndpoint(target.projectId, target.endpointId, { active: false }, now + 1);
  const { project, endpoints } = await projectWithEndpoints(s, 1, now);
  await s.updateEndpoint(project.id, endpoints[0]!.id, { active: false }, now + 2);
  assert.equal(await forwarder.runOnce(), 2);
  const [missed] = (await s.listEvents(target.projectId, { limit: 10, type: 'endpoint.disabled' })).data;
  assert.equal((missed!.payload as { projectId: string }).projectId, project.id);
  assert.deepEqual((await s.getEvent(target.projectId, missed!.id))?.deliveries, []);

  const { logger, lines } = capturedLogger();
  await ensureOperatorEndpoint(s, webhook, { timeoutMs: 5_000, now: now + 4, log: logger });
  logger.flush();
  const warning = lines.find((l) => l.level === 40);
  const path = `/api/v1/projects/${OPERATOR_PROJECT_UID}/endpoints/${target.endpointId}`;
  const since = new Date(now + 1).toISOString();
  assert.ok(String(warning?.msg).includes(`POST ${path}/enable`), String(warning?.msg));
  assert.ok(String(warning?.msg).includes(`POST ${path}/replay {"since": "${since}"}`), String(warning?.msg));

  // Doing what it says gives the operator endpoint the operational event it missed.
  await s.enableEndpoint(target.projectId, target.endpointId, now + 5);
  const replay = await s.replayMissing(target.projectId, target.endpointId, {
    since: Date.parse(since),
    until: now + 5,
    now: now + 5,
    maxDeliveries: 1_000,
  });
  assert.equal(replay?.replayed, 1);
  assert.deepEqual(
    (await s.getEvent(target.projectId, missed!.id))?.deliveries.map((d) => d.endpointId),
    [target.endpointId],
  );
});

test('a new URL enables an operator endpoint its failures disabled, its parked deliveries with it; one a person disabled stays disabled', async () => {
  const s = await store();
  const now = Date.now();
  const target = await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/ops', secret: SECRET },
    { timeoutMs: 5_000, now },
  );
  const { logger, lines } = capturedLogger();
  // Disabled by its deliveries' failures at the old URL, as the dispatcher records them: one of two
  // deliveries fails with a threshold of 1; both are parked (the failed one waited for its retry).
  await s.acceptEvents(
    target.projectId,
    [eventInput('endpoint.disabled'), eventInput('endpoint.disabled')],
    now,
  );
  const [claimed] = await s.claimDueDeliveries({ limit: 1, leaseMs: 60_000, now, workerId: 'w1' });
  assert.ok(claimed);
  await s.recordAttempts(
    [attemptRecord(claimed.delivery, claimed.event, { outcome: 'failed', startedAt: now + 1 })],
    {
      now: now + 1,
      failureThreshold: 1,
    },
  );
  const disabled = await s.getEndpoint(target.projectId, target.endpointId);
  assert.equal(disabled?.status, 'disabled');
  assert.equal(disabled?.disabledReason, 'consecutive_failures');

  // The same URL again: still disabled (nothing the operator did answers the failures).
  await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/ops', secret: SECRET },
    { timeoutMs: 5_000, now: now + 2 },
  );
  assert.equal((await s.getEndpoint(target.projectId, target.endpointId))?.status, 'disabled');

  await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/new-ops', secret: SECRET },
    { timeoutMs: 5_000, now: now + 3, log: logger },
  );
  const enabled = await s.getEndpoint(target.projectId, target.endpointId);
  assert.equal(enabled?.status, 'active');
  assert.equal(enabled?.url, 'http://127.0.0.1:9/new-ops');
  logger.flush();
  const line = lines.find((l) => /enabled for the new one/.test(String(l.msg)));
  assert.ok(line, JSON.stringify(lines));
  assert.match(String(line.msg), /\(2 parked deliveries resumed\)/);
  assert.ok(
    String(line.msg).includes(`/replay {"since": "${new Date(now + 1).toISOString()}"}`),
    String(line.msg),
  );
  assert.ok(!lines.some((l) => l.level === 40), 'no "is disabled" warning once it is enabled');

  // Disabled by a person: a new URL does not overrule that.
  await s.updateEndpoint(target.projectId, target.endpointId, { active: false }, now + 4);
  await ensureOperatorEndpoint(
    s,
    { url: 'http://127.0.0.1:9/third-ops', secret: SECRET },
    { timeoutMs: 5_000, now: now + 5 },
  );
  const manual = await s.getEndpoint(target.projectId, target.endpointId);
  assert.equal(manual?.status, 'disabled');
  assert.equal(manual?.disabledReason, 'manual');
});

test('operational events too old to send are reported in a few lines, not one per batch', async () => {
  const { s, now, target, project, endpoints } = await operatorAndCustomer();
  // A month without the operator URL: 1,000 operational events recorded, all past 23 h when the
  // URL is set again (ten batches of the forwarder's 100).
  const old = now - STALE_MS - 3_600_000;
  for (let i = 0; i < 500; i++) {
    await s.updateEndpoint(project.id, endpoints[0]!.id, { active: false }, old + 2 * i);
    await s.enableEndpoint(project.id, endpoints[0]!.id, old + 2 * i + 1);
  }
  const warned: { fields: { count?: number }; message: string }[] = [];
  const forwarder = createForwarder({
    store: s,
    operatorProjectId: target.projectId,
    clock: () => now,
    log: {
      warn: (fields, message) => warned.push({ fields, message }),
      error: (f) => assert.fail(JSON.stringify(f)),
    },
  });
  let handled = 0;
  for (let n = await forwarder.runOnce(); n > 0; n = await forwarder.runOnce()) handled += n;
  assert.equal(handled, 1_000);
  assert.deepEqual(await s.listUnforwardedOperationalEvents(10), []);
  assert.equal((await s.listEvents(target.projectId, { limit: 10 })).data.length, 0, 'none sent');
  // The first batch at once, the rest together once the forwarder is through them.
  assert.ok(warned.length <= 2, `${warned.length} warn lines: ${JSON.stringify(warned.slice(0, 3))}`);
  assert.equal(
    warned.reduce((sum, w) => sum + (w.fields.count ?? 0), 0),
    1_000,
  );
});

test('the forwarder turns operational events into events of the operator project, once', async () => {
  const { s, now, target, project, endpoints } = await operatorAndCustomer();
  await s.updateProject(project.id, { uid: 'space-raiders' }, now);
  const ep = endpoints[0]!;
  // An old one (from before the webhook existed), then two fresh ones, and one about the operator
  // project's own endpoint, which must not be sent (it would go to the endpoint it is about).
  await s.updateEndpoint(project.id, ep.id, { active: false }, now - STALE_MS - 1_000);
  await s.enableEndpoint(project.id, ep.id, now - 10);
  await s.updateEndpoint(project.id, ep.id, { active: false }, now - 5);
  await s.updateEndpoint(target.projectId, target.endpointId, { active: false }, now - 1);
  await s.enableEndpoint(target.projectId, target.endpointId, now);

  const warned: string[] = [];
  const forwarder = createForwarder({
    store: s,
    operatorProjectId: target.projectId,
    clock: () => now,
    log: { warn: (_f, m) => warned.push(m), error: (f) => assert.fail(JSON.stringify(f)) },
  });
  assert.equal(await forwarder.runOnce(), 5);
  assert.equal(warned.length, 1, 'the stale one is reported, not sent');
  assert.equal(await forwarder.runOnce(), 0, 'all marked');
  const events = (await s.listEvents(target.projectId, { limit: 10 })).data;
  assert.deepEqual(
    events.map((e) => e.type),
    ['endpoint.disabled', 'endpoint.recovered'],
  );
  const disabled = events[0]!;
  assert.deepEqual(
    { ...(disabled.payload as Record<string, unknown>), operationalEventId: undefined },
    {
      endpointId: ep.id,
      reason: 'manual',
      consecutiveFailures: 0,
      parked: 0,
      projectId: project.id,
      projectUid: 'space-raiders',
      projectName: 'p',
      at: new Date(now - 5).toISOString(),
      operationalEventId: undefined,
    },
  );
  assert.equal((events[1]!.payload as Record<string, unknown>).reason, 'enabled');
  // Each became one delivery to the operator endpoint.
  const full = await s.getEvent(target.projectId, disabled.id);
  assert.deepEqual(
    full?.deliveries.map((d) => d.endpointId),
    [target.endpointId],
  );

  // Accepted but not marked (a crash in between): forwarding it again gives back the same event.
  await s.updateEndpoint(project.id, ep.id, { active: true }, now + 1);
  const [recovered] = await s.listUnforwardedOperationalEvents(10);
  assert.equal(recovered?.type, 'endpoint.recovered');
  const [first] = await s.acceptEvents(target.projectId, [operatorEvent(recovered!, null)], now + 2);
  assert.equal(await forwarder.runOnce(), 1);
  const after = (await s.listEvents(target.projectId, { limit: 10 })).data;
  assert.equal(after.length, 3, 'no second event for it');
  assert.equal(after[0]!.id, first!.event.id);
  assert.deepEqual(await s.listUnforwardedOperationalEvents(10), []);
});
