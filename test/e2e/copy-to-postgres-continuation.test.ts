/**
 * After `herald copy-to-postgres`, an installation caught in the middle of things goes on as it
 * would have on SQLite: a delivery between two retries gets its next attempt number at its
 * scheduled time and is failed when its schedule runs out; an endpoint one failure short of
 * HERALD_FAILURE_THRESHOLD is disabled by the next one; a disabled endpoint keeps its parked
 * deliveries until enabled; charts, page cursors, rate-limit state, idempotency keys, the enforced
 * catalog, portal links (revoked ones too), key scopes and the operator webhook's endpoint and
 * secret are what they were. The installation is built through the API of a `herald serve` on
 * SQLite with loopback receivers, stopped (SIGTERM), copied, and served from PostgreSQL with the
 * same settings, encryption key and admin token. The PostgreSQL database is one an operator may well
 * have: its collation a language's (ICU en-US), not the test clusters' C.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { verifyWebhook } from '@herald/verify';
import pg from 'pg';
import { type LocalPostgres, startPostgres } from '../support/postgres.ts';
import { api, type HeraldProcess, runHerald, startHerald } from './harness.ts';
import { eventually, type ScriptedReceiver, startScriptedReceiver } from './scripted-receiver.ts';

const ADMIN = 'copy-continuation-admin-token-0123456789';
const THRESHOLD = 5;
/**
 * The retried delivery's schedule: 2 attempts on SQLite, its 3rd due 12 s after the 2nd, on PostgreSQL. The
 * move (with the reads before it) took ~4 s on a loaded 2-core machine (its own assertion below says if it
 * ever comes within 2 s of the 3rd attempt); 20 s was waited out by the whole file. The 12 s is the
 * least: the gap is MOVE_IN_STARTS times as long as the SQLite serve took to start, where that is
 * longer (retryScheduleAfter).
 */
const RETRY_SCHEDULE = [1, 12, 2];
/**
 * The move starts two processes (the copy, then the PostgreSQL serve), with reads and a stop
 * between: at a load of 14-18 on 2 cores it took 2.5 and 4.1 times as long as the SQLite serve had
 * taken to start (35.6 s after 14.1 s, 27 s after 6.6 s), and 41 s in all where a fixed 12 s gap
 * failed the set-up's check (the copy done before the 3rd attempt was due), with nothing wrong.
 * Twice the most seen; at a load of 20 (a 17 s start, a 138 s gap) the move took 42 s.
 */
const MOVE_IN_STARTS = 8;
/** RETRY_SCHEDULE with its 2nd gap long enough for the move on a machine where a serve took `serveStartMs` to start. */
const retryScheduleAfter = (serveStartMs: number) =>
  RETRY_SCHEDULE.map((s, i) =>
    i === 1 ? Math.max(s, Math.ceil((MOVE_IN_STARTS * serveStartMs) / 1000)) : s,
  );
/** One request per 100 s: the token taken on SQLite is still spent after the copy. */
const RATE = { perSecond: 0.01, burst: 1 };
type Body = Record<string, unknown> & { id: string };
type Page = { data: Body[]; nextCursor: string | null };

let postgres: LocalPostgres;
let receiver: ScriptedReceiver;
const dataDir = mkdtempSync(join(tmpdir(), 'herald-copy-continuation-'));
const processes: HeraldProcess[] = [];
/** Status per receiver path; anything else answers 200. */
const answers = new Map<string, number>([
  ['/retry', 500],
  ['/fail', 500],
  ['/park', 500],
]);

const settings = () => ({
  HERALD_ADMIN_TOKEN: ADMIN,
  HERALD_ALLOW_NETWORKS: '127.0.0.0/8',
  HERALD_FAILURE_THRESHOLD: String(THRESHOLD),
  HERALD_RETRY_JITTER: '0',
  HERALD_OPERATOR_WEBHOOK_URL: `${receiver.url}/operator`,
});
const serve = async (env: Record<string, string>, role = 'all') => {
  const p = await startHerald({
    dataDir,
    env: { ...settings(), ...env },
    args: ['--role', role],
  });
  processes.push(p);
  return p;
};
/** A new database whose text sorts as English does (ICU en-US: 'a' < 'B'), as `createdb` on a host with such a locale makes. */
async function englishDatabase(): Promise<string> {
  const name = `herald_en_${Date.now()}`;
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    await client.query(
      `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
    );
  } finally {
    await client.end();
  }
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}
const hitsOf = (path: string) => receiver.hits.filter((h) => h.url === path);

/** What the test reads of the installation on SQLite, to compare with PostgreSQL's answers. */
interface Before {
  p: string;
  key: string;
  readKey: string;
  portal: string;
  revokedPortal: string;
  ids: Record<'retry' | 'fail' | 'park' | 'ok' | 'rate', string>;
  /** The retried delivery, and when its 3rd attempt was due as SQLite scheduled it. */
  retryDelivery: string;
  retryDueAt: number;
  rateSentAt: number;
  idempotentEvent: string;
  windows: string[];
  stats: Record<string, unknown>;
  /** Path of a second page (with the cursor page 1 gave) and what it held. */
  pages: { path: string; page: Page }[];
  operator: { endpoint: Body; secret: string };
}
let was: Before;
let pgServe: HeraldProcess;

before(async () => {
  postgres = await startPostgres();
  receiver = await startScriptedReceiver((hit) => ({ status: answers.get(hit.url) ?? 200 }));
  const serveStarted = Date.now();
  const sqlite = await serve({});
  const retrySchedule = retryScheduleAfter(Date.now() - serveStarted);
  const admin = <T = Body>(method: string, path: string, body?: unknown) =>
    api<T>(sqlite.url, ADMIN, method, path, body);
  const started = Date.now();
  const project = (
    await admin('POST', '/api/v1/projects', { name: 'moving', uid: 'moving', enforceCatalog: true })
  ).body;
  const p = `/api/v1/projects/${project.id}`;
  const key = (await admin<{ key: string }>('POST', `${p}/api-keys`, { name: 'platform' })).body.key;
  const readKey = (await admin<{ key: string }>('POST', `${p}/api-keys`, { name: 'charts', scope: 'read' }))
    .body.key;
  // Names whose order is not the same in every collation: 'Z' < 'a' by code point, not in English.
  for (const type of ['retry.x', 'fail.x', 'park.x', 'ok.x', 'rate.x', 'PlayerPurchase', 'Zone.entered']) {
    const put = await admin('PUT', `/api/v1/event-types/${type}`, {
      schema: { type: 'object', required: ['n'] },
      example: { n: 1 },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
  }
  const endpoint = async (name: keyof Before['ids'], extra: Record<string, unknown>) => {
    const r = await admin('POST', `${p}/endpoints`, {
      url: `${receiver.url}/${name}`,
      eventTypes: [`${name}.x`],
      ...extra,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id;
  };
  const ids = {
    retry: await endpoint('retry', { retrySchedule }),
    fail: await endpoint('fail', { retrySchedule: [] }),
    park: await endpoint('park', { retrySchedule: [300] }),
    ok: await endpoint('ok', {}),
    rate: await endpoint('rate', { rateLimit: RATE }),
  };
  const send = async (type: string, extra: Record<string, unknown> = {}) => {
    const r = await api<Body>(sqlite.url, key, 'POST', `${p}/events`, { type, payload: { n: 1 }, ...extra });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body;
  };
  const retryEvent = await send('retry.x');
  for (let i = 0; i < THRESHOLD - 1; i++) await send('fail.x');
  for (let i = 0; i < THRESHOLD; i++) await send('park.x');
  const idempotent = await send('ok.x', { idempotencyKey: 'order-1' });
  for (let i = 0; i < 4; i++) await send('ok.x');
  await send('rate.x');
  const get = async <T = Body>(path: string, token = ADMIN) => {
    const r = await api<T>(sqlite.url, token, 'GET', path);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const endpointOf = (id: string) => get(`${p}/endpoints/${id}`);
  const retryDelivery = await eventually(
    async () => {
      const event = await get<{ deliveries: Body[] }>(`${p}/events/${retryEvent.id}`);
      const d = event.deliveries[0]!;
      return d.attempts === 2 && d.status === 'pending' && d.inFlight === false ? d : undefined;
    },
    30_000,
    'the retried delivery at its 2nd attempt',
  );
  await eventually(
    async () => ((await endpointOf(ids.fail)).consecutiveFailures === THRESHOLD - 1 ? true : undefined),
    30_000,
    `the failing endpoint at ${THRESHOLD - 1} failures`,
  );
  await eventually(
    async () => {
      const page = await get<Page & { counts: { parked: number } }>(
        `${p}/endpoints/${ids.park}/deliveries?status=parked`,
      );
      return (await endpointOf(ids.park)).status === 'disabled' && page.counts.parked === THRESHOLD
        ? true
        : undefined;
    },
    30_000,
    'the parking endpoint disabled with its deliveries parked',
  );
  await eventually(
    async () => (hitsOf('/ok').length === 5 && hitsOf('/rate').length === 1 ? true : undefined),
    30_000,
    'the ok and rate-limited deliveries',
  );
  await eventually(
    async () =>
      receiver.hits.some((h) => h.url === '/operator' && h.body.includes('endpoint.disabled'))
        ? true
        : undefined,
    30_000,
    'the operator webhook told of the disable',
  );
  assert.equal(hitsOf('/retry').length, 2);

  // A link revoked on SQLite stays revoked; one made after the revocation works.
  const revokedPortal = (await admin<{ token: string }>('POST', `${p}/portal-links`, {})).body.token;
  assert.equal((await admin('DELETE', `${p}/portal-links`)).status, 204);
  const livePortal = (await admin<{ token: string }>('POST', `${p}/portal-links`, {})).body.token;

  const until = new Date().toISOString();
  const since = new Date(started - 3_600_000).toISOString();
  const windows = ['1m', '5m', '1h', '1d'].map((bucket) => `since=${since}&until=${until}&bucket=${bucket}`);
  const stats: Record<string, unknown> = {};
  for (const id of Object.values(ids)) {
    for (const w of windows) stats[`${id}?${w}`] = await get(`${p}/endpoints/${id}/stats?${w}`, readKey);
  }
  const pages: Before['pages'] = [];
  for (const first of [
    `${p}/events?limit=2`,
    `${p}/events?limit=2&type=park.x`,
    `${p}/endpoints/${ids.ok}/attempts?limit=2`,
    `${p}/endpoints/${ids.park}/attempts?limit=2&status=failed`,
    `${p}/endpoints/${ids.park}/deliveries?status=parked&limit=2`,
    `${p}/endpoints?limit=2`,
    '/api/v1/event-types?limit=2',
    `${p}/operational-events?limit=1`,
  ]) {
    const one = await get<Page>(first);
    assert.ok(one.nextCursor, `${first} has a second page`);
    const path = `${first}&cursor=${one.nextCursor}`;
    pages.push({ path, page: await get<Page>(path) });
  }
  const operatorEndpoints = await get<Page>('/api/v1/projects/herald-operator/endpoints');
  assert.equal(operatorEndpoints.data.length, 1);
  const operatorEndpoint = operatorEndpoints.data[0]!;
  const operatorSecret = (
    await get<{ secret: string }>(`/api/v1/projects/herald-operator/endpoints/${operatorEndpoint.id}/secret`)
  ).secret;
  was = {
    p,
    key,
    readKey,
    portal: livePortal,
    revokedPortal,
    ids,
    retryDelivery: retryDelivery.id,
    retryDueAt: Date.parse(String(retryDelivery.nextAttemptAt)),
    rateSentAt: hitsOf('/rate')[0]!.at,
    idempotentEvent: idempotent.id,
    windows,
    stats,
    pages,
    operator: { endpoint: operatorEndpoint, secret: operatorSecret },
  };
  assert.equal((await api(sqlite.url, livePortal, 'GET', `${p}/endpoints`)).status, 200);
  assert.equal((await api(sqlite.url, revokedPortal, 'GET', `${p}/endpoints`)).status, 401);

  // The move, as operations.md says: stop, copy, serve PostgreSQL with the same key and token.
  assert.equal((await sqlite.kill('SIGTERM')).code, 0);
  const target = await englishDatabase();
  const copied = await runHerald(['copy-to-postgres', '--to', target], { env: { HERALD_DATA_DIR: dataDir } });
  assert.equal(copied.code, 0, copied.stdout + copied.stderr);
  const encryptionKey = readFileSync(join(dataDir, 'encryption-key'), 'utf8').trim();
  pgServe = await serve({ HERALD_DATABASE_URL: target, HERALD_ENCRYPTION_KEY: encryptionKey });
  assert.ok(Date.now() < was.retryDueAt - 2_000, 'the copy was done before the 3rd attempt was due');
});

after(async () => {
  await Promise.all(processes.map((p) => p.dispose()));
  await receiver?.close();
  await postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const pgApi = <T = Body>(method: string, path: string, body?: unknown, token = ADMIN) =>
  api<T>(pgServe.url, token, method, path, body);

test('charts: every window and bucket of every endpoint counts what SQLite counted', async () => {
  for (const [path, expected] of Object.entries(was.stats)) {
    const [id, query] = path.split('?') as [string, string];
    const r = await pgApi('GET', `${was.p}/endpoints/${id}/stats?${query}`, undefined, was.readKey);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, expected, path);
  }
});

test("page cursors made on SQLite give PostgreSQL's second page as SQLite gave it", async () => {
  for (const { path, page } of was.pages) {
    const r = await pgApi<Page>('GET', path);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    assert.deepEqual(
      r.body.data.map((d) => d.id ?? d.name),
      page.data.map((d) => d.id ?? d.name),
      path,
    );
  }
  // Another list's cursor is a clear 400, as on SQLite.
  const parkedCursor = was.pages.find((x) => x.path.includes('/deliveries?'))!.path.split('cursor=')[1];
  const wrong = await pgApi('GET', `${was.p}/events?limit=2&cursor=${parkedCursor}`);
  assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
});

test('idempotency keys, the enforced catalog, key scopes and portal links carry over', async () => {
  const again = await pgApi<Body>(
    'POST',
    `${was.p}/events`,
    { type: 'ok.x', payload: { n: 2 }, idempotencyKey: 'order-1' },
    was.key,
  );
  assert.equal(again.status, 202, JSON.stringify(again.body));
  assert.equal(again.body.id, was.idempotentEvent);
  const unknown = await pgApi('POST', `${was.p}/events`, { type: 'nope.x', payload: {} }, was.key);
  assert.equal(unknown.status, 422, JSON.stringify(unknown.body));
  assert.equal((await pgApi('GET', `${was.p}/events?limit=1`, undefined, was.readKey)).status, 200);
  const refused = await pgApi('POST', `${was.p}/events`, { type: 'ok.x', payload: { n: 1 } }, was.readKey);
  assert.equal(refused.status, 403, JSON.stringify(refused.body));
  assert.equal((await pgApi('GET', `${was.p}/endpoints`, undefined, was.portal)).status, 200);
  assert.equal((await pgApi('GET', `${was.p}/endpoints`, undefined, was.revokedPortal)).status, 401);
});

test("a rate-limited endpoint's spent token stays spent", async () => {
  const sent = await pgApi<Body & { deliveries: Body[] }>(
    'POST',
    `${was.p}/events`,
    { type: 'rate.x', payload: { n: 3 } },
    was.key,
  );
  assert.equal(sent.status, 202);
  const intervalMs = 1000 / RATE.perSecond;
  const deferred = await eventually(
    async () => {
      const d = (await pgApi<Body>('GET', `${was.p}/deliveries/${sent.body.deliveries[0]!.id}`)).body;
      // Put back for its token, not claimed (a claimed one shows its lease's end).
      return d.inFlight === false && Date.parse(String(d.nextAttemptAt)) > Date.now() + 5_000 ? d : undefined;
    },
    10_000,
    'the delivery deferred by the rate limit',
  );
  assert.equal(hitsOf('/rate').length, 1, 'not sent before its token');
  assert.ok(
    Math.abs(Date.parse(String(deferred.nextAttemptAt)) - (was.rateSentAt + intervalMs)) < 2_000,
    `due at ${deferred.nextAttemptAt}, ${intervalMs} ms after the send on SQLite at ${new Date(was.rateSentAt).toISOString()}`,
  );
});

test('the operator webhook keeps its endpoint and secret: a disable after the copy is signed as before', async () => {
  const list = await pgApi<Page>('GET', '/api/v1/projects/herald-operator/endpoints');
  assert.deepEqual(
    list.body.data.map((e) => e.id),
    [was.operator.endpoint.id],
  );
  const secret = await pgApi<{ secret: string }>(
    'GET',
    `/api/v1/projects/herald-operator/endpoints/${was.operator.endpoint.id}/secret`,
  );
  assert.equal(secret.body.secret, was.operator.secret);
});

test('an endpoint one failure short of the threshold is disabled by the next failure', async () => {
  const operatorBefore = hitsOf('/operator').length;
  const sent = await pgApi('POST', `${was.p}/events`, { type: 'fail.x', payload: { n: 4 } }, was.key);
  assert.equal(sent.status, 202);
  const ep = await eventually(
    async () => {
      const e = (await pgApi<Body>('GET', `${was.p}/endpoints/${was.ids.fail}`)).body;
      return e.status === 'disabled' ? e : undefined;
    },
    20_000,
    'the failing endpoint disabled',
  );
  assert.equal(ep.consecutiveFailures, THRESHOLD);
  assert.equal(hitsOf('/fail').length, THRESHOLD);
  const told = await eventually(
    async () =>
      hitsOf('/operator')
        .slice(operatorBefore)
        .find((h) => h.body.includes(was.ids.fail)),
    20_000,
    'the operator webhook told of the disable',
  );
  verifyWebhook({
    scheme: 'standard',
    payload: told.body,
    headers: told.headers as Record<string, string>,
    secret: was.operator.secret,
  });
});

test('a disabled endpoint stays disabled with its parked deliveries; enabling it sends them', async () => {
  const ep = (await pgApi<Body>('GET', `${was.p}/endpoints/${was.ids.park}`)).body;
  assert.equal(ep.status, 'disabled');
  const parked = await pgApi<Page & { counts: { parked: number; pending: number } }>(
    'GET',
    `${was.p}/endpoints/${was.ids.park}/deliveries?status=parked`,
  );
  assert.equal(parked.body.counts.parked, THRESHOLD);
  assert.equal(parked.body.counts.pending, 0);
  assert.equal(hitsOf('/park').length, THRESHOLD, 'nothing sent to it while disabled');
  answers.set('/park', 200);
  assert.equal((await pgApi('POST', `${was.p}/endpoints/${was.ids.park}/enable`)).status, 200);
  await eventually(
    async () => (hitsOf('/park').length === 2 * THRESHOLD ? true : undefined),
    20_000,
    'the parked deliveries sent',
  );
  await eventually(
    async () => {
      const d = await pgApi<Page & { counts: { parked: number; pending: number } }>(
        'GET',
        `${was.p}/endpoints/${was.ids.park}/deliveries`,
      );
      return d.body.counts.parked === 0 && d.body.counts.pending === 0 ? true : undefined;
    },
    20_000,
    'nothing left waiting',
  );
});

test('a delivery between retries gets attempt 3 at its scheduled time, then 4, then is failed', async () => {
  const [third, fourth] = await eventually(
    async () => {
      const hits = hitsOf('/retry');
      return hits.length >= 4 ? hits.slice(2) : undefined;
    },
    was.retryDueAt - Date.now() + 20_000,
    'the 3rd and 4th attempts',
  );
  assert.ok(
    third!.at >= was.retryDueAt - 50 && third!.at < was.retryDueAt + 3_000,
    `3rd attempt at ${new Date(third!.at).toISOString()}, due at ${new Date(was.retryDueAt).toISOString()}`,
  );
  const gap = fourth!.at - third!.at;
  assert.ok(
    gap >= RETRY_SCHEDULE[2]! * 1000 - 50 && gap < RETRY_SCHEDULE[2]! * 1000 + 3_000,
    `gap ${gap} ms`,
  );
  const delivery = await eventually(
    async () => {
      const d = (await pgApi<Body>('GET', `${was.p}/deliveries/${was.retryDelivery}`)).body;
      return d.status === 'failed' ? d : undefined;
    },
    10_000,
    'the delivery failed',
  );
  assert.equal(delivery.attempts, RETRY_SCHEDULE.length + 1);
  assert.equal(delivery.nextAttemptAt, null);
  const event = (await pgApi<{ deliveries: Body[] }>('GET', `${was.p}/events/${delivery.eventId}`)).body;
  const attempts = (await pgApi<Page>('GET', `${was.p}/events/${delivery.eventId}/attempts`)).body.data;
  assert.deepEqual(attempts.map((a) => a.number).sort(), [1, 2, 3, 4]);
  assert.equal(event.deliveries[0]!.status, 'failed');
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(hitsOf('/retry').length, RETRY_SCHEDULE.length + 1, 'no attempt past the schedule');
});
